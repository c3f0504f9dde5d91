"""``QdrantServerStore``: chunk points in a Qdrant server collection, via ``qdrant-client``.

The same client also runs in-process as ``QdrantClient(":memory:")`` (a pure-Python scan
that speaks the server's API), which is how the contract suite exercises this code path.

Engine facts relied on:
- ``wait=True`` on every write: the call returns once the change is applied, so the next
  query sees it (https://qdrant.tech/documentation/concepts/points/#awaiting-result).
- ``WriteOrdering.STRONG`` on ACL rewrites and deletes: in distributed mode they go
  through the shard leader, so a revoked grant cannot be overtaken by an older write
  (https://qdrant.tech/documentation/concepts/points/#write-ordering).
- Sparse vector with ``Modifier.IDF``: the engine supplies BM25's IDF at query time
  (https://qdrant.tech/documentation/concepts/indexing/#idf-modifier).
- Hybrid query: a filter on each ``Prefetch`` (a top-level filter alone only trims the
  fused list) and ``RrfQuery(rrf=Rrf(k=...))`` so k is ours, not a client default
  (https://qdrant.tech/documentation/search/hybrid-queries/).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from core import Entitlements, Hit
from core.errors import StoreUnavailable

from .base import DENSE_VECTOR, KEYWORD_VECTOR, ChunkPoint, SearchFilters, SparseVector, StoreQuery
from .filters import FieldMatch, FilterSpec, acl_filter, document_filter, tenant_filter
from .idf_sample import DEFAULT_TARGET, SAMPLE_FIELD, IdfSampler
from .payload import KEYWORD_INDEXES, TENANT_FIELD, acl_payload, filled, hit_of, payload_of
from .plan import SearchPlan, plan_search

MIN_SERVER_VERSION = (1, 19)
"""Per-caller IDF statistics (``SearchParams.idf``) arrived in Qdrant 1.19."""
UPSERT_BATCH = 256
"""Points per request: keeps one HTTP body to a few MB at 384 dimensions with text."""
log = logging.getLogger(__name__)


class QdrantServerStore:
    """Chunk points in one collection of a Qdrant server (or ``:memory:`` in tests)."""

    def __init__(self, client: QdrantClient, *, collection: str, dimensions: int,
                 idf_sample: int = DEFAULT_TARGET) -> None:
        """``idf_sample``: as ``EdgeStore``'s (``idf_sample.py``)."""
        if dimensions <= 0:
            raise ValueError("dimensions must be positive")
        self.client = client
        self.collection = collection
        self.dimensions = dimensions
        self.idf_sample = IdfSampler(self._count_readable, target=idf_sample)

    # -- lifecycle ------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Create the collection and its payload indexes if missing; check the dense size."""
        with self._remote("prepare the collection"):
            self._check_version(self.client.info().version)
            if not self.client.collection_exists(self.collection):
                self._create_collection()
            info = self.client.get_collection(self.collection)
            self._check_dimensions(info)
            existing = set(info.payload_schema or {})
            with warnings.catch_warnings():
                # Local mode warns that payload indexes do nothing there; the server uses them.
                warnings.filterwarnings("ignore", message="Payload indexes have no effect",
                                        category=UserWarning)
                if TENANT_FIELD not in existing:
                    # is_tenant: the server co-locates a tenant's points and plans by it
                    # (https://qdrant.tech/documentation/guides/multiple-partitions/).
                    self.client.create_payload_index(
                        self.collection, TENANT_FIELD,
                        field_schema=qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD,
                                                           is_tenant=True),
                    )
                for field in KEYWORD_INDEXES:
                    if field not in existing:
                        self.client.create_payload_index(
                            self.collection, field, field_schema=qm.PayloadSchemaType.KEYWORD)
                if SAMPLE_FIELD not in existing and not info.points_count:
                    # Indexed only while empty: the index vouches that every point has samples.
                    self.client.create_payload_index(
                        self.collection, SAMPLE_FIELD, field_schema=qm.PayloadSchemaType.KEYWORD)
                    existing.add(SAMPLE_FIELD)
            self.idf_sample.indexed = SAMPLE_FIELD in existing
            if not self.idf_sample.indexed:
                log.warning("Qdrant collection %r predates IDF samples: keyword IDF is measured "
                            "over everything a caller may read, which slows searches above "
                            "~100k chunks. Sync into a new CLEARANCE_COLLECTION to sample.",
                            self.collection)

    def close(self) -> None:
        self.client.close()

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        for point in points:
            if len(point.dense) != self.dimensions:
                raise ValueError(f"point {point.id} has {len(point.dense)} dimensions, "
                                 f"the store {self.dimensions}")
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [_point(p) for p in points[start:start + UPSERT_BATCH]]
            with self._remote("upsert points"):
                self.client.upsert(self.collection, points=batch, wait=True)

    def delete_document(self, *, tenant: str, doc_id: str,
                        keep_content_hash: str | None = None) -> None:
        spec = document_filter(tenant, doc_id, except_content_hash=keep_content_hash)
        with self._remote("delete a document"):
            self.client.delete(self.collection,
                               points_selector=qm.FilterSelector(filter=_filter(spec)),
                               wait=True, ordering=qm.WriteOrdering.STRONG)

    def set_acl(self, *, tenant: str, doc_id: str, allow: frozenset[str],
                deny: frozenset[str], acl_version: int) -> None:
        payload = acl_payload(allow=allow, deny=deny, acl_version=acl_version)
        with self._remote("rewrite a document's ACL"):
            self.client.set_payload(
                self.collection, payload=payload,
                points=qm.FilterSelector(filter=_filter(document_filter(tenant, doc_id))),
                wait=True, ordering=qm.WriteOrdering.STRONG,
            )

    # -- reads ----------------------------------------------------------------------------

    def search(self, query: StoreQuery, *, entitlements: Entitlements,
               filters: SearchFilters | None = None, top_k: int = 10) -> list[Hit]:
        with self._remote("search"):
            plan = plan_search(query, entitlements=entitlements, filters=filters, top_k=top_k,
                               idf_sample=self.idf_sample.rate(query, entitlements, top_k))
            if top_k <= 0:
                return []
            response = self._query(plan)
        return [hit_of(p.id, p.score, p.payload) for p in response.points]

    def fill(self, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        with self._remote("retrieve"):
            records = self.client.retrieve(self.collection, ids=[h.chunk_id for h in hits],
                                           with_payload=True, with_vectors=False)
        return filled(hits, {str(r.id): r.payload for r in records})

    def count(self, *, tenant: str, doc_id: str | None = None) -> int:
        spec = tenant_filter(tenant) if doc_id is None else document_filter(tenant, doc_id)
        with self._remote("count"):
            return self.client.count(self.collection, count_filter=_filter(spec), exact=True).count

    # -- internals ------------------------------------------------------------------------

    def _count_readable(self, entitlements: Entitlements) -> int:
        return self.client.count(self.collection, exact=True,
                                 count_filter=_filter(acl_filter(entitlements))).count

    def _create_collection(self) -> None:
        try:
            self.client.create_collection(
                self.collection,
                vectors_config={DENSE_VECTOR: qm.VectorParams(size=self.dimensions,
                                                              distance=qm.Distance.COSINE)},
                sparse_vectors_config={KEYWORD_VECTOR: qm.SparseVectorParams(
                    modifier=qm.Modifier.IDF)},
            )
        except UnexpectedResponse as exc:
            if exc.status_code != 409:  # another worker created it first: fine
                raise

    @staticmethod
    def _check_version(version: str) -> None:
        parts = re.findall(r"\d+", version)[:2]
        if len(parts) == 2 and (int(parts[0]), int(parts[1])) < MIN_SERVER_VERSION:
            raise StoreUnavailable(
                f"Qdrant {version} is too old: Clearance needs "
                f"{'.'.join(map(str, MIN_SERVER_VERSION))} or later (per-caller IDF). "
                "Upgrade the qdrant image in docker-compose.yml."
            )

    def _check_dimensions(self, info: qm.CollectionInfo) -> None:
        vectors = info.config.params.vectors
        dense = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
        if dense is None or dense.size != self.dimensions:
            found = "no dense vector" if dense is None else f"{dense.size} dimensions"
            raise StoreUnavailable(
                f"Qdrant collection {self.collection!r} has {found} named {DENSE_VECTOR!r}; "
                f"the embedder gives {self.dimensions}. Set CLEARANCE_COLLECTION to a new "
                "name and sync again, or drop the collection."
            )

    def _query(self, plan: SearchPlan) -> qm.QueryResponse:
        where = _filter(plan.filter)
        idf = qm.SearchParams(idf=qm.IdfCorpusParams(corpus=_filter(plan.idf_corpus)))
        if plan.mode == "dense":
            assert plan.dense is not None
            return self.client.query_points(
                self.collection, query=plan.dense, using=DENSE_VECTOR, query_filter=where,
                limit=plan.top_k, with_payload=plan.payload, with_vectors=False)
        assert plan.sparse is not None
        sparse = _sparse(plan.sparse)
        if plan.mode == "keyword":
            return self.client.query_points(
                self.collection, query=sparse, using=KEYWORD_VECTOR, query_filter=where,
                search_params=idf, limit=plan.top_k, with_payload=plan.payload, with_vectors=False)
        assert plan.dense is not None
        legs = [
            qm.Prefetch(query=plan.dense, using=DENSE_VECTOR, filter=where, limit=plan.leg_limit),
            qm.Prefetch(query=sparse, using=KEYWORD_VECTOR, filter=where, params=idf,
                        limit=plan.leg_limit),
        ]
        return self.client.query_points(
            self.collection, prefetch=legs, query=qm.RrfQuery(rrf=qm.Rrf(k=plan.rrf_k)),
            query_filter=where, limit=plan.top_k, with_payload=plan.payload, with_vectors=False)

    @contextmanager
    def _remote(self, action: str) -> Iterator[None]:
        """Transport and server failures become ``StoreUnavailable`` naming the setting."""
        try:
            yield
        except (ResponseHandlingException, UnexpectedResponse) as exc:
            raise StoreUnavailable(
                f"Qdrant could not {action} in collection {self.collection!r} "
                f"(check CLEARANCE_QDRANT_URL and that the server is up): {exc}"
            ) from exc


def _point(point: ChunkPoint) -> qm.PointStruct:
    return qm.PointStruct(
        id=point.id,
        vector={DENSE_VECTOR: [float(x) for x in point.dense],
                KEYWORD_VECTOR: _sparse(point.sparse)},
        payload=payload_of(point),
    )


def _sparse(vector: SparseVector) -> qm.SparseVector:
    return qm.SparseVector(indices=list(vector.indices), values=[float(v) for v in vector.values])


def _filter(spec: FilterSpec) -> qm.Filter:
    """``FieldMatch`` → ``MatchAny`` on the payload path (any list element may match)."""
    def conditions(matches: tuple[FieldMatch, ...]) -> list[qm.Condition] | None:
        return [qm.FieldCondition(key=m.key, match=qm.MatchAny(any=sorted(m.any_of)))
                for m in matches] or None

    return qm.Filter(must=conditions(spec.must), must_not=conditions(spec.must_not))
