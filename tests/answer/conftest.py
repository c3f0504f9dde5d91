"""Small, readable contexts for the answer tests: a travel policy, an expense policy and
two project sheets whose codes differ by a character or two."""

from __future__ import annotations

import re

import pytest

from answer import AnswerResult, ContextChunk

TRAVEL = (
    "Employees may book economy class for flights under six hours. "
    "Business class is allowed for flights longer than six hours, e.g. transatlantic trips. "
    "Hotels must be booked through the corporate travel portal. "
    "Taxis are reimbursed only when public transport is unavailable."
)
EXPENSES = (
    "Expense reports are due within 30 days of the purchase. "
    "Receipts above 25 EUR must be attached to the report. "
    "Late reports are approved by the finance director."
)
PROJECT_ALPHA = (
    "Project QX-7731 builds the new billing service. "
    "The budget of project QX-7731 is 2.4 million EUR for 2026. "
    "Its sponsor is Maria Jensen from Finance."
)
PROJECT_BETA = (
    "Project QZ-9914 migrates the data warehouse. "
    "The budget of project QZ-9914 is 800,000 EUR. "
    "The migration ends in March 2027."
)

MARKER = re.compile(r"\[(\d+)\]")


def chunk(
    n: int, text: str, *, title: str | None = None, score: float | None = None
) -> ContextChunk:
    return ContextChunk(
        n=n,
        chunk_id=f"chunk-{n}",
        doc_id=f"doc-{n}",
        title=title or f"Document {n}",
        url=f"https://intranet.example.com/doc-{n}",
        text=text,
        score=score,
    )


@pytest.fixture
def policies() -> tuple[ContextChunk, ...]:
    return (
        chunk(1, TRAVEL, title="Travel policy"),
        chunk(2, EXPENSES, title="Expense policy"),
    )


@pytest.fixture
def projects() -> tuple[ContextChunk, ...]:
    return (
        chunk(1, PROJECT_ALPHA, title="Project sheet QX-7731"),
        chunk(2, PROJECT_BETA, title="Project sheet QZ-9914"),
    )


def assert_well_cited(result: AnswerResult, context: tuple[ContextChunk, ...]) -> None:
    """The invariants every answer must keep, whatever the question."""
    by_id = {c.chunk_id: c for c in context}
    if result.abstained:
        assert result.citations == ()
        assert result.reason
        assert MARKER.search(result.answer) is None
        return
    assert result.citations, "an answer without a citation is not grounded"
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    markers = [int(m) for m in MARKER.findall(result.answer)]
    assert sorted(markers) == [c.n for c in result.citations], "one [n] per citation"
    for citation in result.citations:
        source = by_id[citation.chunk_id]
        assert citation.quote and citation.quote in source.text
        assert (citation.doc_id, citation.title, citation.url) == (
            source.doc_id,
            source.title,
            source.url,
        )
