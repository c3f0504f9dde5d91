"""A table's HTML (as unstructured gives it) to readable text: one row a line, cells " | "."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import Tag

CELL_SEPARATOR = " | "


def render_table_html(html: str) -> str:
    """Rows in order, each cell's whitespace collapsed so one row stays on one line."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    rows: list[str] = []
    for row in soup.find_all("tr"):
        cells = [_cell_text(cell) for cell in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    return "\n".join(rows)


def _cell_text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())
