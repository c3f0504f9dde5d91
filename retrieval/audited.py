"""A search as a caller makes it: retrieve, then leave one audit row."""

from __future__ import annotations

import time

from core import Entitlements
from core.audit import AuditContext, record_for

from index.store import SearchFilters

from .search import Retriever, SearchResult


def audited_search(retriever: Retriever, query: str, *, entitlements: Entitlements,
                   audit: AuditContext, filters: SearchFilters | None = None,
                   top_k: int = 10, group_by_document: bool = True) -> SearchResult:
    started = time.perf_counter()
    result = retriever.search(query, entitlements=entitlements, filters=filters, top_k=top_k,
                              group_by_document=group_by_document)
    searched = time.perf_counter()
    with retriever.sessions() as session, session.begin():
        record_for(session, audit, kind="search", query=query,
                   chunk_ids=[h.chunk_id for h in result.hits], status_code=200,
                   latency_ms=int((searched - started) * 1000),
                   detail={"top_k": top_k, "hits": len(result.hits)})
    result.timings.audit_ms = (time.perf_counter() - searched) * 1000
    return result
