"""The ``Parser`` seam: the bytes of one document in, its structural elements out.

A parser gets content that ``parse_document`` has already checked for size and emptiness,
and the document's full MIME type (parameters such as ``charset`` included). It raises a
``core.errors.DocumentError`` subclass for input it cannot read, translated at its own edge
(``raise ... from exc``), with a message that never quotes the document's text.
"""

from __future__ import annotations

from typing import Protocol

from core.types import Element


class Parser(Protocol):
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        """The document's elements in reading order (empty if it holds no text)."""
        ...
