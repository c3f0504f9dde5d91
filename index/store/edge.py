"""``EdgeStore``: the embedded store, Qdrant's engine in-process (``qdrant-edge-py`` 0.9.0).

Engine facts this module relies on (https://qdrant.tech/documentation/edge/edge-api/):

- One ``EdgeShard`` per directory: the shard owns its files, and a second open (another
  process, or this one) fails on the WAL lock with a plain ``Exception`` whose text says
  ``Can't init WAL: Kind(WouldBlock)``. We raise ``StoreLocked`` for it.
- ``update`` writes the operation to the WAL before applying it, so a returned update
  survives a crash and is visible to the next ``query``/``count`` at once (no flush or
  optimize needed; tested); ``flush`` persists segments, and ``close`` releases the lock.
- Edge runs no background optimizer: ``optimize()`` merges segments and builds HNSW,
  blocking (~17 s for 20k points at 384 dims, 46 s for 100k) until the optimizers plan
  nothing more, and returns at once when nothing is planned. Results are the same without
  it, but every query scans whole unindexed segments: 100k chunks written through ingest
  and never optimized searched at p50 45.7 ms (engine 32 ms: dense leg 16 ms, keyword
  7.7 ms) against 21.2 ms (engine 9.5 ms) optimized (``bench.search_latency``); with the
  later speed-ups, 26.0 ms (engine 16.9) against 12.5 ms (engine 5.0).
- ``optimize()`` holds the GIL for its whole run (qdrant-edge-py 0.9.0: a second Python
  thread of the process got no tick for the 2.6 s of a 20k-point run), so it must not run
  beside requests: ``clearance serve`` runs it before it listens, ``clearance ingest``
  after its last batch (``api/cli.py``).
- Closing a shard drops its files from the OS page cache, and opening one brings back only
  part of them (1M chunks: 155 MB of 3.3 GB cached before the open, 1.7 GB after, by
  ``fincore``): the first searches after a start read the rest from disk as they touch it.
  ``page_in`` reads the files once, which ``clearance serve`` does before it listens.
- ``create`` refuses a directory that already holds segments; ``load(path, config)``
  checks the config against the segments (a different dense size fails).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import qdrant_edge as qe

from core import Entitlements, Hit
from core.errors import StoreLocked, StoreUnavailable

from .base import DENSE_VECTOR, KEYWORD_VECTOR, ChunkPoint, SearchFilters, SparseVector, StoreQuery
from .filters import FieldMatch, FilterSpec, acl_filter, document_filter, tenant_filter
from .idf_sample import DEFAULT_TARGET, SAMPLE_FIELD, IdfSampler
from .payload import KEYWORD_INDEXES, TENANT_FIELD, acl_payload, filled, hit_of, payload_of
from .plan import SearchPlan, plan_search

UPSERT_BATCH = 512
"""Points per update operation: bounds one WAL record without costing many round trips."""
PAGE_IN_SECONDS = 30.0
"""The longest ``page_in`` reads (~18 GB from a local SSD; less from a network disk)."""
log = logging.getLogger(__name__)


class EdgeStore:
    """Chunk points in a Qdrant Edge shard under ``path``; one process may hold it."""

    def __init__(self, path: Path, *, dimensions: int, idf_sample: int = DEFAULT_TARGET) -> None:
        """``idf_sample``: above twice this many readable points, a caller's IDF is
        measured on about this many of them (``idf_sample.py``); 0 measures all."""
        if dimensions <= 0:
            raise ValueError("dimensions must be positive")
        self.path = Path(path)
        self.dimensions = dimensions
        self.idf_sample = IdfSampler(self._count_readable, target=idf_sample)
        self._shard: qe.EdgeShard | None = None
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Create the shard (or load it), then add any missing payload index."""
        with self._lock:
            if self._shard is not None:
                return
            self.path.mkdir(parents=True, exist_ok=True)
            config = self._config()
            try:
                if any(self.path.iterdir()):
                    shard = qe.EdgeShard.load(str(self.path), config)
                else:
                    shard = qe.EdgeShard.create(str(self.path), config)
            except Exception as exc:
                raise self._open_error(exc) from exc
            try:
                self._ensure_indexes(shard)
            except BaseException:
                shard.close()
                raise
            self._shard = shard

    def flush(self) -> None:
        """Persist segments to disk (updates are already durable in the WAL)."""
        with self._engine("flush"):
            self._require().flush()

    def optimize(self) -> bool:
        """Merge segments and build HNSW, blocking; True if anything changed.

        It holds the GIL throughout (module docstring): call it where no request waits,
        as ``clearance serve`` does before listening."""
        with self._engine("optimize"):
            return bool(self._require().optimize())

    def page_in(self, *, budget_bytes: int, seconds: float = PAGE_IN_SECONDS) -> int:
        """Read the shard's files once, smallest first, up to ``budget_bytes`` in all and
        for at most ``seconds`` (a slow disk must not hold a start for long), so that
        searches find them in the page cache; returns the bytes read.

        Without it the first searches after a start wait on the disk (module docstring).
        At 1M chunks (``bench.search_latency``'s shard, 300 SciFact claims, in-process, the
        disk cache as a fresh start leaves it): engine p50 24.9-29.9 ms and 23,315 major
        page faults over the first pass, 17-18 ms and none over a second; read first
        (3.3 GB, 5.5 s), 17.4 ms and none from the first pass on."""
        deadline = time.monotonic() + seconds
        files = sorted((p.stat().st_size, p) for p in self.path.rglob("*") if p.is_file())
        done = 0
        buffer = bytearray(1 << 20)
        for size, file in files:
            if done + size > budget_bytes:
                break
            try:
                with file.open("rb", buffering=0) as raw:
                    while time.monotonic() < deadline and (read := raw.readinto(buffer)):
                        done += read
            except OSError:  # gone or unreadable: the engine will say so if it matters
                continue
            if time.monotonic() >= deadline:
                break
        return done

    def close(self) -> None:
        """Flush and release the shard lock. Safe to call twice."""
        with self._lock:
            shard, self._shard = self._shard, None
        if shard is not None:
            try:
                shard.flush()
            finally:
                shard.close()

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        for point in points:
            if len(point.dense) != self.dimensions:
                raise ValueError(f"point {point.id} has {len(point.dense)} dimensions, "
                                 f"the store {self.dimensions}")
        shard = self._require()
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [_point(p) for p in points[start:start + UPSERT_BATCH]]
            with self._engine("upsert"):
                shard.update(qe.UpdateOperation.upsert_points(batch))

    def delete_document(self, *, tenant: str, doc_id: str,
                        keep_content_hash: str | None = None) -> None:
        spec = document_filter(tenant, doc_id, except_content_hash=keep_content_hash)
        with self._engine("delete a document"):
            self._require().update(qe.UpdateOperation.delete_points_by_filter(_filter(spec)))

    def set_acl(self, *, tenant: str, doc_id: str, allow: frozenset[str],
                deny: frozenset[str], acl_version: int) -> None:
        payload = acl_payload(allow=allow, deny=deny, acl_version=acl_version)
        with self._engine("rewrite a document's ACL"):
            self._require().update(qe.UpdateOperation.set_payload_by_filter(
                _filter(document_filter(tenant, doc_id)), payload))

    # -- reads ----------------------------------------------------------------------------

    def search(self, query: StoreQuery, *, entitlements: Entitlements,
               filters: SearchFilters | None = None, top_k: int = 10) -> list[Hit]:
        plan = plan_search(query, entitlements=entitlements, filters=filters, top_k=top_k,
                           idf_sample=self.idf_sample.rate(query, entitlements, top_k))
        if top_k <= 0:
            return []
        request = _request(plan)
        with self._engine("search"):
            points = self._require().query(request)
        return [hit_of(p.id, p.score, p.payload) for p in points]

    def fill(self, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        with self._engine("retrieve"):
            records = self._require().retrieve([h.chunk_id for h in hits], True, False)
        return filled(hits, {str(r.id): r.payload for r in records})

    def count(self, *, tenant: str, doc_id: str | None = None) -> int:
        spec = tenant_filter(tenant) if doc_id is None else document_filter(tenant, doc_id)
        with self._engine("count"):
            return int(self._require().count(qe.CountRequest(exact=True, filter=_filter(spec))))

    # -- internals ------------------------------------------------------------------------

    def _count_readable(self, entitlements: Entitlements) -> int:
        request = qe.CountRequest(exact=True, filter=_filter(acl_filter(entitlements)))
        with self._engine("count"):
            return int(self._require().count(request))

    def _config(self) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=self.dimensions,
                                                       distance=qe.Distance.Cosine)},
            # IDF applied by the engine at query time: the corpus half of BM25 (index/sparse.py).
            sparse_vectors={KEYWORD_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        )

    def _ensure_indexes(self, shard: qe.EdgeShard) -> None:
        info = shard.info()
        existing = set(info.payload_schema)
        if TENANT_FIELD not in existing:
            # is_tenant co-locates a tenant's points on disk and lets the planner use it.
            shard.update(qe.UpdateOperation.create_field_index(
                TENANT_FIELD, qe.KeywordIndexParams(is_tenant=True)))
        for field in KEYWORD_INDEXES:
            if field not in existing:
                shard.update(qe.UpdateOperation.create_field_index(
                    field, qe.PayloadSchemaType.Keyword))
        if SAMPLE_FIELD not in existing and info.points_count == 0:
            # Indexed only while empty: the index then vouches that every point has samples.
            shard.update(qe.UpdateOperation.create_field_index(
                SAMPLE_FIELD, qe.PayloadSchemaType.Keyword))
            existing.add(SAMPLE_FIELD)
        self.idf_sample.indexed = SAMPLE_FIELD in existing
        if not self.idf_sample.indexed:
            log.warning("The Edge shard at %s predates IDF samples: keyword IDF is measured "
                        "over everything a caller may read, which slows searches above ~100k "
                        "chunks. Re-index into a new CLEARANCE_DATA_DIR to sample.", self.path)

    def _require(self) -> qe.EdgeShard:
        shard = self._shard
        if shard is None:
            raise StoreUnavailable(
                f"The Edge shard at {self.path} is not open: call warm_up() first "
                "(create_app/create_worker do)."
            )
        return shard

    def _open_error(self, exc: Exception) -> Exception:
        text = str(exc)
        if "WouldBlock" in text or "lock" in text.lower():
            return StoreLocked(
                f"The Edge shard at {self.path} is held by another process (a running "
                "Clearance server owns it). Send documents through that server with "
                "`clearance ingest --server URL`, or stop it first."
            )
        if "incompatible" in text.lower():
            return StoreUnavailable(
                f"The Edge shard at {self.path} was built for other vectors ({text}). The "
                f"embedder now gives {self.dimensions} dimensions: re-index into a new "
                "CLEARANCE_DATA_DIR, or delete the shard directory and sync again."
            )
        return StoreUnavailable(f"Cannot open the Edge shard at {self.path}: {text}")

    @contextmanager
    def _engine(self, action: str) -> Iterator[None]:
        """Engine failures (raised as plain ``Exception``) become ``StoreUnavailable``;
        our own mistakes (TypeError, ValueError…) pass through untouched."""
        try:
            yield
        except Exception as exc:
            if type(exc) is not Exception:
                raise
            raise StoreUnavailable(f"Qdrant Edge could not {action}: {exc}") from exc


def _point(point: ChunkPoint) -> qe.Point:
    return qe.Point(
        point.id,
        {DENSE_VECTOR: [float(x) for x in point.dense], KEYWORD_VECTOR: _sparse(point.sparse)},
        payload_of(point),
    )


def _sparse(vector: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), [float(v) for v in vector.values])


def _filter(spec: FilterSpec) -> qe.Filter:
    """``FieldMatch`` → ``MatchAny`` on the payload path (any list element may match)."""
    def conditions(matches: tuple[FieldMatch, ...]) -> list[qe.ConditionType] | None:
        return [qe.FieldCondition(m.key, match=qe.MatchAny(sorted(m.any_of)))
                for m in matches] or None

    return qe.Filter(must=conditions(spec.must), must_not=conditions(spec.must_not))


def _request(plan: SearchPlan) -> qe.QueryRequest:
    """Dense or keyword: one filtered nearest query. Hybrid: two prefetch legs, each
    carrying the filter, fused by RRF with an explicit k; the fused query repeats the
    filter as a second fence. (Edge 0.9 and qdrant-client 1.20 also push a top-level
    filter down into prefetches, as measured; we do not rely on it.)"""
    where = _filter(plan.filter)
    idf = qe.SearchParams(idf=qe.IdfParams(corpus=_filter(plan.idf_corpus)))
    if plan.mode == "dense":
        assert plan.dense is not None
        dense = qe.Query.Nearest(plan.dense, using=DENSE_VECTOR)
        return qe.QueryRequest(limit=plan.top_k, query=dense, filter=where,
                               with_payload=plan.payload, with_vector=False)
    assert plan.sparse is not None
    sparse = qe.Query.Nearest(_sparse(plan.sparse), using=KEYWORD_VECTOR)
    if plan.mode == "keyword":
        return qe.QueryRequest(limit=plan.top_k, query=sparse, filter=where, params=idf,
                               with_payload=plan.payload, with_vector=False)
    assert plan.dense is not None
    legs = [
        qe.Prefetch(limit=plan.leg_limit, query=qe.Query.Nearest(plan.dense, using=DENSE_VECTOR),
                    filter=where),
        qe.Prefetch(limit=plan.leg_limit, query=sparse, filter=where, params=idf),
    ]
    fusion = qe.Fusion.Rrf(k=plan.rrf_k)
    return qe.QueryRequest(limit=plan.top_k, prefetches=legs,
                           query=fusion,  # type: ignore[arg-type]  # stub omits Fusion.Rrf
                           filter=where, with_payload=plan.payload, with_vector=False)
