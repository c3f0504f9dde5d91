"""An in-process LRU of answers, safe to share between callers only when it cannot leak.

An entry is reused only for the same tenant, the same ``acl_epoch`` (every permission
change bumps it), the same index version (every document write changes it), the *same
entitlement set* (a sha256 of the sorted principals: two users share an entry only when
they may read exactly the same things) and the same normalised question, ``top_k`` and
filters. A question never meets an answer computed for a different set of permissions.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import Entitlements
from core.models import Document
from retrieval import SearchFilters

__all__ = ["AnswerCache", "CacheKey", "cache_key", "index_version"]

V = TypeVar("V")


@dataclass(frozen=True)
class CacheKey:
    tenant: str
    acl_epoch: int
    index_version: str
    principals_sha256: str
    question: str
    top_k: int
    filters: str


def cache_key(question: str, *, entitlements: Entitlements, acl_epoch: int,
              index_version: str, top_k: int, filters: SearchFilters | None) -> CacheKey:
    principals = hashlib.sha256("\n".join(sorted(entitlements.principals)).encode())
    return CacheKey(
        tenant=entitlements.tenant, acl_epoch=acl_epoch, index_version=index_version,
        principals_sha256=principals.hexdigest(),
        question=" ".join(question.casefold().split()), top_k=top_k,
        filters=_filters_key(filters),
    )


def _filters_key(filters: SearchFilters | None) -> str:
    if filters is None:
        return ""
    return json.dumps({
        "source_ids": sorted(filters.source_ids) if filters.source_ids is not None else None,
        "doc_ids": sorted(filters.doc_ids) if filters.doc_ids is not None else None,
        "metadata": sorted(dict(filters.metadata or {}).items()),
    })


def index_version(session: Session, tenant: str) -> str:
    """Changes whenever a document of ``tenant`` is written, re-indexed or deleted."""
    count, latest = session.execute(
        select(func.count(Document.id), func.max(Document.updated_at))
        .where(Document.tenant_id == tenant)
    ).one()
    return f"{count}:{latest.isoformat() if latest is not None else '-'}"


class AnswerCache(Generic[V]):
    """A bounded, thread-safe LRU; ``max_entries=0`` keeps nothing."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: CacheKey, value: V) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
