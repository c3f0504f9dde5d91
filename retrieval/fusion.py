"""Fusing ranked lists that were each filtered inside the engine.

``weighted_fuse`` is what we serve (``CLEARANCE_FUSION=weighted``): a convex combination
of the two legs' scores, each divided by its leg's best score. On SciFact's train split
it beat reciprocal rank fusion at every ``k`` we tried (bench/beir.py; numbers in the
module doc of retrieval/search.py), as Bruch et al. found across BEIR ("An Analysis of
Fusion Functions for Hybrid Retrieval", TOIS 2023).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core import Hit


def rrf_fuse(lists: Sequence[Sequence[Hit]], *, k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion: score = Σ 1 / (k + rank), rank from 1 (Cormack et al. 2009)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (k + rank)
            first.setdefault(hit.chunk_id, hit)
    ordered = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [replace(first[cid], score=scores[cid]) for cid in ordered]


def weighted_fuse(dense: Sequence[Hit], keyword: Sequence[Hit], *,
                  dense_weight: float = 0.5, leg_limit: int | None = None,
                  lead_bonus: float = 0.0) -> list[Hit]:
    """``dense_weight · d + (1 - dense_weight) · k``, each leg's scores divided by its best,
    plus ``lead_bonus`` for a document's first chunk (``ordinal`` 0), all over
    ``1 + lead_bonus`` so that scores stay in [0, 1].

    Both legs' scores are similarities whose floor is 0 (BM25 exactly; a cosine below 0
    counts as 0), so dividing by the best maps a leg to [0, 1] without depending on how far
    down the engine was asked to look: the same hits fuse the same way for ``top_k=5`` and
    ``top_k=100`` (min-max would move with the list's last score).

    A hit one leg did not return: if that leg came back full (``leg_limit`` hits), the hit
    scored at most the leg's lowest returned score there and gets exactly that, its best
    possible value (0 would bury it; on SciFact this gains most at small depths). A leg
    that came back short (or ``leg_limit=None``) held every match, so the hit scores 0.

    ``lead_bonus`` is a prior for where a document says what it is about: its opening
    (title, summary, purpose), as FirstP does for long documents (Dai & Callan, "Deeper
    Text Understanding for IR with Contextual Neural Language Modeling", SIGIR 2019). A
    later chunk then needs a slightly better match to outrank another document's opening.
    """
    d, kw = _scaled(dense), _scaled(keyword)
    floor_d = _floor(d, leg_limit)
    floor_kw = _floor(kw, leg_limit)
    first: dict[str, Hit] = {}
    for hit in [*dense, *keyword]:
        first.setdefault(hit.chunk_id, hit)
    scores = {cid: (dense_weight * d.get(cid, floor_d) + (1 - dense_weight) * kw.get(cid, floor_kw)
                    + (lead_bonus if hit.ordinal == 0 else 0.0)) / (1 + lead_bonus)
              for cid, hit in first.items()}
    ordered = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [replace(first[cid], score=scores[cid]) for cid in ordered]


def _floor(scaled: dict[str, float], leg_limit: int | None) -> float:
    """What a hit missing from a leg scores there (see ``weighted_fuse``)."""
    if leg_limit is None or len(scaled) < leg_limit:
        return 0.0
    return min(scaled.values())


def _scaled(hits: Sequence[Hit]) -> dict[str, float]:
    """Each hit's score over the list's best, in [0, 1]: a negative similarity (a cosine
    below 0, rare with MiniLM) counts as none rather than as a penalty that dividing by a
    small best would blow up."""
    top = max((h.score for h in hits), default=0.0)
    if top <= 0:
        return {h.chunk_id: 0.0 for h in hits}
    return {h.chunk_id: max(h.score, 0.0) / top for h in hits}
