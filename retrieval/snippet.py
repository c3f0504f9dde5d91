"""A short window of a hit's own text around the words of the query."""

from __future__ import annotations

import re
from bisect import bisect_right

_WORD = re.compile(r"\w+", re.UNICODE)


def make_snippet(text: str, query: str, *, max_chars: int = 240) -> str:
    """The ``max_chars`` window of ``text`` holding the most query words, cut at word
    boundaries and marked with ellipses where it was cut. Only ever the hit's own text."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    start = _sentence_start(text, _best_start(text, query, max_chars))
    end = min(len(text), start + max_chars)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    snippet = text[start:end].strip()
    return ("…" if start > 0 else "") + snippet + ("…" if end < len(text) else "")


def _best_start(text: str, query: str, max_chars: int) -> int:
    """The earliest scored word start whose window holds the most query words.

    Only starts at the word holding some query word's occurrence are scored (and the last
    start whose window reaches the end, which stands in for every later one): a best
    window can slide right until it starts at the word of its first query word and lose
    none, so the most is always among them. A dozen windows instead of one per word.
    """
    terms = {w.lower() for w in _WORD.findall(query) if len(w) > 2}
    starts = [m.start() for m in _WORD.finditer(text)]
    if not starts:
        return 0
    last = next((s for s in starts if s + max_chars >= len(text)), starts[-1])
    lowered = text.lower()
    candidates = {starts[0]}
    if len(lowered) == len(text):  # positions in ``lowered`` are positions in ``text``
        for term in terms:
            found = lowered.find(term)
            while found >= 0:
                word = starts[max(0, bisect_right(starts, found) - 1)]
                candidates.add(min(word, last))
                found = lowered.find(term, found + 1)
    else:  # a character whose lower case is longer: score every start, as before
        candidates.update(s for s in starts if s <= last)

    def score(start: int) -> int:
        window = text[start:start + max_chars].lower()
        return sum(1 for t in terms if t in window)

    return max(sorted(candidates), key=score)  # max keeps the first of equals


def _sentence_start(text: str, position: int) -> int:
    """Move back to the start of the sentence holding ``position`` if that is close by."""
    back = max(0, position - 60)
    boundary = max(text.rfind(". ", back, position), text.rfind("\n", back, position))
    return boundary + 2 if boundary >= 0 else position
