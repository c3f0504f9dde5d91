"""Properties of chunking, with the real MiniLM tokenizer counting.

For any elements, title and budget: every chunk's embedding text fits ``max_tokens``; its
text is the verbatim slice of the document text at its span; no body text is lost; and no
chunk reaches across a heading. The only refusal allowed is a window too small to hold one
character of text beside the (clipped) title.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.types import Chunk, Element
from ingest.chunk import SEPARATOR, chunk_elements, document_text, embedding_text
from ingest.tokens import minilm_token_counter

COUNT = minilm_token_counter()

_WORDS = ["leave", "policy", "the", "employees", "must", "submit", "receipts", "within",
          "thirty", "days", "Zürich", "naïve", "2024-05-01", "e.g.", "https://x.test/a?b=c",
          "don't", "über", "合同", "정책", "—", "(see", "below)", "x" * 130, "!!!", "\t"]
_END = st.sampled_from([".", "!", "?", "", ";", "…"])

sentence = st.builds(lambda ws, end: " ".join(ws) + end,
                     st.lists(st.sampled_from(_WORDS), min_size=1, max_size=40), _END)
prose = st.one_of(
    st.builds(" ".join, st.lists(sentence, min_size=1, max_size=25)),
    st.text(min_size=0, max_size=300),
)
rows = st.lists(st.builds(" | ".join, st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6)),
                min_size=1, max_size=40)

element = st.one_of(
    st.builds(lambda t: Element(kind="paragraph", text=t), prose),
    st.builds(lambda t, lv: Element(kind="heading", text=t, level=lv),
              st.one_of(sentence, st.text(max_size=80)), st.integers(0, 5)),
    st.builds(lambda t: Element(kind="title", text=t), sentence),
    st.builds(lambda r: Element(kind="table", text="\n".join(r)), rows),
    st.builds(lambda r: Element(kind="list", text="\n".join("- " + x for x in r)), rows),
)
titles = st.one_of(st.text(max_size=120), st.builds(" ".join, st.lists(st.sampled_from(_WORDS))))


@st.composite
def budgets(draw: st.DrawFn) -> tuple[int, int]:
    max_tokens = draw(st.integers(24, 256))
    return max_tokens, draw(st.integers(0, max_tokens // 2 - 1))


def fits_beside_title(char: str, title: str, max_tokens: int) -> bool:
    probe = Chunk(doc_id="", ordinal=0, text=char)
    return COUNT(embedding_text(probe, title=title)) <= max_tokens


@pytest.mark.parametrize("sizing", ["exact counts", "token offsets"])
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(element, max_size=12), titles, budgets())
def test_every_chunk_fits_is_verbatim_and_no_text_is_lost(
    sizing: str, elements: list[Element], title: str, budget: tuple[int, int]
) -> None:
    max_tokens, overlap = budget
    text = document_text(elements)
    spans = COUNT.token_spans if sizing == "token offsets" else None
    try:
        chunks = chunk_elements(elements, doc_id="d", title=title, count_tokens=COUNT,
                                max_tokens=max_tokens, overlap_tokens=overlap,
                                token_spans=spans)
    except ValueError:
        assert any(not fits_beside_title(c, title, max_tokens) for c in text if not c.isspace())
        return

    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert COUNT(embedding_text(c, title=title)) <= max_tokens
        assert text[c.char_start : c.char_end] == c.text
        assert c.text and c.text == c.text.strip()
    assert_body_covered(elements, chunks)
    assert_no_chunk_crosses_a_heading(elements, chunks)


@settings(max_examples=100, deadline=None)
@given(st.lists(element, max_size=12),
       st.text(st.characters(codec="ascii", categories=["L", "N", "Zs"]), max_size=120),
       st.integers(64, 256))
def test_ordinary_titles_never_make_chunking_refuse(
    elements: list[Element], title: str, max_tokens: int
) -> None:
    chunks = chunk_elements(elements, doc_id="d", title=title, count_tokens=COUNT,
                            max_tokens=max_tokens, overlap_tokens=16)

    assert all(COUNT(embedding_text(c, title=title)) <= max_tokens for c in chunks)


def element_spans(elements: list[Element]) -> list[tuple[Element, int, int]]:
    spans, offset = [], 0
    for e in elements:
        spans.append((e, offset, offset + len(e.text)))
        offset += len(e.text) + len(SEPARATOR)
    return spans


def assert_body_covered(elements: list[Element], chunks: list[Chunk]) -> None:
    text = document_text(elements)
    covered = bytearray(len(text))
    for c in chunks:
        covered[c.char_start : c.char_end] = b"\x01" * (c.char_end - c.char_start)
    for e, start, end in element_spans(elements):
        if e.kind in ("heading", "title"):
            continue
        missing = [i for i in range(start, end) if not text[i].isspace() and not covered[i]]
        assert not missing, f"text of a {e.kind} is in no chunk"


def assert_no_chunk_crosses_a_heading(elements: list[Element], chunks: list[Chunk]) -> None:
    for e, start, end in element_spans(elements):
        if e.kind not in ("heading", "title") or not e.text.strip():
            continue
        for c in chunks:
            inside = c.char_start < end and start < c.char_end
            assert not inside or (c.char_start >= start and c.char_end <= end), (
                "a chunk reaches across a heading"
            )
