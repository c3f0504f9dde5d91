"""A real store whose writes can be made to fail on demand: the index lagging SQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core import Entitlements, Hit
from core.errors import StoreUnavailable
from index.store import ChunkPoint, SearchFilters, StoreQuery, VectorStore


class FlakyStore:
    """Delegates to ``inner``; while ``down`` is set, ACL rewrites and deletes raise
    ``StoreUnavailable`` (upserts too when ``upserts_fail``). ``before_set_acl`` runs just
    before each ACL rewrite reaches the engine (to commit a concurrent change there)."""

    def __init__(self, inner: VectorStore) -> None:
        self.inner = inner
        self.down = False
        self.upserts_fail = False
        self.before_set_acl: Callable[[], None] | None = None
        self.failed_writes = 0

    def _fail(self, action: str) -> None:
        self.failed_writes += 1
        raise StoreUnavailable(f"test store is down ({action})")

    def warm_up(self) -> None:
        self.inner.warm_up()

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if self.down and self.upserts_fail:
            self._fail("upsert")
        self.inner.upsert(points)

    def delete_document(self, *, tenant: str, doc_id: str,
                        keep_content_hash: str | None = None) -> None:
        if self.down:
            self._fail("delete")
        self.inner.delete_document(tenant=tenant, doc_id=doc_id,
                                   keep_content_hash=keep_content_hash)

    def set_acl(self, *, tenant: str, doc_id: str, allow: frozenset[str],
                deny: frozenset[str], acl_version: int) -> None:
        if self.down:
            self._fail("set_acl")
        hook, self.before_set_acl = self.before_set_acl, None
        if hook is not None:
            hook()
        self.inner.set_acl(tenant=tenant, doc_id=doc_id, allow=allow, deny=deny,
                           acl_version=acl_version)

    def search(self, query: StoreQuery, *, entitlements: Entitlements,
               filters: SearchFilters | None = None, top_k: int = 10) -> list[Hit]:
        return self.inner.search(query, entitlements=entitlements, filters=filters,
                                 top_k=top_k)

    def fill(self, hits: Sequence[Hit]) -> list[Hit]:
        return self.inner.fill(hits)

    def count(self, *, tenant: str, doc_id: str | None = None) -> int:
        return self.inner.count(tenant=tenant, doc_id=doc_id)

    def close(self) -> None:
        self.inner.close()
