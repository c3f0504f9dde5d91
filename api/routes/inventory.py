"""Finding documents across sources (admin): the document inspector's search and lookup.

The ACL itself changes through ``PUT /v1/sources/{id}/documents/{external_id}/acl``; who
may read a document is ``GET /v1/documents/{doc_id}/access`` (routes/groups.py).
"""

from __future__ import annotations

import base64
import binascii
import json

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, or_, select

from core.errors import InvalidRequest, NotFound
from core.models import Document, DocumentStatus, Source

from ..auth import require_scope
from ..deps import CallerDep, SessionDep
from ..schemas import AclBody, DocumentFound, DocumentList, ErrorDetail

router = APIRouter(prefix="/v1/documents", tags=["documents"])


def _found(row: Document, source_name: str) -> DocumentFound:
    error = ErrorDetail(code=row.error_code, message=row.error_message or "") \
        if row.error_code else None
    return DocumentFound(doc_id=row.id, source_id=row.source_id, source_name=source_name,
                         external_id=row.external_id, title=row.title, url=row.url,
                         status=row.status,
                         acl=AclBody(allow=list(row.acl_allow), deny=list(row.acl_deny)),
                         chunks=row.chunk_count, error=error,
                         updated_at=row.source_updated_at or row.updated_at)


def _encode_cursor(row: Document) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.title, row.id]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        title, doc_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(title), str(doc_id)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidRequest("The cursor is not one this API gave out.") from None


@router.get("", response_model=DocumentList)
def find_documents(caller: CallerDep, session: SessionDep, q: str | None = None,
                   source_id: str | None = None, include_deleted: bool = False,
                   limit: int = Query(default=25, ge=1, le=200),
                   cursor: str | None = None) -> DocumentList:
    """The tenant's documents by title; ``q`` matches a substring of the title or the
    external id, case-insensitively."""
    require_scope(caller, "admin")
    query = (select(Document, Source.name).join(Source, Source.id == Document.source_id)
             .where(Document.tenant_id == caller.tenant))
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(or_(func.lower(Document.title).contains(needle, autoescape=True),
                                func.lower(Document.external_id).contains(needle,
                                                                          autoescape=True)))
    if source_id:
        query = query.where(Document.source_id == source_id)
    if not include_deleted:
        query = query.where(Document.status != DocumentStatus.DELETED)
    if cursor:
        title, doc_id = _decode_cursor(cursor)
        query = query.where(or_(Document.title > title,
                                and_(Document.title == title, Document.id > doc_id)))
    rows = list(session.execute(query.order_by(Document.title, Document.id).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1][0]) if len(rows) > limit else None
    return DocumentList(documents=[_found(doc, name) for doc, name in page],
                        next_cursor=next_cursor)


@router.get("/{doc_id}", response_model=DocumentFound)
def get_document(doc_id: str, caller: CallerDep, session: SessionDep) -> DocumentFound:
    require_scope(caller, "admin")
    row = session.execute(
        select(Document, Source.name).join(Source, Source.id == Document.source_id)
        .where(Document.id == doc_id, Document.tenant_id == caller.tenant)).first()
    if row is None:
        raise NotFound("No such document.")
    return _found(row[0], row[1])
