"""Can this context answer this question? A calibrated probability from a few features.

``evidence_score`` alone (how much of the question the best sentence covers) cannot tell an
answerable question from one written to look answerable: SQuAD 2.0's unanswerable
questions copy their paragraph's words and change one detail. The decision therefore adds
cheap signals about the best supporting sentence, combined in a small logistic model:

- ``evidence``: the best sentence's score (lexical coverage of the question, blended with
  MiniLM similarity when an ``embed`` function is given, qualifier penalty included)
- ``absent``: the share of the question's content terms found nowhere in that sentence's
  chunk (its title and headings included): a question about another entity, period or
  property
- ``names_missing``: the share of the question's distinctive terms (names, numbers, codes,
  quoted phrases) missing from the best sentence itself (its chunk's title and headings
  count): the answer sentence of "who won in 2019" must say 2019
- ``lift``: how much better the best sentence matches than the other sentences of its
  chunk (MiniLM similarity when given, else the lexical score): a real answer stands out
  of its paragraph, a question merely on the paragraph's topic matches all of it alike
- ``type_missing``: the question's wh-phrase wants a number ("how many") or a date
  ("when", "what year") and the best sentence holds none that the question does not
  already contain (``answer.cues``)
- ``period_conflict``: the question names a year, the best sentence (with its chunk's
  title and headings) names other years and never that one: a 2021 question, a sentence
  about 2022
- ``negated``: a question word the best sentence holds only with a negating prefix
  ("dependent" / "independent")

Each feature has the sign its weight must have (``SIGNS``): more evidence can only make an
answer likelier, a missing term, name or answer type only less likely. The fit drops a
feature whose weight comes out the other way, since that is the data's construction
speaking, not evidence: on SQuAD 2.0 ``absent`` gets a *positive* weight (answerable
questions paraphrase, the adversarial unanswerable ones copy the paragraph's words), which
would make the app readier to answer questions about things its documents never mention.

Measured on the tuning half of SQuAD 2.0 (leave-one-article-out, threshold set on the other
articles), ``evidence`` alone (with MiniLM) has an AUC of ~0.680 and abstains on ~35% of
the unanswerable questions; the first four features ~0.687 and ~37%; all seven ~0.691
and ~38% (answering ~85.7%). The last three fire rarely on SQuAD (a few percent of its
questions) and so move it little; they were designed after looking at RGB's on-topic news
passages that lack the answer (another year, no figure or date), but their weights, like
every other, come from the SQuAD tuning half alone. Tried and left out for adding nothing
there (or a weight of the wrong sign): coverage of the question within the best sentence
and its neighbours, at sentence rather than chunk level, of the words after "what"/"which",
or softened by MiniLM word similarity; a phrase of the question with one word swapped in the
sentence; a negation only the sentence holds; the margin of the best sentence over the
next; word bigrams, retrieval scores and a head on the MiniLM vectors; token alignment
of the question with the best sentence or its chunk (each question word piece's best cosine
among MiniLM's contextual token vectors, as ColBERT scores: minimum, mean, share under 0.6;
leave-one-article-out AUC 0.674-0.680 against 0.679 without). An unconstrained
gradient-boosted model over all of them reaches no better held-out AUC (~0.70 on the
questions the hard rules let through) than this logistic one: the lexical and MiniLM
signals are spent, a reading model (NLI, extractive QA) would be the next step.
None ships offline, and one trained here from the bundled MiniLM falls short: fine-tuned as
a cross-encoder (question, title + paragraph -> answerable; 2 epochs, with a random other
paragraph of the same article as an extra negative for half the answerable questions) and
scored as its best logit over the top 3-5 retrieved chunks, a reader trained on all eight
tuning articles reaches held-out AUC 0.725 alone (0.719 on the gold paragraphs, against
0.748 for this model); trained on four, 0.646 on the other four and 0.610 on the held-out
half, and blended with this model 0.746 on the held-out half (with each answerable
question's paragraph less its answer sentence as a further negative: 0.580 and 0.559,
blended 0.746). The eight-article reader blended with this model would reach ~0.77 there,
but its scores on the tuning half are in-sample (AUC 0.86), so neither the blend's weight
nor its threshold can be set honestly on that half; cross-fitting can, and 1.4k questions
per fold are too few to teach MiniLM to read.

The weights live in ``answer/_calibration.py``, fitted on that tuning half by
``python -m bench.fit_abstention``; ``python -m bench.abstention`` reports the held-out
half. Everything here is plain Python, deterministic, and well under a millisecond per
question once the sentences are scored.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .cues import expected_answer_type, has_candidate, negated_by_prefix, period_conflict
from .scoring import ScoredSentence, question_terms
from .terms import distinctive_terms, missing_terms
from .text import stem, tokens
from .types import ContextChunk

FEATURES = ("evidence", "absent", "names_missing", "lift", "type_missing", "period_conflict",
            "negated")
"""The model's inputs, in the order the fit script writes their weights."""
SIGNS = {"evidence": 1, "absent": -1, "names_missing": -1, "lift": 1, "type_missing": -1,
         "period_conflict": -1, "negated": -1}
"""The sign each weight may have; the fit drops a feature that comes out otherwise."""


@dataclass(frozen=True)
class Model:
    """A logistic model over ``FEATURES``: ``p = 1 / (1 + exp(-(bias + w . x)))``."""

    bias: float
    weights: Mapping[str, float]


def features(
    question: str,
    context: Sequence[ContextChunk],
    scored: Sequence[ScoredSentence],
) -> dict[str, float]:
    """The model's inputs for ``question`` over ``context`` and its ``scored`` sentences
    (best first, as ``score_sentences`` returns them); all zero without a sentence."""
    values = dict.fromkeys(FEATURES, 0.0)
    if not scored:
        return values
    best = scored[0]
    chunk = context[best.chunk_index]
    values["evidence"] = best.score
    terms = question_terms(question)
    if terms:
        in_chunk = {stem(t) for t in tokens(f"{chunk.label}\n{chunk.text}")}
        values["absent"] = sum(1 for t in terms if t.stem not in in_chunk) / len(terms)
    names = distinctive_terms(question)
    if names:
        sentence = dataclasses.replace(chunk, text=chunk.text[best.span.start : best.span.end])
        values["names_missing"] = len(missing_terms(question, [sentence])) / len(names)
    values["lift"] = _lift(best, scored)
    values.update(_cues(question, chunk.label, chunk.text[best.span.start : best.span.end]))
    return values


def probability(values: Mapping[str, float], model: Model) -> float:
    """The model's probability that the context answers the question, in (0, 1)."""
    z = model.bias + sum(model.weights.get(name, 0.0) * values[name] for name in FEATURES)
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _cues(question: str, label: str, sentence: str) -> dict[str, float]:
    """The ``answer.cues`` of the best sentence, as 0/1 features."""
    kind = expected_answer_type(question)
    return {
        "type_missing": float(kind is not None
                              and not has_candidate(kind, sentence, question=question)),
        "period_conflict": float(period_conflict(question, f"{label}\n{sentence}")),
        "negated": float(negated_by_prefix(question, sentence)),
    }


def _lift(best: ScoredSentence, scored: Sequence[ScoredSentence]) -> float:
    """Best sentence's match minus the mean match of its chunk's sentences (itself
    included); 0 for a one-sentence chunk."""
    same = [s for s in scored if s.chunk_index == best.chunk_index]
    if len(same) < 2:
        return 0.0

    def match(s: ScoredSentence) -> float:
        return s.similarity if s.similarity is not None else s.lexical

    return match(best) - sum(match(s) for s in same) / len(same)
