"""Elements to chunks that follow the document's structure and fit the embedder's window.

The text of a document is its elements' texts joined by a blank line (``document_text``);
a chunk's ``text`` is always the verbatim slice ``[char_start:char_end]`` of it.

Structure: headings (and a "title" element, which sits above every heading) open
sections; a chunk never spans two sections and carries its section's heading path.
Consecutive small elements of one section share a chunk; an element too big for one is
split (see ``_split.py``). A heading with nothing under it before the next heading of its
level or higher becomes a chunk of its own, so no text is lost.

The guarantee, for every chunk ``c`` of ``chunk_elements(..., title=t, count_tokens=f,
max_tokens=m)``: ``f(embedding_text(c, title=t)) <= m``. It is checked by calling ``f`` on
the exact text, never estimated. Two things keep the prefix (title and heading path) from
eating the window, both deterministic:

- ``embedding_text`` clips the title to ``TITLE_MAX_CHARS`` and each heading to
  ``HEADING_MAX_CHARS`` at a word boundary (marked "…"), and keeps only the innermost
  headings that fit in ``PATH_MAX_CHARS``. It never touches the chunk text.
- ``chunk_elements`` drops outer headings from a chunk's stored ``heading_path`` while
  the prefix alone would take more than half of ``max_tokens``.

A section where not one character of text fits beside its path goes without the path;
if not one fits beside the clipped title alone (a tiny ``max_tokens``, a long title),
``chunk_elements`` raises ``ValueError`` rather than break the guarantee.
A chunk also stays under ``MAX_CHARS_PER_TOKEN * max_tokens`` characters: WordPiece reads
an unbroken run of over 100 characters as one [UNK] token, which would otherwise let a
base64 blob of any length "fit".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.types import Chunk, Element

from ._split import Span, UnitTooLarge, split_span, stripped

SEPARATOR = "\n\n"
TITLE_MAX_CHARS = 64
KEYWORD_TITLE_MAX_CHARS = 1000
"""Only a guard against a "title" that is really a document; keyword text has no window."""
HEADING_MAX_CHARS = 48
PATH_MAX_CHARS = 120
PATH_SEPARATOR = " > "
MAX_CHARS_PER_TOKEN = 12

CountTokens = Callable[[str], int]


def document_text(elements: Sequence[Element]) -> str:
    """The parsed text of a document: what chunk spans index into."""
    return SEPARATOR.join(element.text for element in elements)


def embedding_text(chunk: Chunk, *, title: str) -> str:
    """Exactly what the embedder sees: clipped title, heading path, then the chunk text."""
    return _compose(title, chunk.heading_path, chunk.text)


def keyword_text(chunk: Chunk, *, title: str) -> str:
    """What the keyword (BM25) vector is computed from: ``embedding_text`` with the title
    whole (up to ``KEYWORD_TITLE_MAX_CHARS``). The title clip exists to fit the model's
    window, and a sparse vector has none. On SciFact, where 84% of titles are longer than
    ``TITLE_MAX_CHARS``, whole titles lift keyword nDCG@10 on the train split from 0.689
    to 0.700 (bench/beir.py)."""
    return _compose(title, chunk.heading_path, chunk.text, title_max_chars=KEYWORD_TITLE_MAX_CHARS)


TokenSpans = Callable[[str], Sequence[tuple[int, int]]]
"""Character spans of a text's tokens, special tokens left out (a fast tokenizer's offsets)."""


def chunk_elements(
    elements: Sequence[Element],
    *,
    doc_id: str,
    title: str,
    count_tokens: CountTokens,
    max_tokens: int = 256,
    overlap_tokens: int = 32,
    token_spans: TokenSpans | None = None,
) -> list[Chunk]:
    """The chunks of a parsed document in reading order, ordinals from 0; each fits
    ``max_tokens`` as ``count_tokens`` counts ``embedding_text(chunk, title=title)``.

    With ``token_spans`` the document is tokenised once and spans are sized from the
    token offsets (several times faster); every chunk is still counted exactly once at
    the end, and a section where the estimate and the count disagree is redone exactly.
    """
    if max_tokens < 1 or not 0 <= overlap_tokens < max_tokens:
        raise ValueError("need max_tokens >= 1 and 0 <= overlap_tokens < max_tokens")
    text = document_text(elements)
    offsets = _TokenOffsets(token_spans(text)) if token_spans is not None else None
    placed: list[tuple[tuple[str, ...], Span]] = []
    for section in _sections(elements):
        path, spans = _chunk_section(section, text, title, count_tokens, max_tokens,
                                     overlap_tokens, offsets)
        if offsets is not None and not all(
            count_tokens(_compose(title, path, text[sp.start:sp.end])) <= max_tokens
            for sp in spans
        ):
            path, spans = _chunk_section(section, text, title, count_tokens, max_tokens,
                                         overlap_tokens, None)
        placed.extend((path, span) for span in spans)
    return [
        Chunk(doc_id=doc_id, ordinal=ordinal, text=text[span.start : span.end],
              heading_path=path, char_start=span.start, char_end=span.end)
        for ordinal, (path, span) in enumerate(placed)
    ]


@dataclass(frozen=True)
class _Block:
    span: Span
    by_lines: bool
    """Tables and lists split between rows/items, without overlap."""


@dataclass
class _Section:
    path: tuple[str, ...]
    blocks: list[_Block] = field(default_factory=list)


def _sections(elements: Sequence[Element]) -> list[_Section]:
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    current = _Section(path=())
    opener: tuple[int, Span, tuple[str, ...]] | None = None  # the heading that opened `current`
    offset = 0
    for element in elements:
        span = stripped(element.text, 0, len(element.text))
        start = offset
        offset += len(element.text) + len(SEPARATOR)
        if span is None:
            continue
        span = Span(start + span.start, start + span.end)
        if element.kind not in ("title", "heading"):
            current.blocks.append(_Block(span, by_lines=element.kind in ("table", "list")))
            continue
        level = 0 if element.kind == "title" else max(1, element.level)
        sections.extend(_closed(current, opener, next_level=level))
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = tuple(heading for _, heading in stack)
        stack.append((level, " ".join(element.text.split())))
        current, opener = _Section(path=(*parent, stack[-1][1])), (level, span, parent)
    sections.extend(_closed(current, opener, next_level=-1))
    return sections


def _closed(
    section: _Section, opener: tuple[int, Span, tuple[str, ...]] | None, *, next_level: int
) -> list[_Section]:
    """The section if it has content; else its heading as a chunk, unless the next heading
    is deeper (then the heading lives on in the paths of the sections below it)."""
    if section.blocks:
        return [section]
    if opener is not None and next_level <= opener[0]:
        _, span, parent = opener
        return [_Section(path=parent, blocks=[_Block(span, by_lines=False)])]
    return []


class _TokenOffsets:
    """The document's token spans, to count the tokens of any slice by bisection."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        kept = [(a, b) for a, b in spans if b > a]
        self.starts = [a for a, _ in kept]
        self.ends = [b for _, b in kept]

    def inside(self, start: int, end: int) -> int:
        """Tokens lying wholly within ``[start, end)``: exact at word boundaries."""
        first = bisect_left(self.starts, start)
        last = bisect_right(self.ends, end)
        return max(0, last - first)


class _Fitter:
    """Judges whether a span of the document fits one chunk of this section: exactly by
    counting, or from the document's token offsets (verified by the caller)."""

    def __init__(self, text: str, title: str, path: tuple[str, ...],
                 count_tokens: CountTokens, max_tokens: int,
                 offsets: _TokenOffsets | None = None) -> None:
        self.text, self.title = text, title
        self.count_tokens, self.max_tokens = count_tokens, max_tokens
        self.max_chars = MAX_CHARS_PER_TOKEN * max_tokens
        self.empty_tokens = count_tokens("")
        while path and count_tokens(_compose(title, path, "")) > max_tokens // 2:
            path = path[1:]
        self.path = path
        self.offsets = offsets
        self.frame_tokens = count_tokens(_compose(title, path, "")) if offsets else 0

    def fits(self, start: int, end: int) -> bool:
        if end - start > self.max_chars:
            return False
        if self.offsets is not None:
            return self.frame_tokens + self.offsets.inside(start, end) <= self.max_tokens
        composed = _compose(self.title, self.path, self.text[start:end])
        return self.count_tokens(composed) <= self.max_tokens

    def tokens_of(self, start: int, end: int) -> int:
        if self.offsets is not None:
            return self.offsets.inside(start, end)
        return self.count_tokens(self.text[start:end]) - self.empty_tokens


def _chunk_section(
    section: _Section, text: str, title: str, count_tokens: CountTokens, max_tokens: int,
    overlap_tokens: int, offsets: _TokenOffsets | None,
) -> tuple[tuple[str, ...], list[Span]]:
    """The section's spans and the heading path stored with them. When not even one
    character fits beside the path, the section goes without it; beside the title alone,
    the window is too small and that is the caller's error."""
    fitter = _Fitter(text, title, section.path, count_tokens, max_tokens, offsets)
    try:
        return fitter.path, _pack_section(section, fitter, overlap_tokens)
    except UnitTooLarge:
        pass
    fitter = _Fitter(text, title, (), count_tokens, max_tokens, offsets)
    try:
        return (), _pack_section(section, fitter, overlap_tokens)
    except UnitTooLarge as exc:
        raise ValueError(
            f"max_tokens={max_tokens} leaves no room for text beside the title; "
            "raise CLEARANCE_CHUNK_MAX_TOKENS"
        ) from exc


def _pack_section(section: _Section, fitter: _Fitter, overlap_tokens: int) -> list[Span]:
    out: list[Span] = []
    current: Span | None = None
    for block in section.blocks:
        if current is not None and fitter.fits(current.start, block.span.end):
            current = Span(current.start, block.span.end)
            continue
        if current is not None:
            out.append(current)
            current = None
        if fitter.fits(block.span.start, block.span.end):
            current = block.span
            continue
        out.extend(split_span(fitter.text, block.span, by_lines=block.by_lines,
                              fits=fitter.fits, tokens_of=fitter.tokens_of,
                              overlap_tokens=overlap_tokens))
    if current is not None:
        out.append(current)
    return out


def _compose(title: str, path: tuple[str, ...], text: str, *,
             title_max_chars: int = TITLE_MAX_CHARS) -> str:
    lines = [line for line in (_clip(title, title_max_chars), _path_line(path)) if line]
    lines.append(text)
    return "\n".join(lines)


def _path_line(path: tuple[str, ...]) -> str:
    parts = [part for part in (_clip(heading, HEADING_MAX_CHARS) for heading in path) if part]
    while len(parts) > 1 and len(PATH_SEPARATOR.join(parts)) > PATH_MAX_CHARS:
        parts.pop(0)
    return PATH_SEPARATOR.join(parts)


def _clip(value: str, limit: int) -> str:
    """``value`` on one line, at most ``limit`` characters, cut at a word boundary if one
    is in the second half, with "…" marking the cut."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "\u2026"
