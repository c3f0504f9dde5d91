"""One audit row per question and per state-changing call. Rows carry ids and hashes;
the query text only when ``CLEARANCE_AUDIT_QUERY_TEXT`` is on (the default)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .models import AuditRecord


@dataclass(frozen=True)
class AuditContext:
    """Who asked, for whom, in which request: handed from the API to where work happens."""

    tenant: str
    caller: str
    user_id: str | None = None
    on_behalf_of: str | None = None
    request_id: str | None = None
    store_query_text: bool = True


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record_audit(session: Session, *, tenant: str, kind: str, caller: str | None,
                 on_behalf_of: str | None = None, user_id: str | None = None,
                 request_id: str | None = None,
                 target: str | None = None, query: str | None = None,
                 store_query_text: bool = True, chunk_ids: Sequence[str] = (),
                 status_code: int | None = None, latency_ms: int | None = None,
                 **fields: Any) -> AuditRecord:
    """Add an audit row to ``session`` (committed with the caller's transaction)."""
    row = AuditRecord(
        tenant_id=tenant, kind=kind, caller=caller, on_behalf_of=on_behalf_of, user_id=user_id,
        request_id=request_id, target=target,
        query_text=query if (query is not None and store_query_text) else None,
        query_hash=sha256_hex(query) if query is not None else None,
        chunk_ids=list(chunk_ids), status_code=status_code, latency_ms=latency_ms,
        detail=fields.pop("detail", {}), **fields,
    )
    session.add(row)
    return row


def record_for(session: Session, context: AuditContext, *, kind: str, **fields: Any,
               ) -> AuditRecord:
    """``record_audit`` with the identities of ``context``."""
    return record_audit(session, tenant=context.tenant, kind=kind, caller=context.caller,
                        on_behalf_of=context.on_behalf_of, user_id=context.user_id,
                        request_id=context.request_id,
                        store_query_text=context.store_query_text, **fields)
