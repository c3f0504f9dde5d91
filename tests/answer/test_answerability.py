"""The abstention decision is a calibrated probability over a few evidence features, with
the threshold as the adapter's default and every weight of the sign the evidence allows."""

from __future__ import annotations

import pytest

from answer import (
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_MIN_EVIDENCE_WITH_EMBED,
    FEATURES,
    INSUFFICIENT_EVIDENCE,
    NO_RELEVANT_DOCUMENTS,
    SIGNS,
    AnswerRequest,
    ContextChunk,
    ExtractiveAdapter,
    Model,
    abstention_reason,
    answerability_features,
    answerability_probability,
    answerability_score,
    score_sentences,
)
from answer._calibration import LEXICAL, WITH_EMBED
from answer.cues import (
    expected_answer_type,
    has_candidate,
    negated_by_prefix,
    period_conflict,
)

from .conftest import PROJECT_ALPHA, TRAVEL, chunk

WIMBLEDON = (
    "Wimbledon is the oldest tennis tournament in the world. "
    "The 2019 women's singles title was won by Simona Halep. "
    "The tournament is played on grass courts in London."
)


def test_every_feature_has_a_sign_and_the_calibrated_weights_respect_it() -> None:
    assert set(SIGNS) == set(FEATURES)
    for model in (WITH_EMBED, LEXICAL):
        assert set(model.weights) <= set(FEATURES)
        for name, weight in model.weights.items():
            assert SIGNS[name] * weight >= 0, (name, weight)


def test_adapter_defaults_to_the_calibrated_thresholds() -> None:
    assert 0.0 < DEFAULT_MIN_EVIDENCE < 1.0
    assert 0.0 < DEFAULT_MIN_EVIDENCE_WITH_EMBED < 1.0
    assert ExtractiveAdapter().min_evidence == DEFAULT_MIN_EVIDENCE
    assert ExtractiveAdapter(embed=lambda texts: [[1.0] for _ in texts]).min_evidence == (
        DEFAULT_MIN_EVIDENCE_WITH_EMBED
    )
    assert ExtractiveAdapter(min_evidence=0.9).min_evidence == 0.9


def test_answerability_is_a_probability_that_ranks_support_above_off_topic() -> None:
    context = (chunk(1, TRAVEL, title="Travel policy"),)
    on_topic = answerability_score("Where must hotels be booked?", context)
    off_topic = answerability_score("How long should sourdough rise before baking?", context)
    assert 0.0 < off_topic < on_topic < 1.0


def test_answerability_is_zero_when_a_hard_rule_refuses() -> None:
    context = (chunk(1, PROJECT_ALPHA),)
    assert answerability_score("What is the budget of project QZ-9913?", context) == 0.0
    assert answerability_score("What is the budget?", ()) == 0.0


def test_a_name_missing_from_the_best_sentence_counts_against_answering() -> None:
    context = (chunk(1, WIMBLEDON, title="Wimbledon"),)
    stated = "Who won the 2019 women's singles title at Wimbledon?"
    unstated = "Who won the 2021 women's singles title at Wimbledon?"  # 2021 is in no chunk
    assert answerability_features(stated, context, score_sentences(stated, context))[
        "names_missing"] == 0.0
    assert abstention_reason(unstated, context) == NO_RELEVANT_DOCUMENTS

    elsewhere = (chunk(1, WIMBLEDON + " Serena Williams lost the 2018 final.",
                       title="Wimbledon"),)
    question = "Who won the 2018 women's singles title at Wimbledon?"
    values = answerability_features(question, elsewhere, score_sentences(question, elsewhere))
    assert values["names_missing"] > 0.0  # 2018 is in the chunk, not in the best sentence
    model = Model(bias=0.0, weights={"names_missing": -2.0})
    assert answerability_probability(values, model) < 0.5


def test_lift_measures_how_the_best_sentence_stands_out_of_its_chunk() -> None:
    context = (chunk(1, WIMBLEDON, title="Wimbledon"),)
    question = "Who won the 2019 women's singles title?"
    values = answerability_features(question, context, score_sentences(question, context))
    assert values["lift"] > 0.0
    single = (chunk(1, "The 2019 women's singles title was won by Simona Halep."),)
    assert answerability_features(question, single, score_sentences(question, single))[
        "lift"] == 0.0


def test_features_are_zero_without_a_sentence() -> None:
    assert answerability_features("Anything?", (), []) == dict.fromkeys(FEATURES, 0.0)


def test_assessment_exposes_the_score_the_threshold_is_compared_with() -> None:
    adapter = ExtractiveAdapter()
    request = AnswerRequest("Where must hotels be booked?", (chunk(1, TRAVEL),))
    assessment = adapter.assess(request)
    assert assessment.rule is None
    assert assessment.score == pytest.approx(answerability_score(request.question,
                                                                 request.context))
    assert set(assessment.features) == set(FEATURES)
    strict = ExtractiveAdapter(min_evidence=min(assessment.score + 1e-9, 1.0))
    assert strict.generate(request).reason == INSUFFICIENT_EVIDENCE
    lenient = ExtractiveAdapter(min_evidence=assessment.score)
    assert not lenient.generate(request).abstained


def test_zero_threshold_keeps_only_the_hard_rules(projects: tuple[ContextChunk, ...]) -> None:
    assert abstention_reason("How long should sourdough rise?", projects,
                             min_evidence=0.0) is None
    assert abstention_reason("What is the budget of project QZ-9913?", projects,
                             min_evidence=0.0) == NO_RELEVANT_DOCUMENTS


def test_the_wh_phrase_names_the_kind_of_answer_wanted() -> None:
    assert expected_answer_type("How many weeks of parental leave do new parents get?") == "number"
    assert expected_answer_type("In what year was the school formed?") == "date"
    assert expected_answer_type("When are mid-year check-ins held?") == "date"
    # "who" and "where" answers are as often common nouns as names: not checked
    assert expected_answer_type("Who acquired WhatsApp?") is None
    assert expected_answer_type("Where must hotels be booked?") is None
    assert expected_answer_type("How do I roll back a Harbor deployment?") is None
    assert expected_answer_type("What is the employer 401(k) match?") is None


def test_a_candidate_answer_must_be_of_the_wanted_kind_and_new_to_the_question() -> None:
    question = "In what month of 2014 was WhatsApp acquired?"
    assert has_candidate("date", "WhatsApp was bought by Facebook in February 2014.",
                         question=question)
    assert not has_candidate("date", "WhatsApp was bought by Facebook in 2014.",
                             question=question)
    assert has_candidate("number", "Parents get sixteen weeks of leave.",
                         question="How many weeks of leave?")
    assert not has_candidate("date", "Check-ins are held mid-year.",
                             question="When are mid-year check-ins held?")
    assert has_candidate("date", "Check-ins are held in July.",
                         question="When are mid-year check-ins held?")


def test_a_sentence_about_another_year_conflicts_with_the_question() -> None:
    question = "Who won the women's singles title at Wimbledon in 2019?"
    assert period_conflict(question, "Angelique Kerber won the 2018 title.")
    assert not period_conflict(question, "Simona Halep won the 2019 title, Kerber the 2018 one.")
    assert not period_conflict(question, "Simona Halep won the title.")  # states no year
    assert not period_conflict("Who won the title?", "Kerber won the 2018 title.")


def test_a_negating_prefix_turns_a_sentence_against_the_question() -> None:
    sentence = "This makes the bounds independent of the computational model."
    assert negated_by_prefix("What makes the bounds dependent of the model?", sentence)
    assert not negated_by_prefix("What makes the bounds independent of the model?", sentence)
    assert not negated_by_prefix("What are the bounds of the model?", sentence)


def test_cues_against_answering_show_in_the_features() -> None:
    context = (chunk(1, WIMBLEDON, title="Wimbledon"),)
    question = "When was Wimbledon played on clay?"
    values = answerability_features(question, context, score_sentences(question, context))
    assert values["type_missing"] == 1.0  # the best sentence states no date
    stated = "Who won the 2019 women's singles title?"
    values = answerability_features(stated, context, score_sentences(stated, context))
    assert values["type_missing"] == values["period_conflict"] == values["negated"] == 0.0
