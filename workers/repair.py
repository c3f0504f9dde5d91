"""Bringing the index back in line with SQL after a write to the store failed.

Every change commits to SQL first and only then touches the vector store (an ACL payload
rewrite, old points dropped, a deleted document's points removed). If that second step
fails, the change is already in force: queries keep only hits whose SQL row says "this
version, readable by this caller" (``retrieval.verify_hits``). The row keeps
``needs_retry`` set, and ``retry_pending`` finishes the store's side later:

- a deleted document (or one with no active version): delete all its points;
- otherwise: rewrite its points' ACL payload from the row, then delete every point that
  is not of the active version.

All of it is idempotent. A row whose ACL or version changed while we worked is pushed
again (up to ``max_passes``), so a slow retry can never leave an older ACL in the payload
than the one in SQL; a row still being ingested (``pending_content_hash`` set) is left to
its ingestion. Run it where ingestion runs (the API's ingest thread in embedded mode), so
dropping old points cannot race a version being written; in Celery mode beat's tick runs it
(``workers.tasks``), and the row locks keep it apart from the workers' own writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from core.db import rows_for_update
from core.models import Document, DocumentStatus

from .services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepairReport:
    repaired: int
    failed: int
    """Rows whose store write failed again; they keep ``needs_retry`` for the next run."""


@dataclass(frozen=True)
class _Target:
    doc_id: str
    tenant: str
    status: str
    content_hash: str | None
    allow: frozenset[str]
    deny: frozenset[str]
    acl_version: int

    @classmethod
    def of(cls, row: Document) -> _Target:
        return cls(row.id, row.tenant_id, row.status, row.content_hash,
                   frozenset(row.acl_allow or ()), frozenset(row.acl_deny or ()),
                   row.acl_version)


def retry_pending(services: Services, *, tenant: str | None = None, limit: int = 1000,
                  max_passes: int = 3) -> RepairReport:
    """Finish the store's side of every change marked ``needs_retry`` (oldest first)."""
    repaired = failed = 0
    with services.sessions() as session:
        query = select(Document).where(Document.needs_retry.is_(True),
                                       Document.pending_content_hash.is_(None))
        if tenant is not None:
            query = query.where(Document.tenant_id == tenant)
        targets = [_Target.of(r) for r in session.scalars(
            query.order_by(Document.updated_at).limit(limit))]
    for target in targets:
        for _ in range(max_passes):
            try:
                _apply(services, target)
            except Exception as exc:  # still down: the flag stays, the next run retries
                log.warning("index repair failed", extra={"doc_id": target.doc_id,
                                                          "error": type(exc).__name__})
                failed += 1
                break
            current = _settle(services, target)
            if current is None:
                repaired += 1
                break
            target = current  # changed while we worked: push what SQL says now
        else:
            failed += 1
    return RepairReport(repaired=repaired, failed=failed)


def _apply(services: Services, target: _Target) -> None:
    store = services.store
    if target.status == DocumentStatus.DELETED or target.content_hash is None:
        store.delete_document(tenant=target.tenant, doc_id=target.doc_id)
        return
    store.set_acl(tenant=target.tenant, doc_id=target.doc_id, allow=target.allow,
                  deny=target.deny, acl_version=target.acl_version)
    store.delete_document(tenant=target.tenant, doc_id=target.doc_id,
                          keep_content_hash=target.content_hash)


def _settle(services: Services, target: _Target) -> _Target | None:
    """Clear ``needs_retry`` if the row is still what we pushed; else return it as it is
    now (marked again: an older push may have landed after a newer one)."""
    with services.sessions() as session, session.begin():
        row = rows_for_update(session, Document, [target.doc_id]).get(target.doc_id)
        if row is None:
            return None
        if row.pending_content_hash is not None:
            return None  # being ingested again: that run finishes the store's side
        now = _Target.of(row)
        if now == target:
            row.needs_retry = False
            return None
        row.needs_retry = True
        return now


def repair_pending(services: Services) -> None:
    """``retry_pending`` on a schedule (the ingest thread, beat's tick): logged, and a
    failure (the database down) waits for the next run instead of raising."""
    try:
        report = retry_pending(services)
    except Exception:
        log.exception("index repair failed")
        return
    if report.repaired or report.failed:
        log.info("index repair", extra={"repaired": report.repaired, "failed": report.failed})
