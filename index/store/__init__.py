"""The vector store seam: one ``VectorStore`` protocol, two engines, one factory."""

from __future__ import annotations

from qdrant_client import QdrantClient

from core import Settings

from .base import (
    DENSE_VECTOR,
    KEYWORD_VECTOR,
    ChunkPoint,
    SearchFilters,
    SparseVector,
    StoreQuery,
    VectorStore,
)
from .edge import EdgeStore
from .filters import FieldMatch, FilterSpec, acl_filter, document_filter, tenant_filter
from .qdrant_server import QdrantServerStore

MEMORY_URL = ":memory:"


def create_store(settings: Settings, dimensions: int) -> VectorStore:
    """The store the settings name, not yet warmed up.

    ``CLEARANCE_QDRANT_URL`` unset: the embedded Edge shard under ``DATA_DIR/edge``;
    ``:memory:``: qdrant-client's in-process mode (tests); a URL: that Qdrant server.
    """
    url = settings.qdrant_url
    if not url:
        return EdgeStore(settings.edge_path, dimensions=dimensions,
                         idf_sample=settings.idf_sample_chunks)
    if url == MEMORY_URL:
        client = QdrantClient(location=MEMORY_URL)
    else:
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        # No version probe here (constructors do no I/O); warm_up() checks the version.
        client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)
    return QdrantServerStore(client, collection=settings.collection, dimensions=dimensions,
                             idf_sample=settings.idf_sample_chunks)


__all__ = [
    "DENSE_VECTOR",
    "KEYWORD_VECTOR",
    "ChunkPoint",
    "EdgeStore",
    "FieldMatch",
    "FilterSpec",
    "QdrantServerStore",
    "SearchFilters",
    "SparseVector",
    "StoreQuery",
    "VectorStore",
    "acl_filter",
    "create_store",
    "document_filter",
    "tenant_filter",
]
