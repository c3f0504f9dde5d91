"""Building blocks for the vector store contract suite: real stores, small documents.

Vectors come from the deterministic hashing embedder and our BM25 encoder, so every test
runs offline in milliseconds, against the real engines (Edge in a temp dir, qdrant-client's
``:memory:`` mode for the server code path).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Literal

from qdrant_client import QdrantClient

from core import EVERYONE, Entitlements, chunk_id, document_id
from index.embed.hashing import HashingEmbedder
from index.sparse import encode_document, encode_query
from index.store import ChunkPoint, EdgeStore, QdrantServerStore, StoreQuery, VectorStore
from index.store.idf_sample import DEFAULT_TARGET

DIMS = 64
TENANT = "acme"
SOURCE = "wiki"
STORE_KINDS = ("edge", "server")
Mode = Literal["dense", "keyword", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "keyword", "hybrid")

_embedder = HashingEmbedder(dimensions=DIMS)


def make_store(kind: str, tmp_dir: Path, *, idf_sample: int = DEFAULT_TARGET) -> VectorStore:
    """A fresh store of ``kind``, not yet warmed up."""
    if kind == "edge":
        return EdgeStore(tmp_dir / "edge", dimensions=DIMS, idf_sample=idf_sample)
    if kind == "server":
        return QdrantServerStore(QdrantClient(location=":memory:"), collection="chunks",
                                 dimensions=DIMS, idf_sample=idf_sample)
    raise ValueError(kind)


@contextmanager
def open_store(kind: str, tmp_dir: Path, *, idf_sample: int = DEFAULT_TARGET,
               ) -> Iterator[VectorStore]:
    with fast_dir(tmp_dir) as where:
        store = make_store(kind, where, idf_sample=idf_sample)
        store.warm_up()
        try:
            yield store
        finally:
            store.close()


@contextmanager
def fast_dir(fallback: Path) -> Iterator[Path]:
    """A directory on tmpfs when there is one: Edge fsyncs on create, index creation and
    flush (~1 s per fresh shard on disk, ~30 ms on tmpfs). Behaviour is the same."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and shm.exists()):
        yield fallback
        return
    try:
        where = Path(tempfile.mkdtemp(prefix="clearance-edge-", dir=shm))
    except OSError:
        yield fallback
        return
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def doc(key: str, *texts: str, tenant: str = TENANT, source: str = SOURCE,
        allow: Iterable[str] = (EVERYONE,), deny: Iterable[str] = (), version: str = "v1",
        acl_version: int = 1, metadata: Mapping[str, str] | None = None,
        title: str | None = None) -> list[ChunkPoint]:
    """The chunk points of one document, one per text, ids as ingestion derives them."""
    doc_id = document_id(source, key)
    return [
        ChunkPoint(
            id=chunk_id(doc_id, version, ordinal),
            dense=_embedder.embed_documents([text])[0],
            sparse=encode_document(text),
            tenant=tenant,
            source_id=source,
            doc_id=doc_id,
            external_id=key,
            content_hash=version,
            ordinal=ordinal,
            text=text,
            title=title if title is not None else key,
            url=f"https://wiki.example.com/{key}",
            heading_path=("Handbook", key),
            acl_allow=frozenset(allow),
            acl_deny=frozenset(deny),
            acl_version=acl_version,
            updated_at="2024-05-01T12:00:00+00:00",
            metadata=dict(metadata or {}),
        )
        for ordinal, text in enumerate(texts)
    ]


def in_tenant(points: list[ChunkPoint], tenant: str) -> list[ChunkPoint]:
    """The same document (same doc id) held by another tenant. Real ids never collide
    across tenants (sources are per tenant), so the copies get their own point ids."""
    return [replace(p, tenant=tenant, id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{p.id}")))
            for p in points]


def doc_id_of(key: str, source: str = SOURCE) -> str:
    return document_id(source, key)


def ask(text: str, mode: Mode, *, rrf_k: int = 60,
        prefetch_limit: int | None = None) -> StoreQuery:
    """The query a retrieval of ``mode`` would send for ``text``."""
    dense = _embedder.embed_query(text) if mode in ("dense", "hybrid") else None
    sparse = encode_query(text) if mode in ("keyword", "hybrid") else None
    return StoreQuery(dense=dense, sparse=sparse, rrf_k=rrf_k, prefetch_limit=prefetch_limit)


def caller(*principals: str, tenant: str = TENANT) -> Entitlements:
    return Entitlements(tenant=tenant, principals=frozenset(principals))
