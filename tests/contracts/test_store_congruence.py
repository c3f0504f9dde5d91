"""Embedded and production rank alike: the same corpus and queries, both stores, same scores.

Like qdrant-client's congruence tests: identical calls against both backends, compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core import EVERYONE
from index.store import ChunkPoint

from .store_kit import Mode, ask, caller, doc, open_store
from .test_vector_store import FILLER, SECRET_TEXT

QUESTIONS = [
    "When are expense reports due?",
    "laptop replacement IT service desk",
    "Nightingale acquisition price",
    "security training for employees",
]


def _corpus() -> list[ChunkPoint]:
    points = []
    for i, text in enumerate(FILLER):
        points += doc(f"filler-{i}", text, f"{text} See also the intranet page {i}.")
    points += doc("secret", SECRET_TEXT, allow=["group:board"])
    points += doc("memo", "A short memo about Nightingale and the laptop budget.")
    return points


@pytest.mark.parametrize("mode", ["dense", "keyword"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_both_stores_score_single_legs_identically(tmp_path: Path, mode: Mode,
                                                   question: str) -> None:
    scores = []
    for kind in ("edge", "server"):
        with open_store(kind, tmp_path / kind) as store:
            store.upsert(_corpus())
            hits = store.search(ask(question, mode), entitlements=caller(EVERYONE), top_k=100)
            scores.append({h.chunk_id: h.score for h in hits})
    edge, server = scores
    assert edge.keys() == server.keys() and edge
    for chunk, score in edge.items():
        assert server[chunk] == pytest.approx(score, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("question", QUESTIONS)
def test_both_stores_fuse_the_same_candidates(tmp_path: Path, question: str) -> None:
    """Equal leg scores can be ordered differently by the two engines (point order inside
    a tie is engine-internal), which moves a fused RRF score by one rank step; what was
    fused, and so what can be returned, is the same."""
    results = []
    for kind in ("edge", "server"):
        with open_store(kind, tmp_path / kind) as store:
            store.upsert(_corpus())
            hits = store.search(ask(question, "hybrid"), entitlements=caller(EVERYONE),
                                top_k=100)
            results.append(hits)
    edge, server = results
    assert {h.chunk_id for h in edge} == {h.chunk_id for h in server}
    assert edge[0].score == pytest.approx(server[0].score, abs=1 / 60 - 1 / 61)
