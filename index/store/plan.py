"""What one search asks of the engine, decided once for every store.

Both stores execute a ``SearchPlan`` and differ only in how they spell it, so leg sizes,
the filters on each leg, the IDF population and the fusion constant cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core import Entitlements

from .base import SearchFilters, SparseVector, StoreQuery
from .filters import FieldMatch, FilterSpec, acl_filter
from .idf_sample import SAMPLE_FIELD
from .payload import KEY_FIELDS


@dataclass(frozen=True)
class SearchPlan:
    mode: Literal["dense", "keyword", "hybrid"]
    dense: list[float] | None
    sparse: SparseVector | None
    filter: FilterSpec
    """Entitlements AND caller filters: carried by every leg, and by the fused query."""
    idf_corpus: FilterSpec
    """Entitlements only: the points IDF statistics are measured over.

    Global IDF would let a caller learn how common a term is in documents they cannot
    read (a count by another name), and it differs between Edge and the server's local
    mode (Edge leaves points without sparse terms out of N). Scoped to what the caller may
    read, scores depend only on readable documents, and both stores agree. Qdrant ≥ 1.19
    (https://qdrant.tech/blog/qdrant-1.19.x/ "Per-Tenant IDF Statistics";
    ``SearchParams.idf``). Above a size, one sample of it
    (``idf_sample.py``).
    """
    leg_limit: int
    """Candidates per leg before fusion."""
    payload: bool | list[str]
    """What each hit carries: everything, or the fields ``StoreQuery.keys_only`` names."""
    top_k: int
    rrf_k: int


def plan_search(query: StoreQuery, *, entitlements: Entitlements,
                filters: SearchFilters | None, top_k: int,
                idf_sample: str | None = None) -> SearchPlan:
    """``idf_sample``: measure IDF over the readable points of this sample only
    (``idf_sample.py``; None: all of them)."""
    if query.rrf_k <= 0:
        raise ValueError("rrf_k must be a positive integer")
    if query.prefetch_limit is not None and query.prefetch_limit <= 0:
        raise ValueError("prefetch_limit must be positive")
    if query.sparse is not None and len(query.sparse.indices) != len(query.sparse.values):
        raise ValueError("sparse vector needs as many values as indices")
    mode = query.mode
    if query.prefetch_limit is not None:
        leg_limit = max(query.prefetch_limit, top_k)
    else:
        leg_limit = max(4 * top_k, 50)
    return SearchPlan(
        mode=mode,
        dense=[float(x) for x in query.dense] if query.dense is not None else None,
        sparse=query.sparse,
        filter=acl_filter(entitlements, filters),
        idf_corpus=_sampled(acl_filter(entitlements), idf_sample),
        leg_limit=leg_limit,
        payload=list(KEY_FIELDS) if query.keys_only else True,
        top_k=top_k,
        rrf_k=query.rrf_k,
    )


def _sampled(readable: FilterSpec, rate: str | None) -> FilterSpec:
    if rate is None:
        return readable
    return FilterSpec(must=(*readable.must, FieldMatch(SAMPLE_FIELD, frozenset({rate}))),
                      must_not=readable.must_not)
