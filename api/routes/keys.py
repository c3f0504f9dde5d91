"""API keys (admin): create (shown once), list, revoke."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Query
from sqlalchemy import select

from acl import ensure_tenant, parse_user
from core.audit import record_for
from core.errors import Forbidden, NotFound
from core.models import ApiKey

from ..auth import Caller, key_digest, new_key, require_scope
from ..deps import CallerDep, RequestIdDep, SessionDep, StateDep, admin_audit
from ..schemas import KeyCreate, KeyCreated, KeyPublic

router = APIRouter(prefix="/v1/keys", tags=["keys"])


def _public(row: ApiKey) -> KeyPublic:
    return KeyPublic(id=row.id, name=row.name, prefix=row.prefix, scopes=list(row.scopes),
                     user_id=row.user_id, source_ids=list(row.source_ids),
                     tenant=row.tenant_id, created_at=row.created_at,
                     expires_at=row.expires_at, revoked_at=row.revoked_at)


def _check_tenant(caller: Caller, tenant: str) -> None:
    """Only the bootstrap admin may create keys of another tenant."""
    if tenant != caller.tenant and caller.key_id is not None:
        raise Forbidden("An admin key may only create keys of its own tenant.")


@router.post("", status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, caller: CallerDep, state: StateDep, session: SessionDep,
               request_id: RequestIdDep) -> KeyCreated:
    require_scope(caller, "admin")
    _check_tenant(caller, body.tenant)
    key = new_key()
    with session.begin():
        ensure_tenant(session, body.tenant)
        row = ApiKey(id=uuid.uuid4().hex, tenant_id=body.tenant, name=body.name,
                     digest=key_digest(key, settings=state.settings), prefix=key[:8],
                     scopes=sorted(set(body.scopes)),
                     user_id=parse_user(body.user_id) if body.user_id else None,
                     source_ids=sorted(set(body.source_ids)), expires_at=body.expires_at,
                     created_at=datetime.now(UTC))
        session.add(row)
        record_for(session, admin_audit(caller, request_id), kind="key.create",
                   target=row.id, status_code=201)
    return KeyCreated(**_public(row).model_dump(), key=key)


@router.get("", response_model=list[KeyPublic])
def list_keys(caller: CallerDep, session: SessionDep,
              include_revoked: bool = Query(default=False)) -> list[KeyPublic]:
    require_scope(caller, "admin")
    query = select(ApiKey).where(ApiKey.tenant_id == caller.tenant).order_by(ApiKey.created_at)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [_public(r) for r in session.scalars(query)]


@router.delete("/{key_id}", response_model=KeyPublic)
def revoke_key(key_id: str, caller: CallerDep, session: SessionDep,
               request_id: RequestIdDep) -> KeyPublic:
    require_scope(caller, "admin")
    with session.begin():
        row = session.get(ApiKey, key_id)
        if row is None or row.tenant_id != caller.tenant:
            raise NotFound("No such key.")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
        record_for(session, admin_audit(caller, request_id), kind="key.revoke",
                   target=row.id, status_code=200)
    return _public(row)
