"""Markdown and HTML through unstructured: headings with levels, lists, tables."""

from __future__ import annotations

import pytest

from core.errors import DocumentEmpty
from core.types import Element
from ingest.parse import parse_document

from ._make import HTML, MARKDOWN, raw


def parse(text: str, mime_type: str) -> list[Element]:
    return parse_document(raw(text.encode(), mime_type), max_bytes=1_000_000)


def test_markdown_headings_keep_their_levels() -> None:
    headings = [(e.text, e.level) for e in parse(MARKDOWN, "text/markdown") if e.kind == "heading"]

    assert headings == [("Onboarding", 1), ("First week", 2), ("Tools", 3)]


def test_markdown_list_items_become_one_list_element_with_nesting() -> None:
    lists = [e.text for e in parse(MARKDOWN, "text/markdown") if e.kind == "list"]

    assert len(lists) == 1
    assert lists[0].startswith("- Meet your buddy\n- Set up your laptop")
    assert "Install the VPN" in lists[0]


def test_markdown_table_is_one_element_with_a_row_per_line() -> None:
    tables = [e.text for e in parse(MARKDOWN, "text/markdown") if e.kind == "table"]

    assert tables == ["Day | Task\nMon | Laptop\nTue | Training"]


def test_markdown_inline_formatting_is_reduced_to_text() -> None:
    elements = parse("Some **bold** and `code` and [a link](http://x.test).", "text/markdown")

    assert elements == [Element(kind="paragraph", text="Some bold and code and a link.")]


def test_html_reads_headings_paragraphs_lists_and_tables_in_order() -> None:
    elements = parse(HTML, "text/html")

    assert [(e.kind, e.level) for e in elements] == [
        ("heading", 1), ("paragraph", 0), ("heading", 2), ("paragraph", 0),
        ("list", 0), ("table", 0), ("heading", 3), ("paragraph", 0),
    ]
    assert elements[5].text == "Level | Response\nHigh | 1 hour"
    assert elements[4].text == "- Never reuse\n- Rotate yearly"


def test_html_scripts_and_head_are_not_text() -> None:
    texts = " ".join(e.text for e in parse(HTML, "text/html"))

    assert "tracking" not in texts
    assert "Ignored head title" not in texts


def test_html_without_body_text_is_empty() -> None:
    with pytest.raises(DocumentEmpty):
        parse("<html><head><script>x = 1</script></head><body> </body></html>", "text/html")


def test_xhtml_mime_type_and_charset_parameters_are_accepted() -> None:
    elements = parse("<h1>Hi</h1><p>there</p>", "application/xhtml+xml; charset=utf-8")

    assert [e.kind for e in elements] == ["heading", "paragraph"]
