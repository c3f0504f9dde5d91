"""A short window of a hit's own text around the words of the query."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)


def make_snippet(text: str, query: str, *, max_chars: int = 240) -> str:
    """The ``max_chars`` window of ``text`` holding the most query words, cut at word
    boundaries and marked with ellipses where it was cut. Only ever the hit's own text."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    terms = {w.lower() for w in _WORD.findall(query) if len(w) > 2}
    words = list(_WORD.finditer(text))
    best_start, best_score = 0, -1
    for match in words:
        start = match.start()
        window = text[start:start + max_chars].lower()
        score = sum(1 for t in terms if t in window)
        if score > best_score:
            best_start, best_score = start, score
        if start + max_chars >= len(text):
            break
    start = _sentence_start(text, best_start)
    end = min(len(text), start + max_chars)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    snippet = text[start:end].strip()
    return ("…" if start > 0 else "") + snippet + ("…" if end < len(text) else "")


def _sentence_start(text: str, position: int) -> int:
    """Move back to the start of the sentence holding ``position`` if that is close by."""
    back = max(0, position - 60)
    boundary = max(text.rfind(". ", back, position), text.rfind("\n", back, position))
    return boundary + 2 if boundary >= 0 else position
