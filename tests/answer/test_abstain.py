"""The adapter refuses, with no citation and no hint of any document, when the context
cannot ground an answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from answer import (
    ABSTAIN_MESSAGE,
    INSUFFICIENT_EVIDENCE,
    NO_RELEVANT_DOCUMENTS,
    AnswerRequest,
    ContextChunk,
    ExtractiveAdapter,
    abstention_reason,
    answerability_score,
    distinctive_terms,
    evidence_score,
    missing_terms,
)

from .conftest import TRAVEL, chunk


def generate(question: str, context: tuple[ContextChunk, ...]):  # type: ignore[no-untyped-def]
    return ExtractiveAdapter().generate(AnswerRequest(question, context))


def test_abstains_without_context() -> None:
    result = generate("What is the travel policy?", ())
    assert result.abstained
    assert result.reason == NO_RELEVANT_DOCUMENTS
    assert result.citations == ()
    assert result.answer == ABSTAIN_MESSAGE


def test_abstains_when_every_chunk_is_blank() -> None:
    result = generate("What is the travel policy?", (chunk(1, "   \n "),))
    assert result.abstained and result.reason == NO_RELEVANT_DOCUMENTS


def test_abstains_when_the_project_code_is_in_no_chunk(
    projects: tuple[ContextChunk, ...],
) -> None:
    result = generate("What is the budget of project QZ-9913?", projects)
    assert result.abstained
    assert result.reason == NO_RELEVANT_DOCUMENTS
    assert result.citations == ()


def test_answers_when_the_project_code_is_present(projects: tuple[ContextChunk, ...]) -> None:
    result = generate("What is the budget of project QZ-9914?", projects)
    assert not result.abstained
    assert result.citations[0].quote == "The budget of project QZ-9914 is 800,000 EUR."


def test_abstains_when_a_name_in_the_question_is_in_no_chunk(
    projects: tuple[ContextChunk, ...],
) -> None:
    result = generate("Who is the sponsor of the project run by Oliver Petersen?", projects)
    assert result.abstained and result.reason == NO_RELEVANT_DOCUMENTS


def test_abstains_when_a_number_in_the_question_is_in_no_chunk(
    projects: tuple[ContextChunk, ...],
) -> None:
    result = generate("What was the budget of project QX-7731 in 2019?", projects)
    assert result.abstained and result.reason == NO_RELEVANT_DOCUMENTS


def test_abstains_on_an_off_topic_question(policies: tuple[ContextChunk, ...]) -> None:
    result = generate("How long should sourdough bread rise before baking?", policies)
    assert result.abstained
    assert result.reason == INSUFFICIENT_EVIDENCE
    assert result.citations == ()


def test_abstention_text_names_no_document(projects: tuple[ContextChunk, ...]) -> None:
    result = generate("What is the budget of project QZ-9913?", projects)
    for context_chunk in projects:
        assert context_chunk.title not in result.answer
        assert context_chunk.doc_id not in result.answer
    assert "QX" not in result.answer and "Jensen" not in result.answer


def test_distinctive_terms_are_names_codes_numbers_and_quoted_phrases() -> None:
    terms = distinctive_terms(
        'Did Maria Jensen approve invoice INV-2041 for "cloud credits" in 2026?'
    )
    assert terms == ('"cloud credits"', "INV-2041", "2026", "Maria", "Jensen")


def test_question_words_and_sentence_starts_are_not_names() -> None:
    assert distinctive_terms("What is the travel policy? Please explain it.") == ()


def test_codes_match_whatever_their_separator() -> None:
    context = (chunk(1, "Invoice inv 2041 was paid in full."),)
    assert missing_terms("Was INV-2041 paid?", context) == ()
    assert missing_terms("Was INV-2042 paid?", context) == ("INV-2042",)
    plan = (chunk(1, "Northwind matches 100% of the first 4% you put into your 401(k)."),)
    assert missing_terms("What is the 401k match?", plan) == ()
    assert missing_terms("What is the 403b match?", plan) == ("403b",)


def test_names_match_across_accents_inflection_and_acronyms() -> None:
    context = (
        chunk(1, "Mr Küçükdeveci worked for Swedex. The European Union sets the rules."),
    )
    assert missing_terms("How long did Kucukdeveci work there?", context) == ()
    assert missing_terms("Which EU rules apply to Swedex's staff?", context) == ()
    assert missing_terms("Which German rules apply?", context) == ("German",)


def test_numbers_match_written_out_and_with_thousands_separators() -> None:
    context = (chunk(1, "The team has five members and a budget of 1,200 EUR."),)
    assert missing_terms("Does the team have 5 members and 1200 EUR?", context) == ()


def test_chunk_title_counts_as_context() -> None:
    context = (chunk(1, "It was founded in 1636.", title="Harvard University"),)
    assert missing_terms("When was Harvard founded?", context) == ()


def test_chunk_headings_count_as_context_like_its_title() -> None:
    plain = chunk(1, "Submit it in Rippling two weeks ahead.", title="PTO and Leave Policy")
    filed = replace(plain, heading_path=("PTO and Leave Policy", "Requesting time off"))
    question = "How do I request time off?"
    assert evidence_score(question, (filed,)) > evidence_score(question, (plain,))
    assert missing_terms("How does Harbor on-call work?", (replace(
        plain, heading_path=("Harbor on-call",)),)) == ()
    answer = ExtractiveAdapter(min_evidence=0.0).generate(AnswerRequest(question, (filed,)))
    assert answer.citations[0].quote == plain.text  # the heading is never quoted


def test_evidence_score_is_within_unit_interval_and_ranks_support(
    policies: tuple[ContextChunk, ...],
) -> None:
    on_topic = evidence_score("Where must hotels be booked?", policies)
    off_topic = evidence_score("How long should sourdough rise?", policies)
    assert 0.0 <= off_topic < on_topic <= 1.0
    assert on_topic == pytest.approx(1.0, abs=0.05)


def test_evidence_score_is_zero_without_context() -> None:
    assert evidence_score("Where must hotels be booked?", ()) == 0.0


def test_negated_question_scores_lower_than_its_plain_form() -> None:
    context = (chunk(1, TRAVEL),)
    plain = evidence_score("Which trips allow business class?", context)
    negated = evidence_score("Which trips do not allow business class?", context)
    assert negated < plain


def test_retrieval_score_blends_in_only_when_asked() -> None:
    context = (chunk(1, TRAVEL, score=0.0),)
    lexical = evidence_score("Where must hotels be booked?", context)
    assert evidence_score("Where must hotels be booked?", context, retrieval_weight=0.0) == lexical
    blended = evidence_score("Where must hotels be booked?", context, retrieval_weight=0.5)
    assert blended == pytest.approx(0.5 * lexical)


def test_threshold_is_a_parameter(policies: tuple[ContextChunk, ...]) -> None:
    question = "Are taxis reimbursed for late trips?"
    score = answerability_score(question, policies)
    assert abstention_reason(question, policies, min_evidence=score) is None
    assert abstention_reason(question, policies, min_evidence=min(score + 0.01, 1.0)) == (
        INSUFFICIENT_EVIDENCE
    )
    strict = ExtractiveAdapter(min_evidence=1.0).generate(AnswerRequest(question, policies))
    assert strict.abstained or score == 1.0


def test_threshold_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="min_evidence"):
        ExtractiveAdapter(min_evidence=1.5)
