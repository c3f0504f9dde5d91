"""The answerer that needs no model: it quotes the context's best supporting sentences.

It is the default of the embedded deployment and the fallback when a model server is
down, so it must never invent text: every sentence of its answer is a verbatim sentence of
a context chunk, followed by the ``[n]`` of the citation that quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import Citation

from .._calibration import LEXICAL, WITH_EMBED
from ..abstain import (
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_MIN_EVIDENCE_WITH_EMBED,
    INSUFFICIENT_EVIDENCE,
    abstained_result,
    hard_rule,
)
from ..answerability import features, probability
from ..cues import candidates, expected_answer_type
from ..scoring import Embed, ScoredSentence, score_sentences
from ..text import normalize_space, tokens
from ..types import AnswerRequest, AnswerResult, ContextChunk

RELATIVE_FLOOR = 0.6
"""A further supporting sentence must score at least this share of the best one."""
SAME_FACT = 0.9
"""A further sentence that covers no new question term must score this share of the best,
unless it answers the same terms with another figure (``_choose``)."""
NEAR_DUPLICATE = 0.7
"""Word-set overlap (Jaccard) above which two sentences say the same thing."""

_TRAILING_PUNCT = re.compile(r"[.!?]+$")
_SOURCE_MARKER = re.compile(r"\s*\[\d+\]")
"""``[12]``-style references inside a document, which would read as our own markers."""


@dataclass(frozen=True)
class Assessment:
    """What the adapter decides on, before it compares ``score`` with ``min_evidence``."""

    score: float
    """Probability that the context answers the question (the calibrated model's output)."""
    rule: str | None
    """The reason to abstain whatever the threshold (no context, a name the context lacks),
    else None."""
    features: Mapping[str, float]
    """The model's inputs (``answer.FEATURES``)."""
    scored: tuple[ScoredSentence, ...]
    """The readable context sentences, best supporting first."""


class ExtractiveAdapter:
    """Answers with 1-3 verbatim context sentences, or abstains.

    ``embed`` (texts in, vectors out) adds semantic similarity to the lexical score when
    given; without it the adapter is purely lexical and fully deterministic.
    ``min_evidence`` is the abstention threshold on the answerability probability (see
    ``answer.answerability``); None picks the default calibrated for the chosen scoring.
    """

    kind = "extractive"
    can_stream = False
    supports_schema = False

    def __init__(
        self,
        *,
        min_evidence: float | None = None,
        embed: Embed | None = None,
    ) -> None:
        if min_evidence is None:
            min_evidence = (
                DEFAULT_MIN_EVIDENCE if embed is None else DEFAULT_MIN_EVIDENCE_WITH_EMBED
            )
        if not 0.0 <= min_evidence <= 1.0:
            raise ValueError(f"min_evidence must be within [0, 1], got {min_evidence}")
        self.min_evidence = min_evidence
        self.embed = embed

    @property
    def model_version(self) -> str:
        """Names the scoring, so an audit row tells lexical answers from embedded ones."""
        return "lexical-3+embed" if self.embed is not None else "lexical-3"

    def assess(self, request: AnswerRequest) -> Assessment:
        """Score the context's sentences and how likely they answer the question."""
        question, context = request.question, request.context
        rule = hard_rule(question, context)
        scored = score_sentences(question, context, embed=self.embed) if rule is None else []
        if rule is None and not scored:
            rule = INSUFFICIENT_EVIDENCE
        values = features(question, context, scored)
        model = LEXICAL if self.embed is None else WITH_EMBED
        score = probability(values, model) if scored else 0.0
        return Assessment(score=score, rule=rule, features=values, scored=tuple(scored))

    def generate(self, request: AnswerRequest) -> AnswerResult:
        context = request.context
        assessment = self.assess(request)
        scored = assessment.scored
        reason = assessment.rule
        if reason is None and assessment.score < self.min_evidence:
            reason = INSUFFICIENT_EVIDENCE
        if reason is not None:
            return abstained_result(reason, model=self.kind, model_version=self.model_version)

        chosen = _choose(
            scored,
            context,
            question=request.question,
            max_sentences=request.options.max_sentences,
            max_words=request.options.max_output_tokens,
        )
        parts: list[str] = []
        citations: list[Citation] = []
        for n, sentence in enumerate(chosen, start=1):
            chunk = context[sentence.chunk_index]
            quote = _quote(context, sentence)
            parts.append(_with_marker(_render(quote), n))
            citations.append(
                Citation(
                    n=n,
                    doc_id=chunk.doc_id,
                    chunk_id=chunk.chunk_id,
                    title=chunk.title,
                    url=chunk.url,
                    quote=quote,
                )
            )
        return AnswerResult(
            answer=" ".join(parts),
            citations=tuple(citations),
            model=self.kind,
            model_version=self.model_version,
        )


def _choose(
    scored: Sequence[ScoredSentence],
    context: Sequence[ContextChunk],
    *,
    question: str,
    max_sentences: int,
    max_words: int,
) -> list[ScoredSentence]:
    """The best sentence, then others that add support (not repeat it), in reading order.

    A further sentence must score near the best one and either cover a question term the
    chosen ones miss, or score almost as well: two phrasings of one fact are one citation.
    When the question asks "how many" or "when" (``answer.cues``), a sentence that covers
    every question term the best one covers but gives another figure is another fact, and
    kept: "How many vacation days do I get?" gets 20 (US) and 25 (Rotterdam), not "10 paid
    sick days", which covers "days" only.
    The best sentence is always kept whole (a quote is never cut); further ones only while
    the answer stays within ``max_words``, a stand-in for the output token budget.
    Reading order: chunks in the order of their best chosen sentence, sentences within a
    chunk in document order.
    """
    best = scored[0]
    chosen = [best]
    covered = set(best.covered)
    best_quote = _quote(context, best)
    word_sets = [frozenset(tokens(best_quote))]
    length = len(best_quote.split())
    kind = expected_answer_type(question)
    figures = candidates(kind, best_quote, question=question)
    for candidate in scored[1:]:
        if len(chosen) >= max_sentences or candidate.score < RELATIVE_FLOOR * best.score:
            break
        quote = _quote(context, candidate)
        candidate_words = frozenset(tokens(quote))
        if any(_jaccard(candidate_words, seen) > NEAR_DUPLICATE for seen in word_sets):
            continue
        new_figures = (candidates(kind, quote, question=question) - figures
                       if candidate.covered >= best.covered else set())
        if (not candidate.covered - covered and not new_figures
                and candidate.score < SAME_FACT * best.score):
            continue
        if length + len(quote.split()) > max_words:
            continue
        chosen.append(candidate)
        covered |= candidate.covered
        figures |= new_figures
        word_sets.append(candidate_words)
        length += len(quote.split())
    chunk_rank: dict[int, int] = {}
    for sentence in chosen:
        chunk_rank.setdefault(sentence.chunk_index, len(chunk_rank))
    return sorted(chosen, key=lambda s: (chunk_rank[s.chunk_index], s.span.start))


def _quote(context: Sequence[ContextChunk], sentence: ScoredSentence) -> str:
    return context[sentence.chunk_index].text[sentence.span.start : sentence.span.end]


def _render(quote: str) -> str:
    """The quote as it reads in the answer: one line, without the source's own ``[n]``s."""
    return normalize_space(_SOURCE_MARKER.sub("", quote))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def _with_marker(sentence: str, n: int) -> str:
    """``Text ends here.`` -> ``Text ends here [n].``"""
    match = _TRAILING_PUNCT.search(sentence)
    if match is None:
        return f"{sentence} [{n}]."
    return f"{sentence[: match.start()].rstrip()} [{n}]{match.group(0)}"
