"""Stale permissions fail closed: a source whose permission sync keeps failing keeps its
last synced ACLs for a grace period only (``CLEARANCE_PERMISSIONS_GRACE_S``, a source's
``config.permissions_grace_s``), then none of its documents is readable until a
permission sync succeeds again.

Everything is derived from the ``sync_runs`` table (no column of its own):

- the last success is the newest ``permissions`` run that succeeded (its finish);
- the source is *failing* when its newest finished ``permissions`` run failed (failed,
  crashed or needs_credentials), *since* the start of the first such run after the last
  success (the source's first permission run if it never succeeded);
- it is *stale* when it is failing, no permission run is under way, and the last success
  (else the first failure) is older than the grace period;
- it is *closed* from a ``fail_closed`` row newer than the last success on.

Closing is one SQL transaction: every live document of the source gets an empty ACL (a new
``acl_version``), the tenant's ``acl_epoch`` is bumped once and the ``fail_closed`` row is
written, so from that commit on every process's next query drops the source's hits at the
SQL re-check, and every permission-keyed cache misses; the payloads are then rewritten to
the empty ACL (``needs_retry`` until done), so the engine's own filter agrees. Nothing of
the old ACL is kept: the next successful permission sync writes the source's real ACLs
back (they differ from the empty ones) and, being newer than the ``fail_closed`` row,
opens the source again. While closed, content syncs ingest the source's documents with an
empty ACL too (``guard_ingest``). (A connector without ``permissions()``, whose ACLs come
with its content, gets them back from its next content sync instead.)

Only the SQL rows and payloads change, never the index content: closing and reopening
re-embed nothing.

``enforce_permission_grace`` runs where permission syncs fail (``sync_permissions``) and on
beat's tick (``dispatch_due``), so a source closes within one tick of its deadline.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from acl import bump_acl_epoch
from core import Acl, RawDocument
from core.db import lock_for_writing, rows_for_update
from core.models import Document, DocumentStatus, Source, SyncRun, SyncRunStatus

from .pipeline import IngestOutcome, push_acl
from .services import Services

log = logging.getLogger(__name__)

PERMISSIONS = "permissions"
FAIL_CLOSED = "fail_closed"
"""The ``sync_runs`` kind of the row that records a source closing."""
CLOSED_CODE = "permissions_stale_fail_closed"
FAILED_STATUSES = (SyncRunStatus.FAILED, SyncRunStatus.CRASHED,
                   SyncRunStatus.NEEDS_CREDENTIALS)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PermissionHealth:
    grace_s: float
    last_success_at: datetime | None
    failing_since: datetime | None
    """None: the newest finished permission run succeeded (or there was none)."""
    running: bool
    closed_at: datetime | None
    """When the source failed closed; None while it is open."""

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def closes_at(self) -> datetime | None:
        """When a failing source's grace ends (None: not failing)."""
        if self.failing_since is None:
            return None
        return (self.last_success_at or self.failing_since) + timedelta(seconds=self.grace_s)

    def stale(self, now: datetime) -> bool:
        closes_at = self.closes_at
        return closes_at is not None and not self.running and now >= closes_at


def grace_of(source: Source, default_s: float) -> float:
    value = (source.config or {}).get("permissions_grace_s")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default_s


def permission_health(session: Session, source: Source, *, default_grace_s: float,
                      ) -> PermissionHealth:
    runs = select(SyncRun).where(SyncRun.source_id == source.id, SyncRun.kind == PERMISSIONS)
    success = session.scalars(runs.where(SyncRun.status == SyncRunStatus.SUCCEEDED)
                              .order_by(SyncRun.started_at.desc()).limit(1)).first()
    last_success = _utc(success.finished_at or success.started_at) if success else None
    newest = session.scalars(runs.where(SyncRun.status != SyncRunStatus.RUNNING)
                             .order_by(SyncRun.started_at.desc()).limit(1)).first()
    failing_since = None
    if newest is not None and newest.status in FAILED_STATUSES:
        first = select(func.min(SyncRun.started_at)).where(
            SyncRun.source_id == source.id, SyncRun.kind == PERMISSIONS,
            SyncRun.status.in_(FAILED_STATUSES))
        if success is not None:
            first = first.where(SyncRun.started_at > success.started_at)
        failing_since = _utc(session.scalar(first) or newest.started_at)
    running = session.scalar(select(func.count()).select_from(SyncRun).where(
        SyncRun.source_id == source.id, SyncRun.kind == PERMISSIONS,
        SyncRun.status == SyncRunStatus.RUNNING)) or 0
    closed = select(func.max(SyncRun.started_at)).where(SyncRun.source_id == source.id,
                                                        SyncRun.kind == FAIL_CLOSED)
    if last_success is not None:
        closed = closed.where(SyncRun.started_at > last_success)
    closed_at = session.scalar(closed)
    return PermissionHealth(grace_s=grace_of(source, default_grace_s),
                            last_success_at=last_success, failing_since=failing_since,
                            running=running > 0,
                            closed_at=_utc(closed_at) if closed_at else None)


def is_closed(services: Services, source_id: str) -> bool:
    with services.sessions() as session:
        source = session.get(Source, source_id)
        return source is not None and permission_health(
            session, source, default_grace_s=services.settings.permissions_grace_s).closed


def enforce_permission_grace(services: Services, *, source_id: str,
                             now: datetime | None = None) -> bool:
    """Close the source if its permissions are stale past its grace; True if it is closed
    (now or already). Idempotent: a closed source is left as it is."""
    now = now or utc_now()
    with services.sessions() as session, session.begin():
        source = session.get(Source, source_id)
        if source is None:
            return False
        health = permission_health(session, source,
                                   default_grace_s=services.settings.permissions_grace_s)
        if health.closed:
            return True
        if not health.stale(now):
            return False
        lock_for_writing(session)
        rows = list(session.scalars(select(Document).where(
            Document.source_id == source.id, Document.status != DocumentStatus.DELETED,
        ).order_by(Document.id).with_for_update()))
        pushes = _close_rows(session, source.tenant_id, rows)
        stamp = utc_now()  # the row orders against runs, which use the real clock
        session.add(SyncRun(
            id=uuid.uuid4().hex, tenant_id=source.tenant_id, source_id=source.id,
            kind=FAIL_CLOSED, status=SyncRunStatus.SUCCEEDED, started_at=stamp,
            finished_at=stamp, heartbeat_at=stamp, seen=len(rows), new=0,
            changed=len(pushes), unchanged=len(rows) - len(pushes), deleted=0, failed=0,
            error_code=CLOSED_CODE, error_message=_closed_message(health)))
        tenant = source.tenant_id
    log.warning("permissions stale: source failed closed",
                extra={"source_id": source_id, "documents": len(pushes)})
    _push_empty(services, tenant, pushes)
    return True


def close_stale_sources(services: Services, *, now: datetime | None = None) -> list[str]:
    """Beat's sweep: close every source whose grace ran out; the ids of those it closed."""
    with services.sessions() as session:
        candidates = list(session.scalars(select(SyncRun.source_id).where(
            SyncRun.kind == PERMISSIONS, SyncRun.status.in_(FAILED_STATUSES)).distinct()))
        already = set(session.scalars(select(SyncRun.source_id).where(
            SyncRun.kind == FAIL_CLOSED).distinct()))
    closed: list[str] = []
    for source_id in candidates:
        was_closed = source_id in already and is_closed(services, source_id)
        if not was_closed and enforce_permission_grace(services, source_id=source_id, now=now):
            closed.append(source_id)
    return closed


def guard_ingest(services: Services, *, source_id: str,
                 ingest: Callable[[list[RawDocument]], list[IngestOutcome]],
                 ) -> Callable[[list[RawDocument]], list[IngestOutcome]]:
    """A content sync's ingest step that respects a closed source: its documents are
    written with an empty ACL; a batch that raced the source closing is closed after."""

    def guarded(raws: list[RawDocument]) -> list[IngestOutcome]:
        closed = is_closed(services, source_id)
        if closed:
            raws = [replace(raw, acl=Acl()) for raw in raws]
        outcomes = ingest(raws)
        if not closed and is_closed(services, source_id):
            close_documents(services, doc_ids=[o.doc_id for o in outcomes])
        return outcomes

    return guarded


def close_documents(services: Services, *, doc_ids: Iterable[str]) -> int:
    """Give these documents an empty ACL (one transaction, one epoch bump per tenant)."""
    ids = list(doc_ids)
    if not ids:
        return 0
    with services.sessions() as session, session.begin():
        rows = [row for row in rows_for_update(session, Document, ids).values()
                if row.status != DocumentStatus.DELETED]
        by_tenant: dict[str, list[Document]] = {}
        for row in rows:
            by_tenant.setdefault(row.tenant_id, []).append(row)
        pushes = {tenant: _close_rows(session, tenant, tenant_rows)
                  for tenant, tenant_rows in by_tenant.items()}
    for tenant, targets in pushes.items():
        _push_empty(services, tenant, targets)
    return sum(len(t) for t in pushes.values())


def _close_rows(session: Session, tenant: str, rows: list[Document]) -> list[tuple[str, int]]:
    """Empty every row's ACL that lets anyone in; bump the epoch once if any changed."""
    changed: list[tuple[str, int]] = []
    for row in rows:
        if not row.acl_allow:
            continue  # nobody may read it already
        row.acl_allow, row.acl_deny = [], []
        row.acl_version += 1
        row.needs_retry = True
        changed.append((row.id, row.acl_version))
    if changed:
        bump_acl_epoch(session, tenant)
    return changed


def _push_empty(services: Services, tenant: str, targets: list[tuple[str, int]]) -> None:
    for doc_id, acl_version in targets:
        push_acl(services, tenant=tenant, doc_id=doc_id, acl=Acl(), acl_version=acl_version)


def _closed_message(health: PermissionHealth) -> str:
    last = health.last_success_at.isoformat() if health.last_success_at else "never"
    since = health.failing_since.isoformat() if health.failing_since else "?"
    return (f"The permission sync has failed since {since}; the last successful one "
            f"({last}) is older than the grace period ({health.grace_s:g} s: "
            "CLEARANCE_PERMISSIONS_GRACE_S or config.permissions_grace_s). The source's "
            "documents are unreadable until a permission sync succeeds "
            "(GET /v1/sources/{id}/runs shows why it fails).")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
