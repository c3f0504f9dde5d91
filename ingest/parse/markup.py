"""Markdown and HTML through unstructured (headings h1-h6 / ``#``, lists, tables).

The bytes are decoded by ``_text.decode_text`` first, so encoding errors and binaries are
reported the same way as for plain text. Language detection is switched off
(``languages=[""]``): we do not use it and it cost a third of the partition time.
"""

from __future__ import annotations

import importlib

from core.errors import DocumentUnparseable
from core.types import Element

from ._elements import to_elements
from ._offline import prepare_unstructured
from ._text import decode_text


class _MarkupParser:
    """Decode, then one unstructured partition function (imported on first use)."""

    name: str
    module: str
    function: str

    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        text = decode_text(content, mime_type=mime_type)
        if not text.strip():
            return []
        prepare_unstructured()
        partition = getattr(importlib.import_module(self.module), self.function)
        try:
            found = partition(text=text, languages=[""])
        except Exception as exc:
            raise DocumentUnparseable(
                f"could not parse {self.name} ({type(exc).__name__})") from exc
        return to_elements(found)


class MarkdownParser(_MarkupParser):
    name, module, function = "Markdown", "unstructured.partition.md", "partition_md"


class HtmlParser(_MarkupParser):
    name, module, function = "HTML", "unstructured.partition.html", "partition_html"
