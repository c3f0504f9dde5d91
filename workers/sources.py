"""Source rows: the systems documents come from."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acl import ensure_tenant
from core.models import Source


def get_or_create_source(session: Session, *, tenant: str, name: str, kind: str,
                         config: dict[str, Any] | None = None) -> Source:
    """The tenant's source called ``name``, created (of ``kind``) if it does not exist."""
    ensure_tenant(session, tenant)
    source = session.scalars(
        select(Source).where(Source.tenant_id == tenant, Source.name == name)
    ).one_or_none()
    if source is None:
        source = Source(id=uuid.uuid4().hex, tenant_id=tenant, name=name, kind=kind,
                        config=dict(config or {}))
        session.add(source)
        session.flush()
    return source
