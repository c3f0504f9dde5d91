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
