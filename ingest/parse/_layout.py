"""Text runs of a PDF (one line's worth of text, with position and font size) to elements.

Heuristics, each cheap and predictable:
- runs in content order that share a baseline band are one line;
- consecutive lines form a paragraph unless the next one is on another page, higher up
  the page (a new column), after a gap of more than half a line, or in another font size;
- a paragraph set at least 15 % larger than the body text (the size carrying the most
  characters), of at most 3 lines and 200 characters, is a heading; its level ranks its
  size among the heading sizes of the document (largest = 1).
Tables are not recognised: their rows come out as short paragraphs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from core.types import Element

_HEADING_RATIO = 1.15
_MAX_HEADING_LINES = 3
_MAX_HEADING_CHARS = 200
_MAX_LEVEL = 6


@dataclass(frozen=True)
class TextRun:
    text: str
    page: int
    top: float
    bottom: float
    size: float
    """Font size in points (the run's height when pdfium does not know)."""

    @property
    def height(self) -> float:
        return self.top - self.bottom


def to_elements(runs: list[TextRun]) -> list[Element]:
    blocks = _paragraphs(_lines(runs))
    if not blocks:
        return []
    body = _body_size(blocks)
    levels = _heading_levels(blocks, body)
    out: list[Element] = []
    for block in blocks:
        text = "\n".join(line.text for line in block)
        level = levels.get(_size_key(block[0].size)) if _is_heading(block, body) else None
        if level is None:
            out.append(Element(kind="paragraph", text=text))
        else:
            out.append(Element(kind="heading", text=" ".join(text.split()), level=level))
    return out


def _lines(runs: list[TextRun]) -> list[TextRun]:
    lines: list[TextRun] = []
    for run in runs:
        last = lines[-1] if lines else None
        if last is not None and last.page == run.page and _same_band(last, run):
            lines[-1] = replace(
                last,
                text=f"{last.text} {run.text}",
                top=max(last.top, run.top),
                bottom=min(last.bottom, run.bottom),
                size=max(last.size, run.size),
            )
        else:
            lines.append(run)
    return lines


def _same_band(a: TextRun, b: TextRun) -> bool:
    overlap = min(a.top, b.top) - max(a.bottom, b.bottom)
    return overlap >= 0.5 * min(a.height, b.height)


def _paragraphs(lines: list[TextRun]) -> list[list[TextRun]]:
    blocks: list[list[TextRun]] = []
    for line in lines:
        if blocks and _continues(blocks[-1][-1], line):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _continues(previous: TextRun, line: TextRun) -> bool:
    if line.page != previous.page or line.top > previous.top:
        return False
    size = max(previous.size, line.size)
    if abs(previous.size - line.size) > 0.1 * size:
        return False
    return previous.bottom - line.top <= 0.5 * size


def _body_size(blocks: list[list[TextRun]]) -> float:
    weight: Counter[float] = Counter()
    for block in blocks:
        for line in block:
            weight[_size_key(line.size)] += len(line.text)
    return weight.most_common(1)[0][0]


def _is_heading(block: list[TextRun], body: float) -> bool:
    chars = sum(len(line.text) for line in block)
    return (
        block[0].size >= _HEADING_RATIO * body
        and len(block) <= _MAX_HEADING_LINES
        and chars <= _MAX_HEADING_CHARS
    )


def _heading_levels(blocks: list[list[TextRun]], body: float) -> dict[float, int]:
    sizes = sorted({_size_key(b[0].size) for b in blocks if _is_heading(b, body)}, reverse=True)
    return {size: min(rank + 1, _MAX_LEVEL) for rank, size in enumerate(sizes)}


def _size_key(size: float) -> float:
    return round(size * 2) / 2
