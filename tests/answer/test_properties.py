"""Whatever the chunks and the question, an answer cites only given chunks, verbatim."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from answer import (
    DEFAULT_MIN_EVIDENCE,
    AnswerOptions,
    AnswerRequest,
    ContextChunk,
    ExtractiveAdapter,
)

from .conftest import assert_well_cited

WORDS = [
    "budget", "project", "Alpha", "QX-7731", "policy", "travel", "2026", "economy",
    "class", "hotel", "Maria", "approved", "not", "the", "is", "of", "by", "e.g.", "Dr.",
    "[2]", "1,200", "Küçük", "über", "ends", "first",
]
PUNCTUATION = [".", "!", "?", "", ",", ".\n\n", ":", "\n- "]

sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
    st.sampled_from(PUNCTUATION),
)
structured_text = st.lists(sentence, min_size=0, max_size=6).map(" ".join)
any_text = st.text(max_size=300)


def contexts(texts: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[ContextChunk, ...]]:
    return st.lists(texts, min_size=0, max_size=4).map(
        lambda ts: tuple(
            ContextChunk(
                n=i + 1, chunk_id=f"c{i}", doc_id=f"d{i % 2}", title=f"T{i}", url=None, text=t
            )
            for i, t in enumerate(ts)
        )
    )


questions = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(lambda w: " ".join(w) + "?"),
    st.text(max_size=80),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    context=contexts(structured_text),
    question=questions,
    threshold=st.sampled_from([0.0, DEFAULT_MIN_EVIDENCE]),
)
def test_citations_quote_given_chunks_verbatim(
    context: tuple[ContextChunk, ...], question: str, threshold: float
) -> None:
    result = ExtractiveAdapter(min_evidence=threshold).generate(AnswerRequest(question, context))
    assert_well_cited(result, context)


@settings(max_examples=200, deadline=None)
@given(
    context=contexts(any_text),
    question=questions,
    max_sentences=st.integers(min_value=1, max_value=10),
)
def test_arbitrary_text_never_breaks_the_citation_rules(
    context: tuple[ContextChunk, ...], question: str, max_sentences: int
) -> None:
    request = AnswerRequest(question, context, AnswerOptions(max_sentences=max_sentences))
    result = ExtractiveAdapter(min_evidence=0.0).generate(request)
    assert_well_cited(result, context)
    assert len(result.citations) <= max_sentences
