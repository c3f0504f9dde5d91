"""Syncing a source: list what changed since the last checkpoint, ingest it in batches,
delete what disappeared, and keep the run's progress in a ``sync_runs`` row.

The same functions run under Celery (``workers.tasks``, with a Redis lock per source) and
in the API process (embedded mode, ingesting through the API's ingest thread); the caller
holds the source's lock, so nothing else writes its runs while they work.

- A run resumes from the checkpoint of the newest run that reached one: a crashed run's
  mid-listing position, or a finished run's high-water mark (incremental sync).
- A run still marked ``running`` when the next starts is marked ``crashed``.
- Deletion by reconciliation: a connector that lists everything (``documents()``, or a
  ``changes()`` that ends with ``ListingComplete``) lets the run delete every document of
  the source it did not see, so a file gone from the source is gone within one cycle.
- Everything is idempotent: an unchanged document is skipped by its content hash.
- A full-listing reconciliation (``workers.reconcile``, ids only) runs on its own, slower
  schedule to catch what incremental syncs missed.
- A source whose permission sync keeps failing fails closed past its grace period
  (``workers.grace``); while closed, its content syncs write empty ACLs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from acl import delete_group, ensure_tenant, put_group
from core import RawDocument, document_id
from core.db import rows_for_update
from core.errors import ClearanceError, NotFound
from core.models import Document, DocumentStatus, Group, Membership, Source, SyncRun, SyncRunStatus
from ingest import (
    Checkpoint,
    ConnectorFailure,
    Deleted,
    IncrementalConnector,
    ListingComplete,
    PermissionConnector,
    Seen,
    SourceConnector,
    SourceCredentialsInvalid,
    create_connector,
)

from .grace import PERMISSIONS, Clock, enforce_permission_grace, guard_ingest, utc_now
from .pipeline import IngestOutcome, delete_document, ingest_documents, set_document_acl
from .retention import prune_runs
from .secrets import decrypt_secrets
from .services import Services

log = logging.getLogger(__name__)

CONTENT = "content"
RECONCILE = "reconcile"

Ingest = Callable[[list[RawDocument]], list[IngestOutcome]]
Heartbeat = Callable[[], None]


@dataclass
class RunCounts:
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class SyncReport:
    run_id: str
    source_id: str
    kind: str
    status: str
    counts: RunCounts
    resumed_from: Mapping[str, Any] | None
    checkpoint: Mapping[str, Any] | None
    error_code: str | None = None


def connector_for(services: Services, source: Source) -> SourceConnector:
    """The source's connector, its secrets decrypted into its config."""
    config: dict[str, Any] = dict(source.config or {})
    config["source_id"] = source.id  # synced groups are named group:<source_id>:<id>
    if source.secrets_encrypted:
        config.update(decrypt_secrets(services.settings, source.secrets_encrypted))
    return create_connector(source.kind, config, max_bytes=services.settings.max_upload_bytes)


def sync_source(services: Services, *, source_id: str,
                connector: SourceConnector | None = None,
                ingest: Ingest | None = None, heartbeat: Heartbeat | None = None,
                batch_size: int | None = None) -> SyncReport:
    """One content sync of the source. The caller holds the source's lock."""
    source = _source(services, source_id)
    tenant = source.tenant_id
    ingest = guard_ingest(services, source_id=source_id, ingest=ingest or (
        lambda raws: ingest_documents(services, raws, tenant=tenant, source_id=source_id)))
    beat = heartbeat or (lambda: None)
    run_id, start = _start_run(services, source, kind=CONTENT)
    syncer = _ContentSync(services, tenant=tenant, source_id=source_id, run_id=run_id,
                          ingest=ingest, heartbeat=beat,
                          batch_size=batch_size or services.settings.sync_batch_size)
    try:
        connector = connector or connector_for(services, source)  # a bad config is the run's
        if isinstance(connector, IncrementalConnector):
            items: Iterable[Any] = connector.changes(start)
            lists_everything = False
        else:
            items = connector.documents()
            lists_everything = True
        complete = syncer.consume(items)
        if complete or lists_everything:
            syncer.reconcile()
    except Exception as exc:
        status, code, message = failure_of(exc)
        _finish_run(services, run_id, syncer.counts, syncer.checkpoint, status=status,
                    error=(code, message))
        log.warning("sync failed", extra={"source_id": source_id, "run_id": run_id,
                                          "error": code})
        raise
    _finish_run(services, run_id, syncer.counts, syncer.checkpoint,
                status=SyncRunStatus.SUCCEEDED)
    return SyncReport(run_id, source_id, CONTENT, SyncRunStatus.SUCCEEDED, syncer.counts,
                      start, syncer.checkpoint)


class _ContentSync:
    def __init__(self, services: Services, *, tenant: str, source_id: str, run_id: str,
                 ingest: Ingest, heartbeat: Heartbeat, batch_size: int) -> None:
        self.services, self.tenant, self.source_id = services, tenant, source_id
        self.run_id, self.ingest, self.heartbeat = run_id, ingest, heartbeat
        self.batch_size = batch_size
        self.counts = RunCounts()
        self.checkpoint: dict[str, Any] | None = None
        self.seen_ids: set[str] = set()
        self._batch: list[RawDocument] = []

    def consume(self, items: Iterable[Any]) -> bool:
        """Process every item; True when the connector said the listing was complete."""
        complete = False
        for item in items:
            if isinstance(item, RawDocument):
                self._see(item.external_id)
                self._batch.append(item)
                if len(self._batch) >= self.batch_size:
                    self._flush()
            elif isinstance(item, ConnectorFailure):
                self._see(item.external_id)
                self._record_failure(item)
            elif isinstance(item, Seen):
                self._see(item.external_id)
                self.counts.unchanged += 1
            elif isinstance(item, Deleted):
                self._delete([document_id(self.source_id, item.external_id)])
            elif isinstance(item, Checkpoint):
                self._flush()
                self.checkpoint = dict(item.state)
                _save_progress(self.services, self.run_id, self.counts, self.checkpoint)
            elif isinstance(item, ListingComplete):
                complete = True
        self._flush()
        return complete

    def reconcile(self) -> None:
        """Delete every live document of the source that this listing did not show."""
        with self.services.sessions() as session:
            rows = session.execute(select(Document.id, Document.external_id).where(
                Document.source_id == self.source_id,
                Document.status != DocumentStatus.DELETED)).all()
        gone = [doc_id for doc_id, external_id in rows
                if external_id not in self.seen_ids
                and external_id.partition("/")[0] not in self.seen_ids]
        self._delete(gone)

    def _see(self, external_id: str) -> None:
        self.seen_ids.add(external_id)
        self.counts.seen += 1

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        ids = [document_id(self.source_id, r.external_id) for r in batch]
        with self.services.sessions() as session:
            existing = set(session.scalars(select(Document.id).where(
                Document.id.in_(ids), Document.content_hash.is_not(None))))
        for outcome in self.ingest(batch):
            if outcome.status in {"indexed", "superseded"}:
                if outcome.doc_id in existing:
                    self.counts.changed += 1
                else:
                    self.counts.new += 1
            elif outcome.status == "failed":
                self.counts.failed += 1
            else:
                self.counts.unchanged += 1
        self.heartbeat()
        _save_progress(self.services, self.run_id, self.counts, self.checkpoint)

    def _record_failure(self, failure: ConnectorFailure) -> None:
        """The item's row says why; a version indexed before stays as it was."""
        self.counts.failed += 1
        doc_id = document_id(self.source_id, failure.external_id)
        with self.services.sessions() as session, session.begin():
            ensure_tenant(session, self.tenant)
            row = rows_for_update(session, Document, [doc_id]).get(doc_id)
            if row is None:
                row = Document(id=doc_id, tenant_id=self.tenant, source_id=self.source_id,
                               external_id=failure.external_id, acl_allow=[], acl_deny=[],
                               acl_version=1, title=failure.external_id)
                session.add(row)
            if row.content_hash is None:
                row.status = DocumentStatus.FAILED
            row.error_code, row.error_message = failure.code, failure.message

    def _delete(self, doc_ids: list[str]) -> None:
        for doc_id in doc_ids:
            try:
                delete_document(self.services, tenant=self.tenant, doc_id=doc_id)
            except NotFound:
                continue  # never ingested, or deleted already: idempotent
            self.counts.deleted += 1


def sync_permissions(services: Services, *, source_id: str,
                     connector: SourceConnector | None = None, clock: Clock = utc_now,
                     ) -> SyncReport:
    """Synced groups and every document's ACL from the source, without re-embedding. A
    failure past the source's grace period closes it (``workers.grace``; ``clock`` is the
    time that decision is made at); a success writes the real ACLs back."""
    source = _source(services, source_id)
    tenant = source.tenant_id
    run_id, _ = _start_run(services, source, kind=PERMISSIONS)
    counts = RunCounts()
    try:
        connector = connector or connector_for(services, source)
        if not isinstance(connector, PermissionConnector):
            _finish_run(services, run_id, counts, None, status=SyncRunStatus.SUCCEEDED)
            return SyncReport(run_id, source_id, PERMISSIONS, SyncRunStatus.SUCCEEDED, counts,
                              None, None)
        snapshot = connector.permissions()
        _apply_groups(services, tenant=tenant, source_id=source_id, groups=snapshot.groups,
                      complete=snapshot.complete, counts=counts)
        _apply_acls(services, tenant=tenant, source_id=source_id, changes=snapshot.acls,
                    counts=counts)
    except Exception as exc:
        status, code, message = failure_of(exc)
        _finish_run(services, run_id, counts, None, status=status, error=(code, message))
        try:
            enforce_permission_grace(services, source_id=source_id, now=clock())
        except Exception as guard_exc:  # beat's sweep tries again; the sync's error wins
            log.warning("permission grace not enforced",
                        extra={"source_id": source_id, "error": type(guard_exc).__name__})
        raise
    _finish_run(services, run_id, counts, None, status=SyncRunStatus.SUCCEEDED)
    return SyncReport(run_id, source_id, PERMISSIONS, SyncRunStatus.SUCCEEDED, counts, None,
                      None)


def _apply_groups(services: Services, *, tenant: str, source_id: str, groups: Iterable[Any],
                  complete: bool, counts: RunCounts) -> None:
    """One transaction: each synced group whose members differ is replaced; with a complete
    snapshot, the source's groups it no longer has are deleted. Unchanged groups are left
    alone (no epoch bump, so caches stay warm)."""
    with services.sessions() as session, session.begin():
        ensure_tenant(session, tenant)
        current = _synced_members(session, tenant=tenant, source_id=source_id)
        wanted = {g.group_id: g for g in groups}
        # create every group first, so groups may name each other as members
        created: set[str] = set()
        for gid, group in wanted.items():
            counts.seen += 1
            if gid not in current:
                put_group(session, tenant=tenant, group_id=gid, members=[],
                          display_name=group.display_name, source_id=source_id,
                          allow_synced=True)
                counts.new += 1
                created.add(gid)
                current[gid] = set()
        for gid, group in wanted.items():
            if current[gid] != set(group.members):
                put_group(session, tenant=tenant, group_id=gid, members=sorted(group.members),
                          display_name=group.display_name, source_id=source_id,
                          allow_synced=True)
                counts.changed += gid not in created
            elif gid not in created:
                counts.unchanged += 1
        if complete:
            for gid in sorted(set(current) - set(wanted)):
                delete_group(session, tenant=tenant, group_id=gid, allow_synced=True)
                counts.deleted += 1


def _synced_members(session: Session, *, tenant: str, source_id: str) -> dict[str, set[str]]:
    ids = list(session.scalars(select(Group.id).where(Group.tenant_id == tenant,
                                                     Group.source_id == source_id)))
    members: dict[str, set[str]] = {gid: set() for gid in ids}
    for gid, member in session.execute(select(Membership.group_id, Membership.member_id).where(
            Membership.tenant_id == tenant, Membership.group_id.in_(ids))):
        members[gid].add(member)
    return members


def _apply_acls(services: Services, *, tenant: str, source_id: str, changes: Iterable[Any],
                counts: RunCounts) -> None:
    with services.sessions() as session:
        rows = session.execute(
            select(Document.id, Document.external_id, Document.acl_allow, Document.acl_deny)
            .where(Document.source_id == source_id,
                   Document.status != DocumentStatus.DELETED)).all()
    current = {doc_id: (frozenset(allow or ()), frozenset(deny or ()))
               for doc_id, _, allow, deny in rows}
    children: dict[str, list[str]] = {}
    for doc_id, external_id, _, _ in rows:
        parent, slash, _rest = external_id.partition("/")
        if slash:
            children.setdefault(parent, []).append(doc_id)
    for change in changes:
        counts.seen += 1
        targets = [document_id(source_id, change.external_id)]
        if change.include_children:
            targets += children.get(change.external_id, [])
        for doc_id in targets:
            if doc_id not in current:
                continue  # not ingested yet: the content sync brings its ACL along
            if current[doc_id] == (change.acl.allow, change.acl.deny):
                counts.unchanged += 1
                continue
            try:
                set_document_acl(services, tenant=tenant, doc_id=doc_id, acl=change.acl)
            except NotFound:
                continue
            counts.changed += 1


# --- runs -------------------------------------------------------------------------------


def failure_of(exc: BaseException) -> tuple[str, str, str]:
    """A failed run's status, error code and message."""
    status = (SyncRunStatus.NEEDS_CREDENTIALS if isinstance(exc, SourceCredentialsInvalid)
              else SyncRunStatus.FAILED)
    code = exc.code if isinstance(exc, ClearanceError) else "internal_error"
    message = exc.message if isinstance(exc, ClearanceError) else type(exc).__name__
    return status, code, message


def _source(services: Services, source_id: str) -> Source:
    with services.sessions() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise NotFound(f"no source {source_id}")
        session.expunge(source)
        return source


def _start_run(services: Services, source: Source, *, kind: str,
               ) -> tuple[str, dict[str, Any] | None]:
    """Mark runs left ``running`` as crashed, find the checkpoint to start from, open a run."""
    now = datetime.now(UTC)
    with services.sessions() as session, session.begin():
        for stale in session.scalars(select(SyncRun).where(
                SyncRun.source_id == source.id, SyncRun.kind == kind,
                SyncRun.status == SyncRunStatus.RUNNING)):
            stale.status, stale.finished_at = SyncRunStatus.CRASHED, now
        start = None
        if kind == CONTENT:
            start = session.scalars(select(SyncRun.checkpoint).where(
                SyncRun.source_id == source.id, SyncRun.kind == kind,
                SyncRun.checkpoint.is_not(None)).order_by(SyncRun.started_at.desc())
                .limit(1)).first()
        run = SyncRun(id=uuid.uuid4().hex, tenant_id=source.tenant_id, source_id=source.id,
                      kind=kind, status=SyncRunStatus.RUNNING, started_at=now,
                      heartbeat_at=now, resumed_from=start, checkpoint=start,
                      seen=0, new=0, changed=0, unchanged=0, deleted=0, failed=0)
        session.add(run)
    return run.id, dict(start) if start else None


def _save_progress(services: Services, run_id: str, counts: RunCounts,
                   checkpoint: Mapping[str, Any] | None) -> None:
    with services.sessions() as session, session.begin():
        run = session.get(SyncRun, run_id)
        if run is None:
            return
        _write_counts(run, counts, checkpoint)
        run.heartbeat_at = datetime.now(UTC)


def _write_counts(run: SyncRun, counts: RunCounts,
                  checkpoint: Mapping[str, Any] | None) -> None:
    for name, value in counts.as_dict().items():
        setattr(run, name, value)
    if checkpoint is not None:
        run.checkpoint = dict(checkpoint)


def _finish_run(services: Services, run_id: str, counts: RunCounts,
                checkpoint: Mapping[str, Any] | None, *, status: str,
                error: tuple[str, str] | None = None) -> None:
    with services.sessions() as session, session.begin():
        run = session.get(SyncRun, run_id)
        if run is None:
            return
        _write_counts(run, counts, checkpoint)
        run.status, run.finished_at = status, datetime.now(UTC)
        if error is not None:
            run.error_code, run.error_message = error
    with services.sessions() as session, session.begin():
        prune_runs(session, source_id=run.source_id)


def runs_of(session: Session, *, source_id: str, limit: int = 20) -> list[SyncRun]:
    return list(session.scalars(select(SyncRun).where(SyncRun.source_id == source_id)
                                .order_by(SyncRun.started_at.desc()).limit(limit)))


def last_runs(session: Session, *, source_ids: Iterable[str]) -> dict[str, SyncRun]:
    """The newest content run of each source."""
    out: dict[str, SyncRun] = {}
    ids = list(source_ids)
    if not ids:
        return out
    for run in session.scalars(select(SyncRun).where(
            SyncRun.source_id.in_(ids), SyncRun.kind == CONTENT)
            .order_by(SyncRun.started_at.desc())):
        out.setdefault(run.source_id, run)
    return out


def due_sources(session: Session, *, default_content_s: float, default_permissions_s: float,
                default_reconcile_s: float | None = None, now: datetime | None = None,
                ) -> Iterator[tuple[str, str]]:
    """``(source_id, kind)`` for every sync whose interval has passed since its last start.
    Push sources have nothing to pull and are never due.

    ``reconcile`` (with ``default_reconcile_s``) has its own, slower interval, counted from
    the last reconciliation, else from the source's first content sync (a full listing
    itself): a source never synced is not due for one."""
    now = now or datetime.now(UTC)
    last: dict[tuple[str, str], datetime] = {}
    first_content: dict[str, datetime] = {}
    # One row per (source, kind), aggregated by the database: the table gains a row per
    # run (hundreds a source a day) and this runs on every tick.
    for source_id, kind, newest, oldest in session.execute(
            select(SyncRun.source_id, SyncRun.kind, func.max(SyncRun.started_at),
                   func.min(SyncRun.started_at)).group_by(SyncRun.source_id, SyncRun.kind)):
        last[(source_id, kind)] = _aware(newest)
        if kind == CONTENT:
            first_content[source_id] = _aware(oldest)
    kinds: list[tuple[str, float, str]] = [
        (CONTENT, default_content_s, "sync_interval_s"),
        (PERMISSIONS, default_permissions_s, "permissions_interval_s")]
    if default_reconcile_s is not None:
        kinds.append((RECONCILE, default_reconcile_s, "reconcile_interval_s"))
    for source in session.scalars(select(Source).where(Source.kind != "push")):
        config = source.config or {}
        for kind, default, setting in kinds:
            interval = _interval(config.get(setting), default)
            previous = last.get((source.id, kind))
            if kind == RECONCILE:
                previous = previous or first_content.get(source.id)
                if previous is None:
                    continue
            if previous is None or now - previous >= timedelta(seconds=interval):
                yield source.id, kind


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stamp here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _interval(value: object, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def purge_runs(session: Session, *, source_id: str) -> None:
    session.execute(delete(SyncRun).where(SyncRun.source_id == source_id))
