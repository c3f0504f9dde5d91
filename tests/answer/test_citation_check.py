"""Citations are checked after any adapter: only chunks the caller was given, only quotes
that occur in them; what fails is dropped, and with nothing left the answer abstains."""

from __future__ import annotations

from answer.adapters.base import AnswerResult, ContextChunk
from answer.service import verified
from core import Citation

CHUNK = ContextChunk(n=1, chunk_id="c1", doc_id="d1", title="Travel", url=None,
                     text="Employees book economy class on flights under six hours.")


def _cite(n: int, chunk_id: str, quote: str) -> Citation:
    return Citation(n=n, doc_id="d1", chunk_id=chunk_id, title="Travel", url=None, quote=quote)


def test_a_citation_to_a_chunk_the_caller_was_not_given_is_dropped() -> None:
    result = AnswerResult(
        answer="Economy [1]. Business for the board [2].", model="m",
        citations=(_cite(1, "c1", "Employees book economy class"),
                   _cite(2, "secret-chunk", "Business class for the board")))
    checked = verified(result, (CHUNK,))
    assert [c.chunk_id for c in checked.citations] == ["c1"]
    assert "[2]" not in checked.answer and "[1]" in checked.answer


def test_a_quote_not_in_its_chunk_is_dropped_and_nothing_left_means_abstain() -> None:
    result = AnswerResult(answer="First class [1].", model="m",
                          citations=(_cite(1, "c1", "Employees book first class"),))
    checked = verified(result, (CHUNK,))
    assert checked.abstained and checked.reason == "unverified_citations"
    assert checked.citations == ()


def test_whitespace_differences_do_not_break_a_true_quote() -> None:
    result = AnswerResult(answer="Economy [1].", model="m",
                          citations=(_cite(1, "c1", "economy   class\non flights"),))
    assert verified(result, (CHUNK,)).citations
