"""Streaming a structured reply shows the caller its ``answer`` text, whatever the JSON
escapes and wherever the provider cuts its deltas."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from answer.structured import AnswerFieldStream


def _streamed(raw: str, cuts: list[int]) -> str:
    stream = AnswerFieldStream()
    points = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
    return "".join(stream.feed(raw[a:b]) for a, b in zip(points, points[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(answer=st.text(), cuts=st.lists(st.integers(min_value=0), max_size=30),
       ascii_only=st.booleans())
def test_the_answer_field_arrives_whole_however_the_json_is_cut(
        answer: str, cuts: list[int], ascii_only: bool) -> None:
    reply = {"answer": answer, "citations": [{"source": 1, "quote": "\"answer\": \"no\""}],
             "abstained": False, "reason": None}
    raw = json.dumps(reply, ensure_ascii=ascii_only)
    assert _streamed(raw, cuts) == answer


def test_only_the_answer_is_emitted_not_the_citations() -> None:
    raw = json.dumps({"citations": [{"source": 1, "quote": "secret quote"}],
                      "answer": "Economy [1].", "abstained": False, "reason": None})
    assert _streamed(raw, [3, 17, 40]) == "Economy [1]."
