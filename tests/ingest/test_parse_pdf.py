"""PDF through pypdfium2: paragraphs and headings from the text layer's layout."""

from __future__ import annotations

import pytest

from core.errors import DocumentEmpty, DocumentUnparseable
from core.types import Element
from ingest.parse import parse_document

from ._make import SECRET, blank_pdf_bytes, pdf_bytes, raw


def parse(content: bytes) -> list[Element]:
    return parse_document(raw(content, "application/pdf"), max_bytes=10_000_000)


def test_pdf_headings_are_ranked_by_font_size() -> None:
    headings = [(e.text, e.level) for e in parse(pdf_bytes()) if e.kind == "heading"]

    assert headings == [("Travel Policy", 1), ("Booking", 2), ("Expenses", 3)]


def test_pdf_wrapped_lines_of_a_paragraph_stay_one_paragraph() -> None:
    paragraphs = [e.text for e in parse(pdf_bytes()) if e.kind == "paragraph"]

    assert len(paragraphs) == 3
    assert paragraphs[0].count("Book travel through the portal") == 4
    assert "\n" in paragraphs[0]
    assert paragraphs[2] == "Submit receipts within thirty days."


def test_corrupt_pdf_is_recorded_as_unparseable() -> None:
    content = b"%PDF-1.7\n" + f"garbage {SECRET} ".encode() * 50

    with pytest.raises(DocumentUnparseable) as caught:
        parse(content)

    assert caught.value.code == "document_unparseable"
    assert SECRET not in str(caught.value)


def test_file_that_is_not_a_pdf_at_all_is_unparseable() -> None:
    with pytest.raises(DocumentUnparseable):
        parse(b"<html>definitely not a pdf</html>")


def test_password_protected_pdf_is_unparseable() -> None:
    with pytest.raises(DocumentUnparseable, match="password"):
        parse(pdf_bytes(encrypt="s3cret"))


def test_pdf_without_a_text_layer_is_empty() -> None:
    with pytest.raises(DocumentEmpty):
        parse(blank_pdf_bytes())
