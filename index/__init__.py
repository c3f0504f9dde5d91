"""Embedding, keyword vectors and the vector stores: what turns chunks into searchable points."""

from .sparse import Bm25Encoder, encode_document, encode_query, tokenize
from .store import (
    DENSE_VECTOR,
    KEYWORD_VECTOR,
    ChunkPoint,
    EdgeStore,
    QdrantServerStore,
    SearchFilters,
    SparseVector,
    StoreQuery,
    VectorStore,
    create_store,
)

__all__ = [
    "DENSE_VECTOR",
    "KEYWORD_VECTOR",
    "Bm25Encoder",
    "ChunkPoint",
    "EdgeStore",
    "QdrantServerStore",
    "SearchFilters",
    "SparseVector",
    "StoreQuery",
    "VectorStore",
    "create_store",
    "encode_document",
    "encode_query",
    "tokenize",
]
