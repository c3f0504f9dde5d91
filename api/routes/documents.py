"""Pushed documents: put (queued or ``?wait=true``), get, change ACL, delete.

In embedded mode the API process owns the index, so it runs the ingest steps itself on
one background thread (``api.ingest_queue``); in Celery mode a worker runs them
(``workers.push``). ``wait=true`` waits for them up to CLEARANCE_WAIT_TIMEOUT_S.
"""

from __future__ import annotations

import base64
import binascii
from concurrent.futures import TimeoutError as FutureTimeout

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from acl import ensure_tenant, parse_principal
from core import Acl, RawDocument, document_id
from core.audit import record_for
from core.db import rows_for_update
from core.errors import (
    CODES,
    AclInvalid,
    ClearanceError,
    InvalidRequest,
    NotFound,
    WaitTimeout,
)
from core.models import Document, DocumentStatus, Source
from ingest import push_document
from workers.pipeline import delete_document, set_document_acl, version_hash

from ..auth import Caller, require_scope
from ..deps import CallerDep, RequestIdDep, SessionDep, StateDep, admin_audit
from ..ingest_queue import Pending
from ..schemas import AclBody, DocumentAccepted, DocumentPublic, DocumentPut, ErrorDetail
from ..state import AppState

router = APIRouter(prefix="/v1/sources/{source_id}/documents", tags=["documents"])


def source_for_ingest(session: Session, caller: Caller, source_id: str) -> Source:
    """The source, if this caller may write to it; otherwise exactly like a missing one."""
    require_scope(caller, "ingest")
    source = session.get(Source, source_id)
    if source is None or source.tenant_id != caller.tenant or (
        not caller.is_admin and source_id not in caller.source_ids
    ):
        raise NotFound("No such source.")
    return source


def _acl(body: AclBody) -> Acl:
    return Acl(allow=frozenset(_principals(body.allow, field="allow")),
               deny=frozenset(_principals(body.deny, field="deny")))


def _principals(values: list[str], *, field: str) -> list[str]:
    """Canonical ids (``acl.parse_principal``), or ``AclInvalid`` (422 acl_invalid) naming
    every bad entry by its index, before anything is written. Unknown but well-formed
    principals are accepted: they match nobody, and the access explainer reports them."""
    parsed, problems = [], []
    for index, value in enumerate(values):
        try:
            parsed.append(parse_principal(value))
        except AclInvalid as exc:
            problems.append(f"acl.{field}[{index}]: {exc.message}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise AclInvalid("; ".join(problems[:5]) + more)
    return parsed


def _acl_state(row: Document) -> dict[str, object]:
    return {"allow": list(row.acl_allow or []), "deny": list(row.acl_deny or []),
            "acl_version": row.acl_version, "status": row.status}


def _raw(external_id: str, body: DocumentPut) -> RawDocument:
    content = None
    if body.content_base64 is not None:
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("content_base64 is not valid base64.") from None
    acl = _acl(body.acl)
    return push_document(external_id=external_id, title=body.title, url=body.url,
                         text=body.text, content=content, mime_type=body.mime_type,
                         allow=sorted(acl.allow), deny=sorted(acl.deny),
                         updated_at=body.updated_at, metadata=body.metadata)


def _public(row: Document) -> DocumentPublic:
    error = ErrorDetail(code=row.error_code, message=row.error_message or "") \
        if row.error_code else None
    return DocumentPublic(doc_id=row.id, source_id=row.source_id, external_id=row.external_id,
                          title=row.title, url=row.url, status=row.status,
                          acl=AclBody(allow=list(row.acl_allow), deny=list(row.acl_deny)),
                          chunks=row.chunk_count, error=error,
                          updated_at=row.source_updated_at or row.updated_at)


def _queue(state: AppState, raw: RawDocument, *, tenant: str, source_id: str) -> Pending:
    with state.services.sessions() as session, session.begin():
        doc_id = document_id(source_id, raw.external_id)
        row = rows_for_update(session, Document, [doc_id]).get(doc_id)
        if row is None:
            ensure_tenant(session, tenant)
            session.add(Document(id=doc_id, tenant_id=tenant, source_id=source_id,
                                 external_id=raw.external_id, title=raw.title, url=raw.url,
                                 mime_type=raw.mime_type, status=DocumentStatus.QUEUED))
        elif row.status != DocumentStatus.INDEXING and not _same_as_indexed(row, raw):
            row.status = DocumentStatus.QUEUED
    return state.pushes.submit(raw, tenant=tenant, source_id=source_id)


def _same_as_indexed(row: Document, raw: RawDocument) -> bool:
    """The indexed version's content pushed again: the row must keep saying indexed, for
    the pipeline to find it unchanged and embed nothing (an ACL change still applies)."""
    return row.status == DocumentStatus.INDEXED and row.content_hash == version_hash(raw)


@router.put("/{external_id:path}/acl", response_model=DocumentPublic)
def put_acl(source_id: str, external_id: str, body: AclBody, caller: CallerDep,
            state: StateDep, session: SessionDep, request_id: RequestIdDep) -> DocumentPublic:
    source_for_ingest(session, caller, source_id)
    acl = _acl(body)
    doc_id = document_id(source_id, external_id)
    before = session.get(Document, doc_id)
    before_state = _acl_state(before) if before is not None else None
    row = set_document_acl(state.services, tenant=caller.tenant, doc_id=doc_id, acl=acl)
    with state.services.sessions() as audit_session, audit_session.begin():
        record_for(audit_session, admin_audit(caller, request_id), kind="document.acl",
                   target=row.id, status_code=200,
                   detail={"before": before_state, "after": _acl_state(row),
                           "source_id": source_id, "external_id": external_id})
    return _public(row)


@router.put("/{external_id:path}", status_code=202, response_model=DocumentAccepted,
            responses={200: {"model": DocumentAccepted}})
def put_document(source_id: str, external_id: str, body: DocumentPut, caller: CallerDep,
                 state: StateDep, session: SessionDep, request_id: RequestIdDep,
                 wait: bool = Query(default=False)) -> DocumentAccepted | JSONResponse:
    source_for_ingest(session, caller, source_id)
    raw = _raw(external_id, body)
    doc_id = document_id(source_id, external_id)
    before = session.get(Document, doc_id)
    before_state = _acl_state(before) if before is not None else None
    future = _queue(state, raw, tenant=caller.tenant, source_id=source_id)
    acl = raw.acl or Acl()
    with state.services.sessions() as audit_session, audit_session.begin():
        record_for(audit_session, admin_audit(caller, request_id), kind="document.put",
                   target=doc_id, status_code=200 if wait else 202,
                   detail={"before": before_state,
                           "after": {"allow": sorted(acl.allow), "deny": sorted(acl.deny)},
                           "source_id": source_id, "external_id": external_id})
    if not wait:
        return DocumentAccepted(doc_id=doc_id, status=DocumentStatus.QUEUED)
    try:
        outcome = future.result(timeout=state.settings.wait_timeout_s)
    except FutureTimeout:
        raise WaitTimeout("Still indexing after CLEARANCE_WAIT_TIMEOUT_S; the work goes on. "
                          "Poll GET on this document for its status.") from None
    if outcome.status == "failed":
        error = CODES.get(outcome.error_code or "", ClearanceError)
        raise error(outcome.error_message or "The document could not be ingested.")
    body_out = DocumentAccepted(doc_id=doc_id, status=DocumentStatus.INDEXED,
                                chunks=outcome.chunks)
    return JSONResponse(body_out.model_dump(), status_code=200)


@router.get("/{external_id:path}", response_model=DocumentPublic)
def get_document(source_id: str, external_id: str, caller: CallerDep,
                 session: SessionDep) -> DocumentPublic:
    source_for_ingest(session, caller, source_id)
    row = session.get(Document, document_id(source_id, external_id))
    if row is None:
        raise NotFound("No such document.")
    return _public(row)


@router.delete("/{external_id:path}", response_model=DocumentAccepted)
def remove_document(source_id: str, external_id: str, caller: CallerDep, state: StateDep,
                    session: SessionDep, request_id: RequestIdDep) -> DocumentAccepted:
    source_for_ingest(session, caller, source_id)
    doc_id = document_id(source_id, external_id)
    before = session.get(Document, doc_id)
    before_state = _acl_state(before) if before is not None else None
    delete_document(state.services, tenant=caller.tenant, doc_id=doc_id)
    with state.services.sessions() as audit_session, audit_session.begin():
        record_for(audit_session, admin_audit(caller, request_id), kind="document.delete",
                   target=doc_id, status_code=200,
                   detail={"before": before_state, "after": {"status": DocumentStatus.DELETED},
                           "source_id": source_id, "external_id": external_id})
    return DocumentAccepted(doc_id=doc_id, status=DocumentStatus.DELETED)
