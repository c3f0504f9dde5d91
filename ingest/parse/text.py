"""Plain text: blocks separated by blank lines become paragraphs (or lists).

Our own parser rather than unstructured's ``partition_text``: that one guesses titles from
short lines (it split a hard-wrapped paragraph into a "title" and a remainder) and took
about 3 s for 150 KB, where this takes milliseconds.
"""

from __future__ import annotations

import re

from core.types import Element

from ._text import decode_text

_BLANK_LINES = re.compile(r"\n[ \t\f\v]*\n\s*")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6\u2043]|\d{1,3}[.)])\s+\S")


class PlainTextParser:
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        text = decode_text(content, mime_type=mime_type)
        return [_element(block) for block in _blocks(text)]


def _blocks(text: str) -> list[str]:
    blocks = (block.strip() for block in _BLANK_LINES.split(text))
    return [block for block in blocks if block]


def _element(block: str) -> Element:
    lines = block.split("\n")
    if all(_BULLET.match(line) for line in lines):
        return Element(kind="list", text=block)
    return Element(kind="paragraph", text=block)
