"""The last gate before a hit leaves: its document's SQL row is the truth.

A hit survives only if its content hash is the document's active version and the row's
current ACL lets the caller in. The engine filtered on payloads, which may lag a commit
(an ACL change being pushed, an old version not yet deleted, a crash between steps); this
check makes that lag harmless — a stale index can never leak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Acl, Entitlements, Hit
from core.models import Document, DocumentStatus

log = logging.getLogger("clearance.index_lag")


def verify_hits(session: Session, hits: Sequence[Hit], *, entitlements: Entitlements,
                ) -> list[Hit]:
    """The hits whose document row still says: this version, readable by this caller."""
    if not hits:
        return []
    doc_ids = {h.doc_id for h in hits}
    # By primary key only; tenant and status are checked on the rows below. With them in
    # the WHERE clause, SQLite (no ANALYZE statistics) plans on ix_documents_tenant_status
    # and walks every row of the tenant: 28 ms a search at 1M chunks instead of <1 ms.
    rows = session.execute(
        select(Document.id, Document.tenant_id, Document.status, Document.content_hash,
               Document.acl_allow, Document.acl_deny, Document.acl_version)
        .where(Document.id.in_(doc_ids))
    ).all()
    current = {r.id: r for r in rows if r.tenant_id == entitlements.tenant
               and r.status != DocumentStatus.DELETED}
    kept: list[Hit] = []
    for hit in hits:
        row = current.get(hit.doc_id)
        if row is None or row.content_hash != hit.content_hash:
            log.info("index lag: dropped hit of an inactive version",
                     extra={"doc_id": hit.doc_id, "chunk_id": hit.chunk_id})
            continue
        acl = Acl(allow=frozenset(row.acl_allow or ()), deny=frozenset(row.acl_deny or ()))
        if not acl.permits(entitlements.principals):
            log.info("index lag: dropped hit whose SQL ACL no longer admits the caller",
                     extra={"doc_id": hit.doc_id, "acl_version": row.acl_version,
                            "payload_acl_version": hit.acl_version})
            continue
        kept.append(hit)
    return kept


def verified_prefix(hits: Sequence[Hit], check: Callable[[Sequence[Hit]], list[Hit]], *,
                    need: int, by_document: bool) -> list[Hit]:
    """``check`` (the re-check) applied to the best of ``hits`` only: slices of them, each
    twice as wide as the last, until ``need`` documents (``by_document``) or chunks have
    passed. What passed is a prefix of what checking every hit would pass, so its first
    ``need`` documents (or chunks) are the same: a search re-checks a handful of rows,
    not every candidate the legs returned."""
    passed: list[Hit] = []
    seen: set[str] = set()
    start, want = 0, need
    while start < len(hits) and len(seen if by_document else passed) < need:
        end = _slice_end(hits, start, want, by_document=by_document)
        for hit in check(hits[start:end]):
            passed.append(hit)
            seen.add(hit.doc_id)
        start, want = end, want * 2
    return passed


def _slice_end(hits: Sequence[Hit], start: int, want: int, *, by_document: bool) -> int:
    """The end of the slice from ``start`` holding ``want`` documents (or chunks)."""
    if not by_document:
        return min(len(hits), start + want)
    documents: set[str] = set()
    for index in range(start, len(hits)):
        documents.add(hits[index].doc_id)
        if len(documents) > want:
            return index
    return len(hits)
