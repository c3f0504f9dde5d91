"""Chunking follows the document's structure and fits the model's window."""

from __future__ import annotations

from itertools import pairwise

import pytest

from core.types import Chunk, Element
from ingest.chunk import (
    HEADING_MAX_CHARS,
    TITLE_MAX_CHARS,
    chunk_elements,
    document_text,
    embedding_text,
)
from ingest.tokens import MiniLMTokenCounter


def words(text: str) -> int:
    """A simple counter for readable tests: one token a word, plus two specials."""
    return len(text.split()) + 2


def chunk(elements: list[Element], **kwargs: object) -> list[Chunk]:
    options: dict[str, object] = {"doc_id": "d1", "title": "Doc", "count_tokens": words,
                                  "max_tokens": 256, "overlap_tokens": 0}
    options.update(kwargs)
    return chunk_elements(elements, **options)  # type: ignore[arg-type]


def heading(text: str, level: int) -> Element:
    return Element(kind="heading", text=text, level=level)


def para(text: str) -> Element:
    return Element(kind="paragraph", text=text)


def assert_verbatim(elements: list[Element], chunks: list[Chunk]) -> None:
    text = document_text(elements)
    for c in chunks:
        assert text[c.char_start : c.char_end] == c.text


def test_document_text_joins_elements_with_a_blank_line() -> None:
    assert document_text([para("a"), heading("B", 1), para("c")]) == "a\n\nB\n\nc"


def test_small_paragraphs_of_one_section_share_a_chunk() -> None:
    elements = [heading("Leave", 1), para("One."), para("Two."), para("Three.")]

    chunks = chunk(elements)

    assert [(c.text, c.heading_path) for c in chunks] == [("One.\n\nTwo.\n\nThree.", ("Leave",))]
    assert_verbatim(elements, chunks)


def test_sections_are_never_mixed_and_carry_their_heading_path() -> None:
    elements = [
        para("Preamble."), heading("Policies", 1), heading("Leave", 2), para("Leave text."),
        heading("Travel", 2), para("Travel text."), heading("Appendix", 1), para("End."),
    ]

    chunks = chunk(elements)

    assert [(c.heading_path, c.text) for c in chunks] == [
        ((), "Preamble."),
        (("Policies", "Leave"), "Leave text."),
        (("Policies", "Travel"), "Travel text."),
        (("Appendix",), "End."),
    ]
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3]
    assert {c.doc_id for c in chunks} == {"d1"}
    assert_verbatim(elements, chunks)


def test_a_title_element_sits_above_every_heading() -> None:
    elements = [Element(kind="title", text="Handbook"), heading("Intro", 1), para("Hello.")]

    assert chunk(elements)[0].heading_path == ("Handbook", "Intro")


def test_a_heading_with_nothing_under_it_becomes_its_own_chunk() -> None:
    elements = [heading("Agenda", 1), heading("Intro", 1), para("Hi."), heading("Q&A", 2)]

    chunks = chunk(elements)

    assert [(c.heading_path, c.text) for c in chunks] == [
        ((), "Agenda"), (("Intro",), "Hi."), (("Intro",), "Q&A"),
    ]
    assert_verbatim(elements, chunks)


def test_a_heading_whose_content_is_a_deeper_section_adds_no_chunk() -> None:
    chunks = chunk([heading("Part", 1), heading("Chapter", 2), para("Body.")])

    assert [(c.heading_path, c.text) for c in chunks] == [(("Part", "Chapter"), "Body.")]


def test_long_paragraph_splits_at_sentence_boundaries_with_overlap() -> None:
    sentences = [f"Sentence number {i} has six words." for i in range(12)]
    elements = [heading("H", 1), para(" ".join(sentences))]

    chunks = chunk(elements, max_tokens=30, overlap_tokens=7)

    assert len(chunks) > 2
    for c in chunks:
        assert c.text.startswith("Sentence number") and c.text.endswith("words.")
        assert words(embedding_text(c, title="Doc")) <= 30
    for before, after in pairwise(chunks):
        assert after.char_start < before.char_end, "consecutive pieces overlap"
        overlap = document_text(elements)[after.char_start : before.char_end]
        assert words(overlap) - 2 <= 7
    assert_verbatim(elements, chunks)


def test_a_sentence_longer_than_the_window_splits_between_words() -> None:
    elements = [para(" ".join(f"w{i}" for i in range(100)))]

    chunks = chunk(elements, max_tokens=20, overlap_tokens=0)

    assert all(words(embedding_text(c, title="Doc")) <= 20 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == [f"w{i}" for i in range(100)]
    assert_verbatim(elements, chunks)


def test_a_word_longer_than_the_window_splits_between_characters(
    minilm: MiniLMTokenCounter,
) -> None:
    blob = "".join(chr(0xAC00 + i % 500) for i in range(400))  # Hangul: 2-3 tokens each
    elements = [para(blob)]

    chunks = chunk(elements, count_tokens=minilm, max_tokens=64)

    assert "".join(c.text for c in chunks) == blob
    assert all(minilm(embedding_text(c, title="Doc")) <= 64 for c in chunks)


def test_table_that_fits_stays_whole_with_its_neighbours() -> None:
    table = Element(kind="table", text="A | B\n1 | 2\n3 | 4")
    elements = [para("Before."), table, para("After.")]

    assert [c.text for c in chunk(elements)] == ["Before.\n\nA | B\n1 | 2\n3 | 4\n\nAfter."]


def test_big_table_splits_between_rows_without_repeating_any() -> None:
    rows = [f"row{i} | value {i} | note {i}" for i in range(30)]
    elements = [Element(kind="table", text="\n".join(rows))]

    chunks = chunk(elements, max_tokens=40, overlap_tokens=10)

    assert len(chunks) > 1
    assert [line for c in chunks for line in c.text.split("\n")] == rows
    assert all(a.char_end < b.char_start for a, b in pairwise(chunks))


def test_long_list_splits_between_items() -> None:
    items = [f"- item {i} of the list" for i in range(40)]

    chunks = chunk([Element(kind="list", text="\n".join(items))], max_tokens=30)

    assert [line for c in chunks for line in c.text.split("\n")] == items


def test_embedding_text_is_title_then_path_then_text() -> None:
    c = Chunk(doc_id="d", ordinal=0, text="Body.", heading_path=("A", "B"))

    assert embedding_text(c, title="My Doc") == "My Doc\nA > B\nBody."
    assert embedding_text(Chunk(doc_id="d", ordinal=0, text="Body."), title="") == "Body."


def test_embedding_text_clips_long_title_and_headings_but_never_the_text() -> None:
    title = "word " * 40
    c = Chunk(doc_id="d", ordinal=0, text="x " * 300, heading_path=("h" * 100, "Inner"))

    lines = embedding_text(c, title=title).split("\n")

    assert len(lines[0]) <= TITLE_MAX_CHARS and lines[0].endswith("…")
    assert lines[1].split(" > ")[0] == "h" * (HEADING_MAX_CHARS - 1) + "…"
    assert lines[2] == c.text


def test_outer_headings_are_dropped_when_the_path_would_eat_the_budget() -> None:
    path = [heading(f"level {i} heading words here", i) for i in range(1, 7)]

    chunks = chunk([*path, para("Body text.")], max_tokens=24)

    assert chunks[0].heading_path == ("level 6 heading words here",)
    assert words(embedding_text(chunks[0], title="Doc")) <= 24


def test_window_too_small_for_the_title_is_refused(minilm: MiniLMTokenCounter) -> None:
    with pytest.raises(ValueError, match="CLEARANCE_CHUNK_MAX_TOKENS"):
        chunk([para("Body.")], title="!" * 60, count_tokens=minilm, max_tokens=20)


def test_unbroken_blob_is_capped_in_characters_even_if_it_is_one_token(
    minilm: MiniLMTokenCounter,
) -> None:
    blob = "A" * 20_000  # WordPiece reads any run over 100 characters as one [UNK]

    chunks = chunk([para(blob)], count_tokens=minilm, max_tokens=32)

    assert len(chunks) > 1
    assert all(len(c.text) <= 12 * 32 for c in chunks)


def test_blank_elements_take_space_in_the_text_but_make_no_chunk() -> None:
    elements = [para("One."), para("   "), para("Two.")]

    chunks = chunk(elements)

    assert [c.text for c in chunks] == ["One.\n\n   \n\nTwo."]
    assert_verbatim(elements, chunks)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_impossible_budgets_are_refused(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk([para("x")], max_tokens=max_tokens, overlap_tokens=overlap)
