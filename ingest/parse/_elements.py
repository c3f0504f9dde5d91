"""unstructured's elements to ours: five kinds, heading levels, tables as rows, lists merged.

- ``Title`` becomes a heading at ``category_depth + 1`` (h1, ``#`` and Word's "Heading 1"
  are depth 0). ``max_heading_depth`` lets a format keep only trusted titles: in
  PowerPoint only a slide's title shape gives depth 0, while body lines that unstructured
  guesses to be titles get depth >= 1 and are kept as paragraphs.
- ``ListItem`` runs merge into one "list" element, one ``- item`` line each, indented by
  nesting, so a list is chunked like a table: whole, or split between items.
- ``Table`` is rendered from ``metadata.text_as_html``, one row a line, cells " | ".
- Page furniture (``Header``, ``Footer``, ``PageNumber``, ``PageBreak``) and ``Image`` are
  dropped: running headers repeat on every page and would crowd out the body in search.
- Everything else (narrative text, text, code, addresses, captions...) is a paragraph.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from core.types import Element

from ._tables import render_table_html

if TYPE_CHECKING:
    from unstructured.documents.elements import Element as UElement

_DROPPED = frozenset({"Header", "Footer", "PageNumber", "PageBreak", "Image"})
MAX_LEVEL = 6


def to_elements(
    found: Iterable[UElement],
    *,
    max_heading_depth: int | None = None,
    title_texts: frozenset[str] = frozenset(),
) -> list[Element]:
    """Convert in reading order; ``title_texts`` are headings to mark as the document title."""
    out: list[Element] = []
    items: list[tuple[int, str]] = []
    for element in found:
        text = (element.text or "").strip()
        if element.category in _DROPPED or not text:
            continue
        if element.category == "ListItem":
            items.append((element.metadata.category_depth or 0, _one_line(text)))
            continue
        if items:
            out.append(_list_element(items))
            items = []
        out.append(_convert(element, text, max_heading_depth, title_texts))
    if items:
        out.append(_list_element(items))
    return out


def _convert(
    element: UElement, text: str, max_heading_depth: int | None, title_texts: frozenset[str]
) -> Element:
    depth = element.metadata.category_depth or 0
    if element.category == "Title" and (max_heading_depth is None or depth <= max_heading_depth):
        heading = _one_line(text)
        if heading in title_texts:
            return Element(kind="title", text=heading, level=0)
        return Element(kind="heading", text=heading, level=min(depth + 1, MAX_LEVEL))
    if element.category == "Table":
        html = element.metadata.text_as_html
        rendered = render_table_html(html) if html else ""
        return Element(kind="table", text=rendered or text)
    return Element(kind="paragraph", text=text)


def _list_element(items: list[tuple[int, str]]) -> Element:
    top = min(depth for depth, _ in items)
    lines = ["  " * (depth - top) + "- " + text for depth, text in items]
    return Element(kind="list", text="\n".join(lines))


def _one_line(text: str) -> str:
    return " ".join(text.split())
