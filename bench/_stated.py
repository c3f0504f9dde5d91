"""Does a passage state a question's answer? A deliberately narrow reading of RGB's answers.

RGB's ``en_fact.json`` calls its ``negative`` passages irrelevant: search results on the
question's topic that lack the answer. Read by a person, about half of its 100 questions
have a negative that does state it, only not in the answer's exact words: "Barty wins the
2021 Wimbledon" (answer "Ashleigh Barty"), "will now be released on November 10" (answer
"November 10 2020"), "purchase Youtube for 1.65 billion dollars" (answer "$1.65 billion").
Refusing those questions would be a wrong refusal, so the abstention bench reports them
apart, with this rule as the judge:

- a date answer (it names a month) is stated when the month (full or abbreviated) has the
  answer's day within two words before or three after it ("15th May", "November 21 of
  1998"); an answer with no day needs its year there instead ("June of 2020"). A search
  result's leading dateline ("Jul 10, 2021 ...") is the page's date, not a fact, and is
  skipped.
- a number answer ("$1.65 billion") is stated when its figure is ("1.65").
- any other answer (a name, a place) is stated when its last word of three letters or
  more is, as a whole word ("Barty" for "Ashleigh Barty", "Florida" for "Tampa,
  Florida").

It errs towards "not stated" for a paraphrase it cannot see ("$6 billion" for "$6.04
billion", a nickname) and towards "stated" for a surname that names someone else; its
verdicts are listed in the bench's JSON so a reader can check them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
DATELINE = re.compile(r"^\s*[A-Z][a-z]{2} \d{1,2}, \d{4} \.\.\.")
FIGURE = re.compile(r"\$?\d+(?:\.\d+)?")


def states_answer(passage: str, answers: Iterable[str]) -> bool:
    """True when ``passage`` states any of ``answers`` (see the module's rule)."""
    words = _words(DATELINE.sub("", passage, count=1))
    text = " ".join(words)
    return any(_states(words, text, answer) for answer in answers if answer.strip())


def _states(words: list[str], text: str, answer: str) -> bool:
    tokens = _words(answer)
    month = next((m for m in map(_month, tokens) if m is not None), None)
    if month is not None:
        day = next((t for t in tokens if t.isdigit() and len(t) <= 2), None)
        year = next((t for t in tokens if t.isdigit() and len(t) == 4), None)
        wanted = day or year
        if day is not None and re.search(rf"(?<![\d/])0?{month + 1}/0?{day}(?![\d])", text):
            return True  # "6/19/2020"
        return wanted is not None and any(
            _month(word) == month and wanted in words[max(0, i - 2):i + 4]
            for i, word in enumerate(words))
    figure = next((t for t in tokens if FIGURE.fullmatch(t)), None)
    if figure is not None:
        return re.search(rf"(?<![\d.]){re.escape(figure.lstrip('$'))}(?!\d)", text) is not None
    names = [t for t in tokens if len(t) >= 3] or tokens
    return bool(names) and re.search(rf"\b{re.escape(names[-1])}\b", text) is not None


def _words(text: str) -> list[str]:
    """Lower-case ASCII words, "21st" read as "21", figures kept whole ("1.65", "$6")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    ascii_text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", ascii_text)
    return re.findall(r"\$?\d+(?:[./]\d+)*|[a-z]+", ascii_text)


def _month(word: str) -> int | None:
    if len(word) < 3:
        return None
    return next((i for i, name in enumerate(MONTHS) if name.startswith(word)), None)
