"""Permission-filtered retrieval: hybrid query, fusion, the SQL re-check of every hit, and
an optional reranker."""

from index.store import SearchFilters

from .audited import audited_search
from .fusion import rrf_fuse, weighted_fuse
from .recheck import verify_hits
from .rerank import CrossEncoderReranker, Reranker, create_reranker
from .search import FusionConfig, Retriever, SearchResult, SearchTimings
from .snippet import make_snippet

__all__ = [
    "CrossEncoderReranker",
    "FusionConfig",
    "Reranker",
    "Retriever",
    "SearchFilters",
    "SearchResult",
    "SearchTimings",
    "audited_search",
    "create_reranker",
    "make_snippet",
    "rrf_fuse",
    "verify_hits",
    "weighted_fuse",
]
