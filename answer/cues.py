"""Cheap cues that a sentence on the question's topic still does not answer it.

- **The wrong answer type.** The question's wh-phrase says what kind of answer it wants:
  "how many" a number, "when" / "what year" a date. A sentence with no candidate of that
  kind (one the question does not already contain) may share every word of the question
  and still not say the answer. Only these two kinds are checked: a "who" or "where"
  answer is as often a common noun ("the finance director", "the travel portal") as a
  capitalised name, so a missing capital would refuse good answers.
- **Another period.** A question about 2019 and a sentence that states 2018 (and not 2019)
  are about different events, however alike they read.
- **A negating prefix.** "dependent" in the question, "independent" in the sentence: the
  sentence says the opposite.

Each cue is a yes/no, deterministic and plain Python; ``answer.answerability`` turns them
into features whose weights are fitted on SQuAD 2.0 (``python -m bench.fit_abstention``).
"""

from __future__ import annotations

import re

from .text import NUMBER_WORDS, stem, tokens

NUMBER = "number"
DATE = "date"

_NUMBER_QUESTION = re.compile(
    r"\bhow (?:many|much|long|old|far|big|large|tall|high|fast|quickly|soon|deep|wide"
    r"|heavy)\b|\b(?:what|which) (?:percentage|percent|number|amount|proportion|share"
    r"|fraction|size|population)\b"
)
_DATE_QUESTION = re.compile(
    r"\b(?:what|which) (?:year|decade|century|date|day|month|era|time period|period)\b"
    r"|^(?:since |until )?when\b|(?:^|[,;] )when\b"
)
_AMOUNT_WORDS = frozenset(NUMBER_WORDS) | frozenset(
    """
    thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands
    million millions billion billions trillion dozen dozens half quarter twice once
    """.split()
)
_DATE_WORDS = frozenset(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec century centuries decade bc ad bce
    monday tuesday wednesday thursday friday saturday sunday spring summer autumn winter
    quarter
    """.split()
)
_YEAR = re.compile(r"(?<![\d.,])(1\d{3}|20\d{2})(?:s|'s)?(?![\d.,]\d)")
_NEGATING_PREFIXES = ("in", "un", "non", "dis", "im", "ir", "il", "anti")


def expected_answer_type(question: str) -> str | None:
    """``NUMBER`` or ``DATE``, or None when the wh-phrase wants another kind of answer."""
    q = " ".join(question.lower().split())
    if _NUMBER_QUESTION.search(q):
        return NUMBER
    if _DATE_QUESTION.search(q):
        return DATE
    return None


def has_candidate(kind: str, sentence: str, *, question: str) -> bool:
    """Whether ``sentence`` holds an answer of ``kind`` that ``question`` does not contain."""
    return bool(candidates(kind, sentence, question=question))


def candidates(kind: str | None, sentence: str, *, question: str) -> set[str]:
    """The answers of ``kind`` that ``sentence`` holds and ``question`` does not contain: its
    figures and number words for ``NUMBER``; its figures, months, weekdays and seasons for
    ``DATE``; none for another kind (None)."""
    if kind is None:
        return set()
    asked = {stem(t) for t in tokens(question)}
    words = _AMOUNT_WORDS if kind == NUMBER else _DATE_WORDS
    return {t for t in tokens(sentence)
            if (any(c.isdigit() for c in t) or t in words) and stem(t) not in asked}


def period_conflict(question: str, sentence: str) -> bool:
    """The question names a year and the sentence names other years, never that one."""
    asked = set(_YEAR.findall(question))
    stated = set(_YEAR.findall(sentence))
    return bool(asked) and bool(stated) and not asked & stated


def negated_by_prefix(question: str, sentence: str) -> bool:
    """A question word the sentence lacks but holds with a negating prefix, or the reverse
    ("dependent" / "independent", "legal" / "illegal")."""
    stated = {stem(t) for t in tokens(sentence)}
    for word in set(tokens(question)):
        if len(word) < 4 or stem(word) in stated:
            continue
        for prefix in _NEGATING_PREFIXES:
            if stem(prefix + word) in stated:
                return True
            rest = word.removeprefix(prefix)
            if rest != word and len(rest) >= 4 and stem(rest) in stated:
                return True
    return False
