"""Fusing the dense and keyword legs: the served convex combination and RRF."""

from __future__ import annotations

import pytest

from core import Hit
from retrieval import rrf_fuse, weighted_fuse


def hit(chunk_id: str, score: float, *, ordinal: int = 0) -> Hit:
    return Hit(chunk_id=chunk_id, doc_id=f"doc-{chunk_id}", source_id="s", score=score,
               text=chunk_id, title=chunk_id, url=None, ordinal=ordinal, content_hash="h",
               acl_version=1)


def scores(hits: list[Hit]) -> dict[str, float]:
    return {h.chunk_id: round(h.score, 6) for h in hits}


def test_each_leg_is_divided_by_its_best_score_then_weighted() -> None:
    dense = [hit("a", 0.8), hit("b", 0.4)]
    keyword = [hit("b", 20.0), hit("a", 10.0)]
    fused = weighted_fuse(dense, keyword, dense_weight=0.6)
    assert scores(fused) == {"a": round(0.6 * 1.0 + 0.4 * 0.5, 6),
                             "b": round(0.6 * 0.5 + 0.4 * 1.0, 6)}
    assert [h.chunk_id for h in fused] == ["a", "b"]


def test_a_documents_first_chunk_gets_the_lead_bonus_and_a_later_chunk_none() -> None:
    dense = [hit("later", 0.9, ordinal=3), hit("lead", 0.85)]
    keyword = [hit("later", 9.0, ordinal=3), hit("lead", 8.5)]
    assert [h.chunk_id for h in weighted_fuse(dense, keyword)] == ["later", "lead"]
    fused = weighted_fuse(dense, keyword, lead_bonus=0.06)
    assert scores(fused) == {"later": round(1 / 1.06, 6),
                             "lead": round((0.5 * 0.85 / 0.9 + 0.5 * 8.5 / 9 + 0.06) / 1.06, 6)}
    assert [h.chunk_id for h in fused] == ["lead", "later"]


def test_a_hit_missing_from_a_full_leg_gets_that_legs_lowest_returned_score() -> None:
    dense = [hit("a", 1.0), hit("b", 0.5)]
    keyword = [hit("c", 4.0), hit("a", 2.0)]
    fused = scores(weighted_fuse(dense, keyword, dense_weight=0.5, leg_limit=2))
    assert fused["b"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)  # keyword floor: 2/4
    assert fused["c"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)  # dense floor: 0.5/1


def test_a_hit_missing_from_a_leg_that_came_back_short_scores_zero_there() -> None:
    """A short leg held every match: the one keyword hit must not lift everything else."""
    dense = [hit("a", 0.9), hit("b", 0.8), hit("c", 0.7)]
    keyword = [hit("c", 5.0)]
    fused = scores(weighted_fuse(dense, keyword, dense_weight=0.5, leg_limit=3))
    assert fused["a"] == pytest.approx(0.5 * 1.0)
    assert fused["c"] == pytest.approx(0.5 * 0.7 / 0.9 + 0.5 * 1.0)
    assert scores(weighted_fuse(dense, keyword, dense_weight=0.5)) == fused  # no limit: complete


def test_fusion_does_not_depend_on_how_deep_the_legs_were_read() -> None:
    dense = [hit(c, s) for c, s in (("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.2))]
    keyword = [hit(c, s) for c, s in (("b", 9.0), ("a", 6.0), ("c", 5.0), ("e", 1.0))]
    shallow = weighted_fuse(dense[:3], keyword[:3], dense_weight=0.5, leg_limit=3)
    deep = weighted_fuse(dense, keyword, dense_weight=0.5, leg_limit=4)
    assert scores(shallow) == {c: s for c, s in scores(deep).items() if c in "abc"}


def test_one_empty_leg_leaves_the_other_legs_order() -> None:
    dense = [hit("a", 0.3), hit("b", 0.2), hit("c", 0.1)]
    assert [h.chunk_id for h in weighted_fuse(dense, [], dense_weight=0.5)] == ["a", "b", "c"]
    assert [h.chunk_id for h in weighted_fuse([], dense, dense_weight=0.5)] == ["a", "b", "c"]
    assert weighted_fuse([], []) == []


def test_weight_one_is_the_dense_leg_alone_and_zero_the_keyword_leg() -> None:
    dense = [hit("a", 0.9), hit("b", 0.8)]
    keyword = [hit("b", 3.0), hit("a", 1.0)]
    assert [h.chunk_id for h in weighted_fuse(dense, keyword, dense_weight=1.0)] == ["a", "b"]
    assert [h.chunk_id for h in weighted_fuse(dense, keyword, dense_weight=0.0)] == ["b", "a"]


def test_negative_similarities_count_as_none() -> None:
    dense = [hit("a", 0.1), hit("b", -0.4)]
    keyword = [hit("b", 2.0)]
    fused = scores(weighted_fuse(dense, keyword, dense_weight=0.5))
    assert fused == {"a": 0.5, "b": 0.5}
    assert scores(weighted_fuse([hit("a", -0.2)], [], dense_weight=0.5)) == {"a": 0.0}


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf_fuse([[hit("a", 1), hit("b", 1)], [hit("b", 1)]], k=60)
    assert scores(fused) == {"a": round(1 / 61, 6), "b": round(1 / 62 + 1 / 61, 6)}
    assert [h.chunk_id for h in fused] == ["b", "a"]
