"""Health, readiness, Prometheus metrics and the audit log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select, text

from core.models import AuditRecord
from core.types import user_principal

from ..auth import require_scope
from ..deps import CallerDep, SessionDep, StateDep
from ..schemas import AuditList, AuditPublic

router = APIRouter(tags=["operations"])


@router.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/ready")
def ready(state: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with state.services.engine.connect() as conn:
            conn.execute(text("select 1"))
        checks["sql"] = "ok"
    except Exception:
        checks["sql"] = "unreachable"
    try:
        state.services.store.count(tenant="\x00probe")
        checks["vector_store"] = "ok"
    except Exception:
        checks["vector_store"] = "unreachable"
    checks["embedder"] = state.services.embedder.device
    ok = checks["sql"] == "ok" and checks["vector_store"] == "ok"
    return JSONResponse({"status": "ready" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/audit", response_model=AuditList)
def audit_log(caller: CallerDep, session: SessionDep, user: str | None = None,
              since: datetime | None = None, until: datetime | None = None,
              kind: str | None = None, abstained: bool | None = None,
              model: str | None = None, cursor: int | None = None,
              limit: int = Query(default=100, ge=1, le=1000)) -> AuditList:
    require_scope(caller, "admin")
    query = select(AuditRecord).where(AuditRecord.tenant_id == caller.tenant)
    if user:
        query = query.where(AuditRecord.user_id == user_principal(user))
    if since:
        query = query.where(AuditRecord.at >= since)
    if until:
        query = query.where(AuditRecord.at < until)
    if kind:
        query = query.where(AuditRecord.kind == kind)
    if abstained is not None:
        query = query.where(AuditRecord.abstained.is_(abstained))
    if model:
        query = query.where(AuditRecord.model == model)
    if cursor:
        query = query.where(AuditRecord.id < cursor)
    rows = list(session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return AuditList(records=[_audit_public(r) for r in rows[:limit]], next_cursor=next_cursor)


def _audit_public(row: AuditRecord) -> AuditPublic:
    return AuditPublic(id=row.id, at=row.at, kind=row.kind, request_id=row.request_id,
                       caller=row.caller, on_behalf_of=row.on_behalf_of, user_id=row.user_id,
                       target=row.target, query=row.query_text, query_hash=row.query_hash,
                       chunk_ids=list(row.chunk_ids), model=row.model,
                       model_version=row.model_version, abstained=row.abstained,
                       reason=row.reason, status_code=row.status_code,
                       latency_ms=row.latency_ms, detail=dict(row.detail or {}))
