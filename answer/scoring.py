"""How well each context sentence supports a question, as a number in [0, 1].

The score is the weighted fraction of the question's content terms that a sentence covers
(credit for a term found elsewhere in the same chunk is partial), so it reads the same for a
short question and a long one, and one threshold can be calibrated for all questions.

Term weights come from the context itself: a term found in few of its sentences is more
telling than one found in all of them, and a term found in none weighs the most, since it is
exactly what the context fails to say. Names, codes and numbers weigh more than common words.
A sentence that lacks a negation or a qualifier of the question ("not", "first", "least")
is penalised: sharing every other word, it still answers a different question. An optional
``embed`` function blends in semantic similarity, which catches paraphrases.

Measured on SQuAD 2.0 through our own retrieval, the best sentence's score separates
answerable from unanswerable questions only moderately (AUC ~0.57 lexical, ~0.67 with
MiniLM): lexical evidence cannot tell "who swore fealty to Charles" from "who did Charles
swear fealty to". ``answer.answerability`` combines it with what the best sentence lacks
into the calibrated probability the abstention threshold applies to. A model adapter is
expected to do better; this is the floor every adapter is held to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .text import (
    NEGATIONS,
    QUALIFIERS,
    QUESTION_FRAME_WORDS,
    STOPWORDS,
    Span,
    split_sentences,
    stem,
    tokens,
)
from .types import ContextChunk

Embed = Callable[[list[str]], list[list[float]]]
"""Texts in, one vector per text out (any scale: cosine similarity is used)."""

SENTENCE_WEIGHT = 0.85
"""Share of the score from the sentence alone; the rest from the sentence's whole chunk."""
DISTINCTIVE_BOOST = 2.0
"""Extra weight of names, numbers and codes over common words."""
QUALIFIER_PENALTY = 0.4
"""Score multiplier for each negation or qualifier ("not", "least", "first") of the question
that the sentence lacks: such a sentence answers another question."""
EMBED_WEIGHT = 0.7
"""Share of the score from semantic similarity, when an ``embed`` function is given."""


@dataclass(frozen=True)
class QuestionTerm:
    stem: str
    weight_boost: float
    """1.0 for common words, more for names, numbers and codes."""


@dataclass(frozen=True)
class ScoredSentence:
    """One sentence of one context chunk and how well it supports the question."""

    chunk_index: int
    """Position of the chunk in the request's context (not its ``[n]``)."""
    span: Span
    score: float
    covered: frozenset[str]
    """The question's term stems this sentence contains."""
    lexical: float = 0.0
    """The lexical part of ``score`` alone (what ``score`` is without ``embed``)."""
    similarity: float | None = None
    """Cosine similarity of question and sentence, when an ``embed`` function is given."""
    lacking: int = 0
    """Negations and qualifiers of the question that the sentence lacks."""


def question_terms(question: str) -> list[QuestionTerm]:
    """The question's content terms, stemmed and de-duplicated, with their weight boosts."""
    seen: dict[str, QuestionTerm] = {}
    words = re.findall(r"\S+", question)
    capitalised = {
        w.strip("\"'()[]{},.;:?!").lower()
        for i, w in enumerate(words)
        if i > 0 and w[:1].isupper()
    }
    for token in tokens(question):
        if token in STOPWORDS or token in QUESTION_FRAME_WORDS:
            continue
        boost = 1.0
        if any(ch.isdigit() for ch in token) or token in capitalised:
            boost = DISTINCTIVE_BOOST
        term = stem(token)
        if term not in seen or seen[term].weight_boost < boost:
            seen[term] = QuestionTerm(term, boost)
    return list(seen.values())


def score_sentences(
    question: str,
    context: Sequence[ContextChunk],
    *,
    embed: Embed | None = None,
) -> list[ScoredSentence]:
    """Every sentence of every chunk that could be an answer (``_chunk_sentences``), with
    its support score in [0, 1], best first."""
    terms = question_terms(question)
    negation_stems = {stem(n) for n in NEGATIONS}
    negated = any(t.stem in negation_stems for t in terms)
    qualifiers = {stem(q) for q in QUALIFIERS} & {t.stem for t in terms}
    sentences: list[_Sentence] = []
    chunk_stems: list[frozenset[str]] = []
    for index, chunk in enumerate(context):
        own, stems = _chunk_sentences(index, chunk)
        sentences.extend(own)
        chunk_stems.append(stems)
    if not sentences:
        return []

    weights = _term_weights(terms, [s.stems for s in sentences])
    total = sum(weights.values())
    similarities = _similarities(question, context, sentences, embed)
    scored: list[ScoredSentence] = []
    for (index, span, stems, _), similarity in zip(sentences, similarities, strict=True):
        covered = frozenset(t for t in weights if t in stems)
        lexical = 0.0
        if total > 0:
            in_sentence = sum(weights[t] for t in covered) / total
            in_chunk = sum(w for t, w in weights.items() if t in chunk_stems[index]) / total
            lexical = SENTENCE_WEIGHT * in_sentence + (1 - SENTENCE_WEIGHT) * in_chunk
        score = lexical
        if similarity is not None:
            score = (1 - EMBED_WEIGHT) * lexical + EMBED_WEIGHT * max(similarity, 0.0)
        lacking = len(qualifiers - stems) + (1 if negated and not stems & negation_stems else 0)
        penalty = QUALIFIER_PENALTY**lacking
        scored.append(ScoredSentence(index, span, _unit(score * penalty), covered,
                                     lexical=_unit(lexical * penalty), similarity=similarity,
                                     lacking=lacking))
    scored.sort(key=lambda s: (-s.score, s.chunk_index, s.span.start))
    return scored


def evidence_score(
    question: str,
    context: Sequence[ContextChunk],
    *,
    embed: Embed | None = None,
    retrieval_weight: float = 0.0,
) -> float:
    """How well the best sentence of ``context`` supports ``question``, in [0, 1].

    Comparable across questions, so one abstention threshold fits all of them.
    ``retrieval_weight`` blends in the best chunk's ``score`` (clamped to [0, 1]); leave it
    at 0 unless the retriever's scores are themselves calibrated (e.g. a cosine similarity).
    """
    scored = score_sentences(question, context, embed=embed)
    best = scored[0].score if scored else 0.0
    if retrieval_weight <= 0.0:
        return best
    retrieval = max(
        (min(max(c.score, 0.0), 1.0) for c in context if c.score is not None), default=None
    )
    if retrieval is None:
        return best
    return (1 - retrieval_weight) * best + retrieval_weight * retrieval


_SOURCE_MARKER = re.compile(r"\s*\[\d+\]")
"""``[12]``-style references inside a document, which would read as our own markers."""


def _chunk_sentences(index: int, chunk: ContextChunk) -> tuple[list[_Sentence], frozenset[str]]:
    """The chunk's sentences that could be an answer, and every term of the chunk (its
    label included).

    A question in the text (an FAQ's "How do I contact the helpdesk?", or "I forgot my
    password. What do I do?" with what leads up to it on a line that opens a paragraph) is
    no answer and is left out; the sentences after it, to the end of its paragraph, answer
    it, so they are scored as if they began with it (its terms count as theirs, and MiniLM
    reads it before them). Their quotes stay their own text.
    """
    text = chunk.text
    sentences: list[_Sentence] = []
    seen = {stem(t) for t in tokens(chunk.label)}
    asked, asked_stems, scope_end, asked_end = "", frozenset[str](), -1, 0
    for span in split_sentences(text):
        sentence = text[span.start : span.end]
        stems = frozenset(stem(t) for t in tokens(sentence))
        seen |= stems
        if span.start >= scope_end:
            asked, asked_stems = "", frozenset()
        if _asks(sentence):
            start = span.start  # with what leads up to it: "I lost it. What now?"
            floor = max(asked_end, _line_start(text, span.start))
            while _opens_paragraph(text, floor) and sentences and (
                    sentences[-1].span.start >= floor):
                start = sentences.pop().span.start
            asked = text[start : span.end]
            asked_stems = frozenset(stem(t) for t in tokens(asked))
            scope_end, asked_end = _paragraph_end(text, span.end), span.end
        elif _readable(sentence):
            sentences.append(_Sentence(index, span, stems | asked_stems, asked))
    return sentences, frozenset(seen)


class _Sentence(NamedTuple):
    chunk_index: int
    span: Span
    stems: frozenset[str]
    """Its own terms and those of the question it answers."""
    asked: str
    """The question in the text it answers ("" if none)."""


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _opens_paragraph(text: str, position: int) -> bool:
    """Whether ``position`` starts the text or follows a blank line."""
    return position == 0 or text[:position].rstrip(" \t").endswith("\n\n")


def _paragraph_end(text: str, start: int) -> int:
    """Where the paragraph holding ``start`` ends (a blank line), or the text's end."""
    end = text.find("\n\n", start)
    return len(text) if end < 0 else end


def _asks(text: str) -> bool:
    """Whether the sentence is a question (ends with "?", closing quotes aside)."""
    return text.rstrip().rstrip("\"'\u201d\u2019)]").endswith("?")


def _readable(text: str) -> bool:
    """Whether a sentence says anything once its source references are dropped."""
    return any(ch.isalnum() for ch in _SOURCE_MARKER.sub("", text))


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _term_weights(
    terms: Sequence[QuestionTerm], sentences: Sequence[frozenset[str]]
) -> dict[str, float]:
    count = len(sentences)
    weights: dict[str, float] = {}
    for term in terms:
        frequency = sum(1 for s in sentences if term.stem in s)
        idf = 1.0 + math.log((count + 1) / (frequency + 1))
        weights[term.stem] = idf * term.weight_boost
    return weights


def _similarities(
    question: str,
    context: Sequence[ContextChunk],
    sentences: Sequence[_Sentence],
    embed: Embed | None,
) -> list[float | None]:
    if embed is None:
        return [None] * len(sentences)
    texts = [question] + [" ".join(filter(None, (s.asked, context[s.chunk_index].text[
        s.span.start : s.span.end]))) for s in sentences]
    matrix = np.asarray(embed(texts), dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0.0] = 1.0  # a zero vector is similar to nothing (cosine 0)
    unit = matrix / norms[:, None]
    return [float(x) for x in unit[1:] @ unit[0]]
