"""Splitting one element that does not fit a chunk: into sentences (prose) or lines (tables,
lists), a unit that still does not fit into words, and a word into character runs. Units
are then packed greedily; prose pieces repeat a few trailing units of the previous piece
(at most ``overlap_tokens``), tables and lists repeat nothing.

Spans are offsets into the document text, stripped of surrounding whitespace, so a
chunk's text is always a verbatim slice. ``fits(start, end)`` is the only judge of size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Fits = Callable[[int, int], bool]
TokensOf = Callable[[int, int], int]

_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]+[\"'\u201d\u2019\u00bb)\]]*\s+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


class UnitTooLarge(ValueError):
    """Not even one character fits beside the title: ``max_tokens`` is too small."""


def stripped(text: str, start: int, end: int) -> Span | None:
    """``text[start:end]`` without its surrounding whitespace; None if nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None


def split_span(
    text: str, span: Span, *, by_lines: bool, fits: Fits, tokens_of: TokensOf, overlap_tokens: int
) -> list[Span]:
    coarse = _lines(text, span) if by_lines else _sentences(text, span)
    units: list[Span] = []
    for unit in coarse:
        if fits(unit.start, unit.end):
            units.append(unit)
            continue
        for word in _words(text, unit):
            units.extend([word] if fits(word.start, word.end) else _hard_split(word, fits))
    return _pack(units, fits, tokens_of, 0 if by_lines else overlap_tokens)


def _sentences(text: str, span: Span) -> list[Span]:
    ends = (m.end() for m in _SENTENCE_END.finditer(text, span.start, span.end))
    return _pieces(text, span, ends)


def _lines(text: str, span: Span) -> list[Span]:
    breaks = (i + 1 for i in range(span.start, span.end) if text[i] == "\n")
    return _pieces(text, span, breaks)


def _pieces(text: str, span: Span, cuts: Iterable[int]) -> list[Span]:
    out: list[Span] = []
    start = span.start
    for cut in [*cuts, span.end]:
        piece = stripped(text, start, cut)
        if piece is not None:
            out.append(piece)
        start = cut
    return out


def _words(text: str, span: Span) -> list[Span]:
    return [Span(m.start(), m.end()) for m in _WORD.finditer(text, span.start, span.end)]


def _hard_split(word: Span, fits: Fits) -> list[Span]:
    """Longest fitting runs of characters, found by bisection and each one checked."""
    out: list[Span] = []
    start = word.start
    while start < word.end:
        if not fits(start, start + 1):
            raise UnitTooLarge("not even one character of text fits beside the title")
        good, bad = start + 1, word.end
        if fits(start, bad):
            good = bad
        while bad - good > 1:
            middle = (good + bad) // 2
            if fits(start, middle):
                good = middle
            else:
                bad = middle
        out.append(Span(start, good))
        start = good
    return out


def _pack(units: list[Span], fits: Fits, tokens_of: TokensOf, overlap_tokens: int) -> list[Span]:
    pieces: list[Span] = []
    first, last = 0, 0
    while units:
        while last + 1 < len(units) and fits(units[first].start, units[last + 1].end):
            last += 1
        pieces.append(Span(units[first].start, units[last].end))
        if last + 1 >= len(units):
            return pieces
        first = _next_first(units, first, last, fits, tokens_of, overlap_tokens)
        last += 1
    return pieces


def _next_first(
    units: list[Span], first: int, last: int, fits: Fits, tokens_of: TokensOf, overlap: int
) -> int:
    """First unit of the next piece: trailing units of this one worth <= ``overlap`` tokens,
    fewer if the next unit would not fit after them, never the whole previous piece."""
    start = last + 1
    if overlap <= 0:
        return start
    while start - 1 > first and tokens_of(units[start - 1].start, units[last].end) <= overlap:
        start -= 1
    while start <= last and not fits(units[start].start, units[last + 1].end):
        start += 1
    return start
