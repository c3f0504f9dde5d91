"""Snippets: a window of the hit's own text holding as many query words as any window."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.snippet import _best_start, make_snippet

_WORD = re.compile(r"\w+", re.UNICODE)
WORDS = ["policy", "travel", "expense", "leave", "Orca", "budget", "the", "of", "İstanbul",
         "receipts", "ninety", "days", "PRJ-7", "naïve", "straße"]


def _terms_in(window: str, query: str) -> int:
    terms = {w.lower() for w in _WORD.findall(query) if len(w) > 2}
    return sum(1 for t in terms if t in window.lower())


def _most_any_window_holds(text: str, query: str, max_chars: int) -> int:
    """The brute force: every word start up to the first window that reaches the end."""
    best = 0
    for match in _WORD.finditer(text):
        best = max(best, _terms_in(text[match.start():match.start() + max_chars], query))
        if match.start() + max_chars >= len(text):
            break
    return best


texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=120).map(" ".join)
queries = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=texts, query=queries, max_chars=st.integers(min_value=20, max_value=240))
def test_the_chosen_window_holds_as_many_query_words_as_any(text: str, query: str,
                                                            max_chars: int) -> None:
    start = _best_start(text, query, max_chars)
    assert _terms_in(text[start:start + max_chars], query) == \
        _most_any_window_holds(text, query, max_chars)


@settings(max_examples=200, deadline=None)
@given(text=texts, query=queries)
def test_a_snippet_is_a_slice_of_the_hit_text_only(text: str, query: str) -> None:
    snippet = make_snippet(text, query, max_chars=60)
    assert snippet.strip("…") in " ".join(text.split())
    assert len(snippet) <= 62


def test_the_snippet_shows_where_the_query_words_are() -> None:
    text = ("Filler sentence about nothing in particular. " * 12
            + "Travel receipts are due within ninety days of the trip. " + "More filler. " * 30)
    snippet = make_snippet(text, "when are travel receipts due")
    assert "Travel receipts are due within ninety days" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
