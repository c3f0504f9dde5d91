"""Sources (admin): the systems documents come from."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from acl import bump_acl_epoch, ensure_tenant
from core.audit import record_for
from core.errors import Conflict, NotFound
from core.models import Document, Source, SyncRun
from workers import CLOSED_CODE, TASK_NAMES, PermissionHealth, permission_health
from workers.secrets import decrypt_secrets, encrypt_secrets, split_secrets
from workers.sync import last_runs, runs_of

from ..auth import Caller, require_scope
from ..deps import CallerDep, RequestIdDep, SessionDep, StateDep, admin_audit
from ..schemas import (
    ErrorDetail,
    SourceCreate,
    SourceListWithRuns,
    SourcePatch,
    SourcePermissionsPublic,
    SourceWithRuns,
    SyncAccepted,
    SyncRunList,
    SyncRunPublic,
)
from ..state import AppState

router = APIRouter(prefix="/v1/sources", tags=["sources"])

_SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey", "private_key")
_RUN_STATUS = {"running": "running", "succeeded": "ok", "failed": "failed",
               "crashed": "failed", "needs_credentials": "needs_credentials"}


def _redacted(config: dict[str, Any]) -> dict[str, Any]:
    """Secrets are never returned, whatever a connector calls them (they are stored
    encrypted apart from the config; this is the second fence)."""
    return {k: ("***" if any(w in k.lower() for w in _SECRET_WORDS) else v)
            for k, v in config.items()}


def _run_public(run: SyncRun) -> SyncRunPublic:
    error = (ErrorDetail(code=run.error_code, message=run.error_message or "")
             if run.error_code else None)
    return SyncRunPublic(id=run.id, kind=run.kind, status=run.status,
                         started_at=run.started_at, finished_at=run.finished_at,
                         seen=run.seen, new=run.new, changed=run.changed,
                         unchanged=run.unchanged, deleted=run.deleted, failed=run.failed,
                         resumed_from=run.resumed_from, checkpoint=run.checkpoint, error=error)


def _permissions_public(health: PermissionHealth) -> SourcePermissionsPublic:
    status: Literal["ok", "failing", "fail_closed"] = (
        "fail_closed" if health.closed else "failing" if health.failing_since else "ok")
    message = None
    if health.closed:
        message = ("The permission sync has failed for longer than the grace period "
                   f"({health.grace_s:g} s: CLEARANCE_PERMISSIONS_GRACE_S or "
                   "config.permissions_grace_s), so no document of this source is readable "
                   "until a permission sync succeeds; GET /v1/sources/{id}/runs says why "
                   "it fails.")
    elif health.failing_since:
        message = ("The permission sync fails; the last synced permissions hold until "
                   "closes_at, then the source fails closed.")
    return SourcePermissionsPublic(status=status, last_success_at=health.last_success_at,
                                   failing_since=health.failing_since,
                                   grace_s=health.grace_s, closes_at=health.closes_at,
                                   closed_at=health.closed_at, message=message)


def _public(source: Source, counts: tuple[dict[str, int], int] | None = None,
            last_run: SyncRun | None = None,
            health: PermissionHealth | None = None) -> SourceWithRuns:
    documents, chunks = counts or ({}, 0)
    status = _RUN_STATUS.get(last_run.status, "idle") if last_run else "idle"
    if health is not None and health.closed:
        status = CLOSED_CODE  # the documents are unreadable: that outranks the last run
    return SourceWithRuns(id=source.id, name=source.name, kind=source.kind,
                          config=_redacted(source.config or {}), created_at=source.created_at,
                          updated_at=source.updated_at, documents=documents, chunks=chunks,
                          status=status, last_run=_run_public(last_run) if last_run else None,
                          permissions=_permissions_public(health) if health else None)


def _health(session: SessionDep, source: Source, state: AppState) -> PermissionHealth:
    return permission_health(session, source,
                             default_grace_s=state.settings.permissions_grace_s)


def _store_config(source: Source, config: dict[str, Any], settings: Any) -> None:
    """Secret-looking keys are encrypted apart from the config; the rest is kept plain.
    A patch that names no secret keeps the stored ones."""
    plain, secrets = split_secrets(config)
    source.config = plain
    secrets = {k: v for k, v in secrets.items() if v != "***"}  # a redacted value echoed back
    if secrets:
        kept = decrypt_secrets(settings, source.secrets_encrypted) \
            if source.secrets_encrypted else {}
        source.secrets_encrypted = encrypt_secrets(settings, {**kept, **secrets})


def _visible(session: SessionDep, caller: Caller, source_id: str) -> Source:
    source = session.get(Source, source_id)
    if source is None or source.tenant_id != caller.tenant or (
        not caller.is_admin and source_id not in caller.source_ids
    ):
        raise NotFound("No such source.")
    return source


def _counts(session: SessionDep, source_id: str) -> tuple[dict[str, int], int]:
    rows = session.execute(
        select(Document.status, func.count(), func.coalesce(func.sum(Document.chunk_count), 0))
        .where(Document.source_id == source_id).group_by(Document.status))
    documents, chunks = {}, 0
    for status, n, chunk_sum in rows:
        documents[status] = int(n)
        chunks += int(chunk_sum) if status == "indexed" else 0
    return documents, chunks


@router.post("", status_code=201, response_model=SourceWithRuns)
def create_source(body: SourceCreate, caller: CallerDep, session: SessionDep, state: StateDep,
                  request_id: RequestIdDep) -> SourceWithRuns:
    require_scope(caller, "admin")
    try:
        with session.begin():
            ensure_tenant(session, caller.tenant)
            source = Source(id=uuid.uuid4().hex, tenant_id=caller.tenant, name=body.name,
                            kind=body.kind)
            _store_config(source, body.config, state.settings)
            session.add(source)
            session.flush()
            record_for(session, admin_audit(caller, request_id), kind="source.create",
                       target=source.id, status_code=201)
    except IntegrityError:
        raise Conflict(f"A source named {body.name!r} exists already.") from None
    return _public(source)


@router.get("", response_model=SourceListWithRuns)
def list_sources(caller: CallerDep, session: SessionDep, state: StateDep,
                 ) -> SourceListWithRuns:
    require_scope(caller, "ingest")
    query = select(Source).where(Source.tenant_id == caller.tenant).order_by(Source.name)
    if not caller.is_admin:
        query = query.where(Source.id.in_(caller.source_ids))
    sources = list(session.scalars(query))
    last = last_runs(session, source_ids=[s.id for s in sources])
    return SourceListWithRuns(sources=[_public(s, _counts(session, s.id), last.get(s.id),
                                               _health(session, s, state))
                                       for s in sources])


@router.get("/{source_id}", response_model=SourceWithRuns)
def get_source(source_id: str, caller: CallerDep, session: SessionDep,
               state: StateDep) -> SourceWithRuns:
    require_scope(caller, "ingest")
    source = _visible(session, caller, source_id)
    last = last_runs(session, source_ids=[source.id]).get(source.id)
    return _public(source, _counts(session, source.id), last, _health(session, source, state))


@router.get("/{source_id}/runs", response_model=SyncRunList)
def list_runs(source_id: str, caller: CallerDep, session: SessionDep,
              limit: int = 20) -> SyncRunList:
    """The source's newest runs first, content and permission syncs alike."""
    require_scope(caller, "ingest")
    source = _visible(session, caller, source_id)
    return SyncRunList(runs=[_run_public(r) for r in
                             runs_of(session, source_id=source.id, limit=max(1, min(limit, 200)))])


@router.post("/{source_id}/sync", status_code=202, response_model=SyncAccepted)
def start_sync(source_id: str, caller: CallerDep, session: SessionDep, state: StateDep,
               request_id: RequestIdDep) -> SyncAccepted:
    """Embedded mode: the sync runs in this process, ingesting through the ingest thread.
    ``CLEARANCE_TASK_QUEUE=celery``: the sync is enqueued for the workers."""
    require_scope(caller, "admin")
    with session.begin():
        source = _visible(session, caller, source_id)
        record_for(session, admin_audit(caller, request_id), kind="source.sync",
                   target=source.id, status_code=202)
    if state.celery is not None:
        state.celery.send_task(TASK_NAMES["sync_source"], args=[source.id])
        return SyncAccepted(source_id=source.id, status="queued")
    started = state.source_jobs.start(source.id)
    return SyncAccepted(source_id=source.id, status="queued" if started else "running")


@router.patch("/{source_id}", response_model=SourceWithRuns)
def patch_source(source_id: str, body: SourcePatch, caller: CallerDep, session: SessionDep,
                 state: StateDep, request_id: RequestIdDep) -> SourceWithRuns:
    require_scope(caller, "admin")
    try:
        with session.begin():
            source = _visible(session, caller, source_id)
            if body.name is not None:
                source.name = body.name
            if body.config is not None:
                _store_config(source, body.config, state.settings)
            record_for(session, admin_audit(caller, request_id), kind="source.update",
                       target=source.id, status_code=200)
    except IntegrityError:
        raise Conflict(f"A source named {body.name!r} exists already.") from None
    return _public(source, _counts(session, source.id))


@router.delete("/{source_id}")
def delete_source(source_id: str, caller: CallerDep, state: StateDep, session: SessionDep,
                  request_id: RequestIdDep) -> dict[str, str]:
    """Invisible from the SQL commit on (no document rows left); then the points go."""
    require_scope(caller, "admin")
    with session.begin():
        source = _visible(session, caller, source_id)
        doc_ids = list(session.scalars(select(Document.id).where(
            Document.source_id == source.id)))
        session.execute(delete(Document).where(Document.source_id == source.id))
        session.delete(source)
        bump_acl_epoch(session, caller.tenant)
        record_for(session, admin_audit(caller, request_id), kind="source.delete",
                   target=source_id, status_code=200,
                   detail={"documents": len(doc_ids),
                           "before": {"name": source.name, "kind": source.kind,
                                      "documents": len(doc_ids)},
                           "after": None})
    for doc_id in doc_ids:
        state.services.store.delete_document(tenant=caller.tenant, doc_id=doc_id)
    return {"id": source_id, "status": "deleted"}
