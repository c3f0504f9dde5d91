"""Word and PowerPoint through unstructured, offline."""

from __future__ import annotations

import io
import zipfile

import pytest

from core.errors import DocumentUnparseable
from core.types import Element
from ingest.parse import DOCX, PPTX, office, parse_document

from ._make import SECRET, docx_bytes, pptx_bytes, raw


def parse(content: bytes, mime_type: str) -> list[Element]:
    return parse_document(raw(content, mime_type), max_bytes=10_000_000)


def test_docx_title_style_is_the_title_and_heading_styles_give_levels() -> None:
    elements = parse(docx_bytes(), DOCX)

    assert [(e.kind, e.text, e.level) for e in elements if e.kind in ("title", "heading")] == [
        ("title", "Employee Handbook", 0),
        ("heading", "Leave policy", 1),
        ("heading", "Sick leave", 2),
    ]


def test_docx_lists_and_tables_keep_their_shape() -> None:
    elements = parse(docx_bytes(), DOCX)

    assert Element(kind="list", text="- First bullet\n- Second bullet") in elements
    assert Element(kind="table", text="Grade | Days\nJunior | 20\nSenior | 25") in elements


def test_docx_running_header_is_dropped() -> None:
    assert all("Acme internal header" not in e.text for e in parse(docx_bytes(), DOCX))


def test_pptx_slide_titles_are_top_level_headings_and_body_lines_are_not() -> None:
    elements = parse(pptx_bytes(), PPTX)

    assert elements == [
        Element(kind="heading", text="Quarterly results", level=1),
        Element(kind="paragraph", text="Revenue grew twelve percent"),
        Element(kind="paragraph", text="Key markets"),
        Element(kind="heading", text="Numbers", level=1),
        Element(kind="table", text="Region | Sales\nEMEA | 4.2"),
    ]


@pytest.mark.parametrize("mime", [DOCX, PPTX])
@pytest.mark.parametrize(
    "content",
    [b"this is not a zip at all", b"PK\x03\x04 truncated zip", f"text {SECRET}".encode()],
)
def test_corrupt_office_file_is_unparseable_without_quoting_it(mime: str, content: bytes) -> None:
    with pytest.raises(DocumentUnparseable) as caught:
        parse(content, mime)

    assert caught.value.code == "document_unparseable"
    assert SECRET not in str(caught.value)


def test_zip_that_is_not_a_word_document_is_unparseable() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("hello.txt", "not a word document")

    with pytest.raises(DocumentUnparseable, match="DOCX"):
        parse(buffer.getvalue(), DOCX)


def test_package_expanding_past_the_limit_is_refused_before_inflating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(office, "MAX_UNZIPPED_BYTES", 1000)

    with pytest.raises(DocumentUnparseable, match="expand"):
        parse(docx_bytes(), DOCX)
