"""Plain text and the byte-level checks shared by the text formats (txt, md, html)."""

from __future__ import annotations

import codecs

import pytest

from core.errors import DocumentEmpty, DocumentEncodingError, DocumentUnparseable
from core.types import Element
from ingest.parse import parse_document

from ._make import SECRET, raw

LIMIT = 1_000_000


def parse_txt(content: bytes, mime_type: str = "text/plain") -> list[Element]:
    return parse_document(raw(content, mime_type), max_bytes=LIMIT)


def test_blank_lines_separate_paragraphs_and_wrapped_lines_stay_together() -> None:
    text = b"First paragraph\nwrapped here.\n\n\n  Second paragraph.  \r\n\r\nThird.\n"

    elements = parse_txt(text)

    assert elements == [
        Element(kind="paragraph", text="First paragraph\nwrapped here."),
        Element(kind="paragraph", text="Second paragraph."),
        Element(kind="paragraph", text="Third."),
    ]


def test_a_block_of_bullet_lines_is_a_list() -> None:
    elements = parse_txt(b"Shopping:\n\n- eggs\n- milk\n\n1. first\n2) second\n")

    assert [e.kind for e in elements] == ["paragraph", "list", "list"]


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
     (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF32_LE, "utf-32-le")],
)
def test_byte_order_mark_selects_the_encoding_and_is_not_text(bom: bytes, codec: str) -> None:
    elements = parse_txt(bom + "Café au lait.\n\nZürich".encode(codec))

    assert [e.text for e in elements] == ["Café au lait.", "Zürich"]


def test_charset_parameter_of_the_mime_type_is_honoured() -> None:
    elements = parse_txt("Café".encode("latin-1"), "text/plain; charset=ISO-8859-1")

    assert elements[0].text == "Café"


def test_invalid_utf8_is_an_encoding_error_that_names_the_byte_offset() -> None:
    content = f"{SECRET} is fine until here: ".encode() + b"\xff\xfe oops"

    with pytest.raises(DocumentEncodingError) as caught:
        parse_txt(content)

    offset = content.index(b"\xff")
    assert caught.value.code == "document_encoding_invalid"
    assert f"not valid UTF-8 at byte {offset}" in caught.value.message
    assert SECRET not in str(caught.value)


def test_invalid_utf8_in_markdown_and_html_is_an_encoding_error_too() -> None:
    for mime in ("text/markdown", "text/html"):
        with pytest.raises(DocumentEncodingError, match="at byte 2"):
            parse_txt(b"ab\xc3(cd", mime)


def test_unknown_charset_is_an_encoding_error() -> None:
    with pytest.raises(DocumentEncodingError, match="unknown charset"):
        parse_txt(b"hello", "text/plain; charset=klingon-8")


def test_binary_file_named_txt_is_unparseable() -> None:
    png_like = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4

    with pytest.raises(DocumentUnparseable, match="binary"):
        parse_txt(png_like)


def test_valid_utf8_that_is_mostly_control_characters_is_unparseable() -> None:
    with pytest.raises(DocumentUnparseable, match="binary"):
        parse_txt(b"ab\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 10)


def test_text_with_nul_bytes_is_unparseable_even_when_it_decodes() -> None:
    with pytest.raises(DocumentUnparseable):
        parse_txt(f"{SECRET}\x00 rest of the text".encode())


def test_empty_file_is_empty() -> None:
    with pytest.raises(DocumentEmpty) as caught:
        parse_txt(b"")

    assert caught.value.code == "document_empty"


@pytest.mark.parametrize("mime", ["text/plain", "text/markdown", "text/html"])
def test_whitespace_only_file_is_empty(mime: str) -> None:
    with pytest.raises(DocumentEmpty):
        parse_txt(b" \n\n\t \r\n ", mime)
