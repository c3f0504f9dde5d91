"""Hybrid retrieval: a dense leg and a BM25 leg, both under the caller's ACL filter inside
the engine, fused, re-checked against SQL, optionally reranked, grouped per document, with
snippets.

Reranking (``rerank.py``) is off by default. With ``CLEARANCE_RERANKER_MODEL`` set, a local
cross-encoder rescores the best ``CLEARANCE_RERANK_DEPTH`` re-checked chunks before they are
grouped per document; it is tested on a tiny untrained model only, so what it does to the
numbers below is unmeasured.

The served fusion (``Settings`` defaults) was chosen on SciFact's *train* split with
``python -m bench.beir --split train`` and a numpy replica of this path that reproduces
the bench to about 0.001. nDCG@10, 809 queries, top 100 documents:

    keyword leg alone (whole title in its text; 0.689 with the 64-char one)   0.700
    dense leg alone (MiniLM, 256-token chunks, best chunk per document)       0.667
    engine_rrf, k=60 (the previous default; 0.710 with the old keyword leg)   0.717
    rrf here, best of k 2-100 and leg weights (k=2)                           0.727
    convex, min-max normalised, best dense weight (0.4)                       0.738
    convex, z-score normalised, best dense weight (0.4)                       0.737
    convex, each leg over its best, a hit missing from a leg scoring 0        0.738
    convex, each leg over its best, missing: the leg's floor (0.5)           0.741
    the same, plus 0.06 for a document's first chunk (served, ``lead_bonus``) 0.744

The lead bonus (``fusion.weighted_fuse``) came from fitting extra per-chunk features over
both legs' top 400 on train. Only a document's first chunk helped (bonus 0.04-0.08: all
0.7432-0.7444; best 0.06 with dense weight 0.5, 0.03 with 0.55). No help from: the share of
query terms a chunk, its title or its best sentence holds, its length, being in each leg,
each leg's rank, the log of the document's chunk count (either sign: 0.7350-0.7427), the
query's MiniLM cosine to the document's title (0.7416-0.7448 against 0.7444 for weights
0.02-0.2; test no better), a pairwise logistic model over all of them (0.659-0.730), or
filling a document's short last chunk back to the full window (dense 0.672, keyword 0.697,
hybrid 0.738). On test it lifts the served fusion from 0.732 to 0.739 with PyTorch and from
0.730 to 0.735 with the served ONNX embedder (train 0.744 with either).

The served normalisation does not depend on how deep the legs are read (min-max and z-score
do), so ``top_k=5`` ranks its hits as ``top_k=100`` does; dense weights 0.45-0.6 score
0.736-0.741. Tried and not kept (train): RM3 and dense (Rocchio) pseudo-relevance feedback
(at most +0.003), a document's score from its best chunk plus a share of the others (-0.003
to -0.02), fusing per document instead of per chunk (±0.001), 128-token chunks (dense 0.694
but keyword 0.680, hybrid 0.740), title-only vectors, word bigrams as keyword terms (-0.02),
Porter instead of Snowball, stemming codes, dropping numbers (all within ±0.003), BM25
k1=0.9, b=0.4 (+0.002), ``AVG_DOC_TERMS`` 60 or 150 instead of 100 (with the lead bonus:
keyword 0.694 / 0.697, hybrid 0.738 / 0.744 against 0.700 / 0.744), the keyword vector of
the whole document on every chunk (-0.006 to -0.008), query terms weighted by their count
(-0.002); 128-token dense chunks whose keyword vector covers a 2-4k-character window of the
document around them reach 0.751 on train but only 0.734 on test, at 2.2x the points; dense
scores shifted by a fixed cosine c before dividing by the best, (s - c) / (best - c), with c
0.1-0.4 and re-tuned weights (0.741 at most, c=0.1); a weight per query from the legs' top
scores, their gaps or their top-10 overlap (choosing each query's best weight would score
0.777, but none of these correlates with it above |r| = 0.12, with signs that flip between
train and test), or from the query alone (its terms' mean or max IDF, their count: |r| <=
0.15; a weight linear in one of them, fitted on train with the served ONNX embedder,
0.742-0.744 there and 0.722-0.731 on test against 0.730); each leg's normalised score raised
to a power p (0.5-4, weights re-tuned: 0.741 at most, test 0.732); the title two or three
times in the keyword text (a BM25F-style title weight: keyword 0.699 and 0.695, hybrid
0.741); raw cosines and keyword scores over the query's highest possible BM25 instead of
over each leg's best (0.741 at most); a third leg of MiniLM vectors of each sentence (46k,
embedded on their own; a chunk scores its best sentence), which lifts the dense leg to 0.693
(test 0.702) blended with the chunk vector but the hybrid only to 0.745 (test 0.734) for 5x
the embeddings, and the same sentences pooled from the chunk pass's token vectors instead
("late chunking", no extra model calls: 0.741, test 0.728); the title clipped at 160
characters instead of 64 in the text the embedder sees (dense 0.678 against 0.671 with the
ONNX embedder, hybrid 0.7426 against 0.7417, each at its best weight). Re-tuned with the
served ONNX embedder (``--embedder minilm-auto``), train peaks at dense weight 0.6 (0.7417;
0.575-0.625 within 0.001; 0.5: 0.7396), but test falls there (0.7224 against 0.7297 at 0.5):
the weight stays, tuned on train with PyTorch, where 0.45-0.6 lie on one plateau. On the
test split (300 queries) the served fusion scores 0.7385 (0.7324 without the lead bonus),
engine_rrf 0.710 (``python -m bench.beir``).

Latency: running the keyword leg on a second thread (Qdrant Edge releases the GIL) does
not pay on two cores. Beside the query's embedding it competes with the embedder's threads
(embed 3.9 -> 9.3 ms at 100k chunks, no gain end to end); after it, engine time went only
from 8.8 to 8.4 ms, while 4- and 16-client throughput fell (``bench.search_latency``).
Where the engine's time goes at 100k chunks (50k readable; in-process, warm, medians of
300 claims): dense leg ~1.3 ms, keyword leg ~3.3 ms with IDF measured on a 12k-point sample
of what the caller may read, ~2.0 ms on the 6k-point one served since (``idf_sample.py``;
0.8-1.0 ms with global IDF, which would count unreadable documents), fill 0.2 ms; turning
the legs' points into hits and fusing them ~0.7 ms of Python. Both legs as one
``query_batch`` call: 5.8 against 5.7 ms serial; Edge's search pool cut to one thread, or
payloads kept in RAM (``Memory.Cached``): within noise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from core import Entitlements, Hit, Settings
from index.embed import Embedder
from index.sparse import encode_query
from index.store import SearchFilters, SparseVector, StoreQuery, VectorStore

from .fusion import rrf_fuse, weighted_fuse
from .recheck import verified_prefix, verify_hits
from .rerank import Reranker
from .snippet import make_snippet

log = logging.getLogger(__name__)

MAX_ROUNDS = 4


@dataclass(frozen=True)
class FusionConfig:
    """How the legs are combined. ``weighted`` (served) and ``rrf``: the legs run
    separately, each filtered inside the engine, and are fused here (``fusion.py``);
    ``engine_rrf``: Qdrant fuses inside the engine (prefetch per leg, RRF with explicit k).
    The defaults are ``Settings``' defaults."""

    method: Literal["engine_rrf", "rrf", "weighted"] = "weighted"
    rrf_k: int = 60
    dense_weight: float = 0.5
    lead_bonus: float = 0.06
    """Added to a document's first chunk in ``weighted`` fusion (``weighted_fuse``)."""
    candidates: int = 50
    """Chunks fetched per leg for every ``top_k`` requested (at least this many)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> FusionConfig:
        """The fusion the settings serve (``CLEARANCE_FUSION``, ``_RRF_K``, ``_DENSE_WEIGHT``,
        ``_LEAD_BONUS``)."""
        return cls(method=settings.fusion,  # type: ignore[arg-type]  # checked by its pattern
                   rrf_k=settings.rrf_k, dense_weight=settings.dense_weight,
                   lead_bonus=settings.lead_bonus)


@dataclass
class SearchTimings:
    queue_ms: float = 0.0
    """Waiting for a turn (``Retriever``'s ``max_concurrent``)."""
    embed_ms: float = 0.0
    engine_ms: float = 0.0
    recheck_ms: float = 0.0
    rerank_ms: float = 0.0
    snippet_ms: float = 0.0
    audit_ms: float = 0.0
    rounds: int = 0


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    timings: SearchTimings = field(default_factory=SearchTimings)


class Retriever:
    """Runs one user's question against the index. Permissions are a required parameter;
    ``reranker`` (optional, ``rerank.py``) reorders the re-checked hits.

    ``max_concurrent`` (``CLEARANCE_SEARCH_CONCURRENCY``; None: no limit) bounds how many
    searches run at once; the others wait for a turn. A search is CPU work (embedding,
    engine, re-check): on two cores, sixteen of them at once only take turns on the CPU
    more slowly. ``bench.search_latency``'s server at 100k chunks, 16 clients, five runs
    each, alternated: unbounded 42.9-54.3 searches/s (mean 49.6, p50 mean 313 ms), 2 at a
    time 54.6-62.0 (mean 58.1, p50 mean 264 ms); p99 no better (516-742 against 551-696
    ms); 1 at a time 53.2, 3 at a time 53.1 (one run each). 1 and 4 clients: within
    noise; /v1/answer (whose search takes a turn) unchanged. Searches never nest, so a
    turn cannot wait on itself. Not kept: the extractive answer's sentence embedding
    taking the same turns (/v1/answer, 16 clients: 15.4-16.1 answers/s against 15.7-16.9,
    p95 2.2 s against 1.3-1.4 s, as an answer then waits twice)."""

    def __init__(self, *, store: VectorStore, embedder: Embedder,
                 sessions: sessionmaker[Session], fusion: FusionConfig | None = None,
                 reranker: Reranker | None = None, max_concurrent: int | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.sessions = sessions
        self.fusion = fusion or FusionConfig()
        self.reranker = reranker
        self._turns = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None

    def search(self, query: str, *, entitlements: Entitlements,
               filters: SearchFilters | None = None, top_k: int = 10,
               group_by_document: bool = True,
               mode: Literal["hybrid", "dense", "keyword"] = "hybrid") -> SearchResult:
        timings = SearchTimings()
        waiting = time.perf_counter()
        with self._turns or nullcontext():
            if self._turns is not None:
                timings.queue_ms = (time.perf_counter() - waiting) * 1000
            return self._search(query, entitlements, filters, top_k, group_by_document,
                                mode, timings)

    def _search(self, query: str, entitlements: Entitlements, filters: SearchFilters | None,
                top_k: int, group_by_document: bool,
                mode: Literal["hybrid", "dense", "keyword"],
                timings: SearchTimings) -> SearchResult:
        started = time.perf_counter()
        dense = self.embedder.embed_query(query) if mode != "keyword" else None
        sparse = encode_query(query) if mode != "dense" else None
        timings.embed_ms = (time.perf_counter() - started) * 1000
        if sparse is not None and not sparse.indices:
            sparse = None
            if dense is None:
                return SearchResult([], timings)
        fetch = max(self.fusion.candidates, top_k * (4 if group_by_document else 2))
        hits: list[Hit] = []
        verified: list[Hit] = []
        for _round in range(MAX_ROUNDS):
            timings.rounds += 1
            t0 = time.perf_counter()
            candidates = self._candidates(dense, sparse, entitlements, filters, fetch)
            t1 = time.perf_counter()
            verified = self._verified(candidates, entitlements, top_k=top_k,
                                      by_document=group_by_document)
            timings.engine_ms += (t1 - t0) * 1000
            timings.recheck_ms += (time.perf_counter() - t1) * 1000
            hits = _best_per_document(verified) if group_by_document else verified
            if len(hits) >= top_k or len(candidates) < fetch:
                break
            fetch *= 4  # the re-check or grouping thinned the list: look further down
        if self.reranker is not None and verified:
            # The reranker sees only hits that passed the ACL filter inside the engine and
            # the SQL re-check, and only their order and scores are taken back
            # (``_reordered``): it reorders what the caller may read, so permissions are
            # untouched. It runs on chunks, before grouping keeps each document's best.
            verified = self._filled(verified, timings)
            t0 = time.perf_counter()
            verified = _reordered(verified, self.reranker.rerank(query, verified))
            timings.rerank_ms = (time.perf_counter() - t0) * 1000
            hits = _best_per_document(verified) if group_by_document else verified
        else:
            hits = self._filled(hits[:top_k], timings)
        t0 = time.perf_counter()
        shown = [replace(h, snippet=make_snippet(h.text, query)) for h in hits[:top_k]]
        timings.snippet_ms = (time.perf_counter() - t0) * 1000
        return SearchResult(shown, timings)

    def _filled(self, hits: Sequence[Hit], timings: SearchTimings) -> list[Hit]:
        """The legs return keys only (``StoreQuery.keys_only``); the hits kept get their
        text, title and the rest here, by id, counted as engine time."""
        t0 = time.perf_counter()
        full = self.store.fill(hits)
        timings.engine_ms += (time.perf_counter() - t0) * 1000
        return full

    def _verified(self, candidates: list[Hit], entitlements: Entitlements, *, top_k: int,
                  by_document: bool) -> list[Hit]:
        """The candidates that pass the SQL re-check: all of them for the reranker (it
        reads deeper than ``top_k``), else only as many of the best as ``top_k`` needs."""
        with self.sessions() as session:
            def check(hits: Sequence[Hit]) -> list[Hit]:
                return verify_hits(session, hits, entitlements=entitlements)

            if self.reranker is not None:
                return check(candidates)
            return verified_prefix(candidates, check, need=top_k, by_document=by_document)

    def _candidates(self, dense: Sequence[float] | None, sparse: SparseVector | None,
                    entitlements: Entitlements, filters: SearchFilters | None,
                    fetch: int) -> list[Hit]:
        fusion = self.fusion
        if dense is None or sparse is None or fusion.method == "engine_rrf":
            query = StoreQuery(dense=dense, sparse=sparse, rrf_k=fusion.rrf_k,
                               prefetch_limit=fetch, keys_only=True)
            return self.store.search(query, entitlements=entitlements, filters=filters,
                                     top_k=fetch)
        dense_hits = self.store.search(StoreQuery(dense=dense, keys_only=True),
                                       entitlements=entitlements, filters=filters, top_k=fetch)
        keyword_hits = self.store.search(StoreQuery(sparse=sparse, keys_only=True),
                                         entitlements=entitlements, filters=filters,
                                         top_k=fetch)
        if fusion.method == "rrf":
            return rrf_fuse([dense_hits, keyword_hits], k=fusion.rrf_k)
        return weighted_fuse(dense_hits, keyword_hits, dense_weight=fusion.dense_weight,
                             leg_limit=fetch, lead_bonus=fusion.lead_bonus)


def _reordered(verified: Sequence[Hit], reranked: Sequence[Hit]) -> list[Hit]:
    """``verified`` in the reranker's order, with its scores. Nothing else is taken from the
    reranker: a hit it returns that it was not given is ignored (it passed neither the ACL
    filter nor the re-check), and a verified hit it dropped follows the others."""
    mine = {h.chunk_id: h for h in verified}
    ordered: list[Hit] = []
    for hit in reranked:
        own = mine.pop(hit.chunk_id, None)
        if own is not None:
            ordered.append(replace(own, score=hit.score))
    ordered.extend(h for h in verified if h.chunk_id in mine)
    return ordered


def _best_per_document(hits: Sequence[Hit]) -> list[Hit]:
    """Hits arrive best first; keep each document's first (best) chunk."""
    seen: set[str] = set()
    best: list[Hit] = []
    for hit in hits:
        if hit.doc_id not in seen:
            seen.add(hit.doc_id)
            best.append(hit)
    return best
