"""Groups and principals (admin): membership, entitlements, and the two explainers
(``can-read`` for one user, ``documents/{doc_id}/access`` for every reader of a document).

Every membership change leaves an audit row with the member list before and after."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from acl import (
    GroupInfo,
    UserAccess,
    bump_acl_epoch,
    delete_group,
    document_access,
    ensure_tenant,
    explain_document_access,
    get_group,
    group_principal,
    list_groups,
    parse_user,
    put_group,
)
from core import Principal
from core.audit import record_for
from core.errors import NotFound

from ..auth import require_scope
from ..deps import CallerDep, RequestIdDep, SessionDep, StateDep, admin_audit
from ..schemas import (
    AclEntryPublic,
    CanRead,
    DocumentAccessPublic,
    EntitlementsPublic,
    GroupList,
    GroupPublic,
    GroupPut,
    UserAccessPublic,
)

router = APIRouter(prefix="/v1", tags=["groups"])


def _public(info: GroupInfo) -> GroupPublic:
    return GroupPublic(id=info.id, name=info.id.removeprefix("group:"),
                       members=list(info.members), source_id=info.source_id)


@router.put("/groups/{name:path}", response_model=GroupPublic)
def put_group_route(name: str, body: GroupPut, caller: CallerDep, session: SessionDep,
                    request_id: RequestIdDep) -> GroupPublic:
    require_scope(caller, "admin")
    group_id = group_principal(name)
    with session.begin():
        before = _members_or_none(session, tenant=caller.tenant, group_id=group_id)
        info = put_group(session, tenant=caller.tenant, group_id=group_id,
                         members=body.members)
        record_for(session, admin_audit(caller, request_id), kind="group.put",
                   target=group_id, status_code=200,
                   detail={"before": before, "after": {"members": list(info.members)}})
    return _public(info)


@router.get("/groups", response_model=GroupList)
def list_groups_route(caller: CallerDep, session: SessionDep, q: str | None = None,
                      limit: int = Query(default=50, ge=1, le=500),
                      cursor: str | None = None) -> GroupList:
    require_scope(caller, "admin")
    groups, next_cursor = list_groups(session, tenant=caller.tenant, q=q, limit=limit,
                                      cursor=cursor)
    return GroupList(groups=[_public(g) for g in groups], next_cursor=next_cursor)


@router.get("/groups/{name:path}", response_model=GroupPublic)
def get_group_route(name: str, caller: CallerDep, session: SessionDep) -> GroupPublic:
    require_scope(caller, "admin")
    return _public(get_group(session, tenant=caller.tenant, group_id=group_principal(name)))


@router.delete("/groups/{name:path}")
def delete_group_route(name: str, caller: CallerDep, session: SessionDep,
                       request_id: RequestIdDep) -> dict[str, str]:
    require_scope(caller, "admin")
    group_id = group_principal(name)
    with session.begin():
        before = _members_or_none(session, tenant=caller.tenant, group_id=group_id)
        delete_group(session, tenant=caller.tenant, group_id=group_id)
        record_for(session, admin_audit(caller, request_id), kind="group.delete",
                   target=group_id, status_code=200,
                   detail={"before": before, "after": None})
    return {"id": group_id, "status": "deleted"}


def _members_or_none(session: Session, *, tenant: str, group_id: str,
                     ) -> dict[str, list[str]] | None:
    """The member list an audit row records as "before". The epoch bump first takes the
    tenant's write lock (acl/epoch.py), so no concurrent change slips in between."""
    ensure_tenant(session, tenant)
    bump_acl_epoch(session, tenant)
    try:
        return {"members": list(get_group(session, tenant=tenant, group_id=group_id).members)}
    except NotFound:
        return None


@router.get("/principals/{user_id}/entitlements", response_model=EntitlementsPublic)
def entitlements_route(user_id: str, caller: CallerDep, state: StateDep) -> EntitlementsPublic:
    require_scope(caller, "admin")
    user = parse_user(user_id)
    entitlements = state.resolver.entitlements_for(Principal(id=user, tenant=caller.tenant))
    return EntitlementsPublic(user_id=user, tenant=caller.tenant,
                              principals=sorted(entitlements.principals))


@router.get("/principals/{user_id}/can-read/{doc_id}", response_model=CanRead)
def can_read_route(user_id: str, doc_id: str, caller: CallerDep,
                   session: SessionDep) -> CanRead:
    require_scope(caller, "admin")
    explanation = explain_document_access(session, tenant=caller.tenant,
                                          user_id=parse_user(user_id), doc_id=doc_id)
    return CanRead(allowed=explanation.allowed, reason=explanation.message,
                   code=explanation.reason, via=list(explanation.via))


@router.get("/documents/{doc_id}/access", response_model=DocumentAccessPublic)
def document_access_route(doc_id: str, caller: CallerDep, session: SessionDep,
                          limit: int = Query(default=1000, ge=1, le=10_000),
                          ) -> DocumentAccessPublic:
    """Who may read the document and through which chain; who its deny entries keep out;
    which ACL entries match nobody. ``limit`` caps each user list (totals are exact)."""
    require_scope(caller, "admin")
    access = document_access(session, tenant=caller.tenant, doc_id=doc_id)
    return DocumentAccessPublic(
        doc_id=access.doc_id, acl_version=access.acl_version, everyone=access.everyone,
        readers=[_user_access(u) for u in access.readers[:limit]],
        readers_total=len(access.readers),
        excluded=[_user_access(u) for u in access.excluded[:limit]],
        excluded_total=len(access.excluded),
        allow=[AclEntryPublic(principal=e.principal, kind=e.kind, status=e.status,
                              users=e.users, note=e.note) for e in access.allow],
        deny=[AclEntryPublic(principal=e.principal, kind=e.kind, status=e.status,
                             users=e.users, note=e.note) for e in access.deny],
        matches_nobody=list(access.matches_nobody),
    )


def _user_access(user: UserAccess) -> UserAccessPublic:
    return UserAccessPublic(user_id=user.user_id, via=list(user.via), reason=user.reason)
