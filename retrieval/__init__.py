"""Permission-filtered retrieval: hybrid query, fusion, and the SQL re-check of every hit."""

from index.store import SearchFilters

from .audited import audited_search
from .fusion import rrf_fuse, weighted_fuse
from .recheck import verify_hits
from .search import FusionConfig, Retriever, SearchResult, SearchTimings
from .snippet import make_snippet

__all__ = [
    "FusionConfig",
    "Retriever",
    "SearchFilters",
    "SearchResult",
    "SearchTimings",
    "audited_search",
    "make_snippet",
    "rrf_fuse",
    "verify_hits",
    "weighted_fuse",
]
