"""The extractive adapter answers only with verbatim, cited sentences of its context."""

from __future__ import annotations

from collections.abc import Callable

from answer.scoring import score_sentences
from answer import (
    AnswerOptions,
    AnswerRequest,
    ContextChunk,
    ExtractiveAdapter,
)

from .conftest import EXPENSES, MARKER, TRAVEL, assert_well_cited, chunk


def ask(question: str, context: tuple[ContextChunk, ...], **options: int) -> object:
    return ExtractiveAdapter().generate(
        AnswerRequest(question, context, AnswerOptions(**options))
    )


def test_on_topic_question_is_answered_with_the_supporting_sentence(
    policies: tuple[ContextChunk, ...],
) -> None:
    result = ExtractiveAdapter().generate(
        AnswerRequest("Which class may employees book for short flights?", policies)
    )
    assert not result.abstained and result.reason is None
    assert result.citations[0].quote == (
        "Employees may book economy class for flights under six hours."
    )
    assert result.answer.startswith(
        "Employees may book economy class for flights under six hours [1]."
    )


def test_citation_quotes_are_verbatim_text_of_their_chunk(
    policies: tuple[ContextChunk, ...],
) -> None:
    result = ExtractiveAdapter().generate(
        AnswerRequest("When are expense reports due and what must be attached?", policies)
    )
    assert not result.abstained
    for citation in result.citations:
        assert citation.quote in EXPENSES
    assert_well_cited(result, policies)


def test_every_citation_points_to_the_chunk_it_quotes(policies: tuple[ContextChunk, ...]) -> None:
    result = ExtractiveAdapter().generate(
        AnswerRequest("Where must hotels be booked?", policies)
    )
    (citation,) = result.citations
    assert citation.chunk_id == "chunk-1"
    assert citation.doc_id == "doc-1"
    assert citation.title == "Travel policy"
    assert citation.url == "https://intranet.example.com/doc-1"
    assert citation.quote in TRAVEL


def test_markers_and_citations_match_one_to_one(policies: tuple[ContextChunk, ...]) -> None:
    result = ExtractiveAdapter().generate(
        AnswerRequest(
            "Which flights allow business class and when are expense reports due?", policies
        )
    )
    assert len(result.citations) >= 2
    assert [int(n) for n in MARKER.findall(result.answer)] == [
        c.n for c in result.citations
    ]
    assert_well_cited(result, policies)


def test_supporting_sentences_come_from_every_chunk_the_question_needs(
    policies: tuple[ContextChunk, ...],
) -> None:
    result = ExtractiveAdapter().generate(
        AnswerRequest(
            "Which flights allow business class and when are expense reports due?", policies
        )
    )
    assert {c.chunk_id for c in result.citations} == {"chunk-1", "chunk-2"}


def test_near_duplicate_sentences_are_cited_once() -> None:
    repeated = "The office opens at 8 am on weekdays."
    context = (
        chunk(1, f"{repeated} Parking is free."),
        chunk(2, f"Welcome! {repeated}"),
    )
    result = ExtractiveAdapter().generate(AnswerRequest("When does the office open?", context))
    assert [c.quote for c in result.citations] == [repeated]


def test_max_sentences_caps_the_answer(policies: tuple[ContextChunk, ...]) -> None:
    request = AnswerRequest(
        "Which flights allow business class and when are expense reports due?",
        policies,
        AnswerOptions(max_sentences=1),
    )
    result = ExtractiveAdapter().generate(request)
    assert len(result.citations) == 1
    assert_well_cited(result, policies)


def test_source_reference_brackets_do_not_pose_as_citation_markers() -> None:
    context = (chunk(1, "The river Vistula flows through Warsaw [3]. It is long."),)
    result = ExtractiveAdapter().generate(
        AnswerRequest("Which river flows through Warsaw?", context)
    )
    assert result.citations[0].quote == "The river Vistula flows through Warsaw [3]."
    assert result.answer == "The river Vistula flows through Warsaw [1]."


def test_answer_reports_the_model_and_no_unsupported_sentences(
    policies: tuple[ContextChunk, ...],
) -> None:
    result = ExtractiveAdapter().generate(
        AnswerRequest("Where must hotels be booked?", policies)
    )
    assert result.model == "extractive"
    assert result.model_version == "lexical-3"
    assert result.unsupported_sentences == ()
    assert (result.usage.input_tokens, result.usage.output_tokens) == (0, 0)


def test_an_embed_function_is_used_when_given(policies: tuple[ContextChunk, ...]) -> None:
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [[1.0, float(len(t) % 7)] for t in texts]

    adapter = ExtractiveAdapter(embed=embed, min_evidence=0.2)
    result = adapter.generate(AnswerRequest("Where must hotels be booked?", policies))
    assert calls and calls[0][0] == "Where must hotels be booked?"
    assert result.model_version == "lexical-3+embed"
    assert_well_cited(result, policies)


def test_same_request_gives_the_same_answer(policies: tuple[ContextChunk, ...]) -> None:
    request = AnswerRequest("Are taxis reimbursed?", policies)
    assert ExtractiveAdapter().generate(request) == ExtractiveAdapter().generate(request)


def leaning_to(*words: str) -> Callable[[list[str]], list[list[float]]]:
    """A stand-in for MiniLM: the question at cosine 0.8 to sentences with one of ``words``,
    0.5 to the others (first text: the question)."""
    def embed(texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0]] + [[0.8, 0.6] if any(w in t for w in words) else [0.5, 0.866]
                               for t in texts[1:]]
    return embed


def test_a_how_many_question_cites_each_figure_its_context_gives() -> None:
    # "vacation days" matches the Rotterdam sentence best, but a US employee's answer is the
    # other figure: two sentences with different figures are two facts, not two phrasings.
    # The sick days answer another question ("days" only), so they stay out.
    context = (chunk(1, "All full-time US employees receive 20 days of paid time off (PTO) "
                        "per year for vacation and personal days. Rotterdam employees receive "
                        "25 vacation days per year under their Dutch employment contracts. "
                        "Every employee also receives 10 paid sick days per year."),)
    result = ExtractiveAdapter(embed=leaning_to("Rotterdam", "sick"), min_evidence=0.0).generate(
        AnswerRequest("How many vacation days do I get?", context))
    assert result.citations[0].quote.startswith("All full-time")  # reading order
    quotes = [c.quote for c in result.citations]
    assert len(quotes) == 2 and "20 days" in quotes[0] and "25 vacation days" in quotes[1]
    assert_well_cited(result, context)


def test_a_second_phrasing_of_the_same_figure_is_not_cited_again() -> None:
    context = (chunk(1, "Expense reports are due within 30 days of the trip. Travel costs are "
                        "reimbursed within 30 days of approval."),)
    result = ExtractiveAdapter(embed=leaning_to("Expense"), min_evidence=0.0).generate(
        AnswerRequest("How many days do I have for expense reports?", context))
    assert [c.quote for c in result.citations] == [
        "Expense reports are due within 30 days of the trip."]


def test_a_question_in_the_text_is_never_the_answer() -> None:
    faq = chunk(1, "How do I contact the helpdesk?\nPost in Slack #it-help or call the "
                   "helpdesk on extension 4357. Is the helpdesk open on weekends?",
                title="IT helpdesk FAQ")
    result = ExtractiveAdapter(min_evidence=0.0).generate(
        AnswerRequest("How do I contact the helpdesk?", (faq,)))
    assert [c.quote for c in result.citations] == [
        "Post in Slack #it-help or call the helpdesk on extension 4357."]


def test_the_sentences_after_a_question_in_the_text_answer_it_to_the_paragraph_end() -> None:
    faq = chunk(1, "Can I use my own laptop for work?\nNo, company data stays on managed "
                   "machines. Ask IT for a loaner.\n\nHow do I print?\nInstall the printers "
                   "from Self Service.",
                title="IT helpdesk FAQ")
    result = ExtractiveAdapter(min_evidence=0.0).generate(
        AnswerRequest("Can I work on my own laptop?", (faq,)))
    quotes = [c.quote for c in result.citations]
    assert quotes and set(quotes) <= {"No, company data stays on managed machines.",
                                      "Ask IT for a loaner."}
    scored = score_sentences("Can I work on my own laptop?", (faq,))
    by_text = {faq.text[s.span.start:s.span.end]: s for s in scored}
    assert set(by_text) == {"No, company data stays on managed machines.",
                            "Ask IT for a loaner.", "Install the printers from Self Service."}
    assert by_text["Ask IT for a loaner."].covered >= {"laptop", "work"}
    assert not by_text["Install the printers from Self Service."].covered


def test_what_leads_up_to_a_question_on_its_line_is_part_of_the_question() -> None:
    faq = chunk(1, "Intro to the FAQ. It is short.\n\nI forgot my password. What do I do?\n"
                   "Use the reset link on the sign-in page.", title="IT helpdesk FAQ")
    scored = score_sentences("How do I reset my password?", (faq,))
    texts = {faq.text[s.span.start:s.span.end] for s in scored}
    assert texts == {"Intro to the FAQ.", "It is short.",
                     "Use the reset link on the sign-in page."}
    best = scored[0]
    assert faq.text[best.span.start:best.span.end].startswith("Use the reset link")
    assert "password" in best.covered  # from its question
