"""When to refuse: saying "no grounded answer" beats a confident answer from weak evidence.

Every adapter runs these rules before it answers (a model adapter before it spends tokens):

1. no context at all                                   -> ``no_relevant_documents``
2. a distinctive term of the question (a name, a code like ``INV-2041``, a number, a quoted
   phrase) occurs in no context chunk: the context is about something else
                                                       -> ``no_relevant_documents``
3. the ``answerability_score`` of the context (a probability from a small logistic model
   over the best sentence's evidence, see ``answer.answerability``) is under ``min_evidence``
                                                       -> ``insufficient_evidence``

Rules 1 and 2 hold whatever the threshold (``hard_rule``); rule 3's threshold is calibrated
on data (``answer/_calibration.py``, written by ``python -m bench.fit_abstention``).

An abstention carries no citation, and its text names no document, so it tells the caller
nothing about what exists beyond what they may read.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._calibration import LEXICAL, THRESHOLD_LEXICAL, THRESHOLD_WITH_EMBED, WITH_EMBED
from .answerability import features, probability
from .scoring import Embed, score_sentences
from .terms import distinctive_terms, missing_terms
from .types import AnswerResult, ContextChunk

NO_RELEVANT_DOCUMENTS = "no_relevant_documents"
INSUFFICIENT_EVIDENCE = "insufficient_evidence"

ABSTAIN_MESSAGE = "I couldn't find a grounded answer in the documents you can access."

DEFAULT_MIN_EVIDENCE = THRESHOLD_LEXICAL
"""Default threshold on ``answerability_score`` without an ``embed`` function: calibrated to
answer 87% of the answerable questions of the tuning half of SQuAD 2.0, asked through our
own retrieval (``python -m bench.abstention`` reports the held-out half)."""
DEFAULT_MIN_EVIDENCE_WITH_EMBED = THRESHOLD_WITH_EMBED
"""The same with MiniLM similarity (``embed=``), which is what the app serves."""

__all__ = [
    "ABSTAIN_MESSAGE",
    "DEFAULT_MIN_EVIDENCE",
    "DEFAULT_MIN_EVIDENCE_WITH_EMBED",
    "INSUFFICIENT_EVIDENCE",
    "NO_RELEVANT_DOCUMENTS",
    "abstained_result",
    "abstention_reason",
    "answerability_score",
    "distinctive_terms",
    "hard_rule",
    "missing_terms",
]


def hard_rule(question: str, context: Sequence[ContextChunk]) -> str | None:
    """Rules 1 and 2: the reason to abstain whatever the threshold, else None."""
    if not context or not any(chunk.text.strip() for chunk in context):
        return NO_RELEVANT_DOCUMENTS
    if missing_terms(question, context):
        return NO_RELEVANT_DOCUMENTS
    return None


def answerability_score(
    question: str, context: Sequence[ContextChunk], *, embed: Embed | None = None
) -> float:
    """Probability, in [0, 1], that ``context`` answers ``question``: the calibrated model
    (with MiniLM similarity when ``embed`` is given) over its best sentences; 0 when a hard
    rule refuses or no sentence is left."""
    if hard_rule(question, context) is not None:
        return 0.0
    scored = score_sentences(question, context, embed=embed)
    if not scored:
        return 0.0
    model = LEXICAL if embed is None else WITH_EMBED
    return probability(features(question, context, scored), model)


def abstention_reason(
    question: str,
    context: Sequence[ContextChunk],
    *,
    min_evidence: float | None = None,
    evidence: float | None = None,
    embed: Embed | None = None,
) -> str | None:
    """The stable reason to abstain, or None when the context may answer ``question``.

    ``min_evidence`` defaults to the threshold calibrated for the scoring (with or without
    ``embed``). Pass ``evidence`` when the ``answerability_score`` is already known (the
    extractive adapter computes it anyway); otherwise it is computed here.
    """
    rule = hard_rule(question, context)
    if rule is not None:
        return rule
    if min_evidence is None:
        min_evidence = DEFAULT_MIN_EVIDENCE if embed is None else DEFAULT_MIN_EVIDENCE_WITH_EMBED
    if min_evidence <= 0.0:
        return None  # a probability is never below 0: no need to compute it
    if evidence is None:
        evidence = answerability_score(question, context, embed=embed)
    if evidence < min_evidence:
        return INSUFFICIENT_EVIDENCE
    return None


def abstained_result(reason: str, *, model: str, model_version: str | None = None) -> AnswerResult:
    """The answer to give instead: an honest sentence, no citations, no hint of any document."""
    return AnswerResult(
        answer=ABSTAIN_MESSAGE,
        abstained=True,
        reason=reason,
        model=model,
        model_version=model_version,
    )
