"""The citation rules every adapter's answer is held to (``answer.service.verified``):
markers map to kept citations, kept citations are renumbered in reading order, and
sentences that nothing supports are flagged."""

from __future__ import annotations

from answer.adapters.base import AnswerResult, ContextChunk
from answer.service import verified
from core import Citation

TRAVEL = ContextChunk(n=1, chunk_id="c1", doc_id="d1", title="Travel", url="https://t",
                      text="Employees book economy class on flights under six hours.")
HOTELS = ContextChunk(n=2, chunk_id="c2", doc_id="d2", title="Hotels", url=None,
                      text="Hotels are booked through the travel portal.")
CONTEXT = (TRAVEL, HOTELS)


def _cite(n: int, chunk: ContextChunk, quote: str, *, title: str | None = None) -> Citation:
    return Citation(n=n, doc_id=chunk.doc_id, chunk_id=chunk.chunk_id,
                    title=title or chunk.title, url=chunk.url, quote=quote)


def test_kept_citations_are_renumbered_in_reading_order() -> None:
    result = AnswerResult(answer="Hotels via the portal [2]. Economy on short flights [1].",
                          model="m", citations=(_cite(1, TRAVEL, "economy class"),
                                                _cite(2, HOTELS, "travel portal")))
    checked = verified(result, CONTEXT)
    assert checked.answer == "Hotels via the portal [1]. Economy on short flights [2]."
    assert [(c.n, c.chunk_id) for c in checked.citations] == [(1, "c2"), (2, "c1")]


def test_a_marker_without_a_citation_is_removed_and_its_sentence_flagged() -> None:
    result = AnswerResult(answer="Economy on short flights [1]. First class for all [3].",
                          model="m", citations=(_cite(1, TRAVEL, "economy class"),))
    checked = verified(result, CONTEXT)
    assert checked.answer == "Economy on short flights [1]. First class for all."
    assert checked.unsupported_sentences == ("First class for all.",)


def test_a_sentence_without_any_citation_is_flagged_but_quoted_text_is_not() -> None:
    result = AnswerResult(
        answer="Employees book economy class on flights under six hours. Also, enjoy [1].",
        model="m", citations=(_cite(1, TRAVEL, "Employees book economy class on flights "
                                               "under six hours."),))
    assert verified(result, CONTEXT).unsupported_sentences == ()
    result = AnswerResult(answer="Economy only [1]. Nobody flies business.", model="m",
                          citations=(_cite(1, TRAVEL, "economy class"),))
    assert verified(result, CONTEXT).unsupported_sentences == ("Nobody flies business.",)


def test_citations_that_no_marker_uses_are_dropped() -> None:
    result = AnswerResult(answer="Economy on short flights [1].", model="m",
                          citations=(_cite(1, TRAVEL, "economy class"),
                                     _cite(2, HOTELS, "travel portal")))
    assert [c.chunk_id for c in verified(result, CONTEXT).citations] == ["c1"]


def test_an_answer_whose_markers_all_fail_abstains_as_unverified() -> None:
    result = AnswerResult(answer="Business for all [1].", model="m", model_version="v",
                          citations=(_cite(1, TRAVEL, "business class for all"),))
    checked = verified(result, CONTEXT)
    assert checked.abstained and checked.reason == "unverified_citations"
    assert "[1]" not in checked.answer and checked.citations == ()
    assert checked.model_version == "v"


def test_an_empty_quote_never_verifies() -> None:
    result = AnswerResult(answer="Economy [1].", model="m", citations=(_cite(1, TRAVEL, "  "),))
    assert verified(result, CONTEXT).abstained


def test_title_and_url_come_from_the_chunk_not_the_model() -> None:
    result = AnswerResult(answer="Economy [1].", model="m",
                          citations=(_cite(1, TRAVEL, "economy class", title="Board memo"),))
    assert verified(result, CONTEXT).citations[0].title == "Travel"
