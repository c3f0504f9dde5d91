"""parse_document's shared checks, the parser registry and the extension map."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.errors import DocumentEmpty, DocumentTooLarge, UnsupportedMimeType
from core.types import Element
from ingest.parse import (
    DOCX,
    PPTX,
    mime_type_for,
    parse_document,
    parser_for,
    register_parser,
    registry,
    supported_mime_types,
)

from ._make import HTML, MARKDOWN, SECRET, docx_bytes, pdf_bytes, pptx_bytes, raw

SAMPLES = {
    "text/plain": lambda: f"Plain text. {SECRET}\n\nSecond paragraph.".encode(),
    "text/markdown": MARKDOWN.encode,
    "text/html": HTML.encode,
    DOCX: docx_bytes,
    PPTX: pptx_bytes,
    "application/pdf": pdf_bytes,
}


@pytest.mark.parametrize("mime", sorted(SAMPLES))
def test_every_supported_type_parses_to_clean_elements(mime: str) -> None:
    elements = parse_document(raw(SAMPLES[mime](), mime), max_bytes=10_000_000)

    assert elements
    assert all(e.text and e.text == e.text.strip() for e in elements)
    assert all(e.kind in ("title", "heading", "paragraph", "table", "list") for e in elements)
    assert all((e.level >= 1) == (e.kind == "heading") for e in elements)


@pytest.mark.parametrize("mime", sorted(SAMPLES))
def test_oversize_document_is_refused_as_payload_too_large(mime: str) -> None:
    content = SAMPLES[mime]()

    with pytest.raises(DocumentTooLarge) as caught:
        parse_document(raw(content, mime), max_bytes=len(content) - 1)

    assert caught.value.code == "payload_too_large"
    assert str(len(content)) in caught.value.message


def test_size_is_checked_before_the_type() -> None:
    with pytest.raises(DocumentTooLarge):
        parse_document(raw(b"x" * 11, "application/x-unknown"), max_bytes=10)


def test_unknown_mime_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedMimeType) as caught:
        parse_document(raw(b"a,b\n1,2", "text/csv"), max_bytes=100)

    assert caught.value.code == "unsupported_mime_type"
    assert "text/plain" in caught.value.message


def test_mime_type_matching_ignores_case_and_parameters() -> None:
    elements = parse_document(raw(b"hello", "Text/Plain; charset=UTF-8"), max_bytes=100)

    assert elements == [Element(kind="paragraph", text="hello")]


@pytest.mark.parametrize(
    ("name", "mime"),
    [("notes.txt", "text/plain"), ("README.MD", "text/markdown"), ("a/b/page.htm", "text/html"),
     ("page.html", "text/html"), ("report.pdf", "application/pdf"), ("memo.docx", DOCX),
     ("deck.pptx", PPTX), (Path("x") / "y.markdown", "text/markdown"),
     ("archive.zip", None), ("Makefile", None), ("old.doc", None)],
)
def test_mime_type_for_maps_extensions(name: str | Path, mime: str | None) -> None:
    assert mime_type_for(name) == mime


class _CsvParser:
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        rows = content.decode().splitlines()
        return [Element(kind="table", text="\n".join(r.replace(",", " | ") for r in rows))]


def test_a_new_parser_registers_like_the_built_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_PARSERS", dict(registry._PARSERS))
    monkeypatch.setattr(registry, "_EXTENSIONS", dict(registry._EXTENSIONS))

    register_parser("text/csv", _CsvParser(), extensions=[".csv"])

    assert mime_type_for("data.CSV") == "text/csv"
    assert "text/csv" in supported_mime_types()
    assert isinstance(parser_for("text/csv; header=present"), _CsvParser)
    assert parse_document(raw(b"a,b\n1,2", "text/csv"), max_bytes=100) == [
        Element(kind="table", text="a | b\n1 | 2")
    ]


class _EmptyishParser:
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        return [Element(kind="paragraph", text="  \n "),
                Element(kind="heading", text=" Hi ", level=1)]


def test_parser_output_is_stripped_and_blank_elements_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "_PARSERS", dict(registry._PARSERS))
    register_parser("application/x-test", _EmptyishParser())

    assert parse_document(raw(b"x", "application/x-test"), max_bytes=10) == [
        Element(kind="heading", text="Hi", level=1)
    ]


def test_zero_bytes_is_empty_for_binary_formats_too() -> None:
    with pytest.raises(DocumentEmpty):
        parse_document(raw(b"", DOCX), max_bytes=10)


def test_small_text_and_markdown_parse_in_milliseconds_once_warm() -> None:
    text, markdown = raw(b"Hello.\n\nWorld.", "text/plain"), raw(b"# A\n\nb", "text/markdown")
    parse_document(markdown, max_bytes=1000)  # warm-up: first unstructured import

    started = time.perf_counter()
    for _ in range(20):
        parse_document(text, max_bytes=1000)
    text_ms = (time.perf_counter() - started) * 1000 / 20
    started = time.perf_counter()
    for _ in range(20):
        parse_document(markdown, max_bytes=1000)
    markdown_ms = (time.perf_counter() - started) * 1000 / 20

    assert text_ms < 5, f"plain text took {text_ms:.2f} ms"
    assert markdown_ms < 50, f"markdown took {markdown_ms:.2f} ms"
