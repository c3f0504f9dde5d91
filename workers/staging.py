"""Pushed documents' bytes kept in SQL while a worker picks them up (Celery mode).

A task message is held by Redis, whole, until a worker takes it, and Celery writes it as
JSON: a 100 MB upload (``CLEARANCE_MAX_UPLOAD_BYTES``) would become ~134 MB of base64 in
the broker's memory, once per queued copy. Documents above ``INLINE_BYTES`` therefore go
to the ``staged_contents`` table (``stage``) and the message carries the row's id; the
worker reads them back (``staged_content``) and deletes the row once the document is
ingested (``discard``). Rows whose task never ran are pruned after ``KEEP_S``
(``prune_staged``, on beat's tick).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core import RawDocument, document_id
from core.errors import ClearanceError
from core.models import StagedContent, utcnow

from .messages import content_ref, raw_from_message
from .pipeline import IngestOutcome

log = logging.getLogger(__name__)

INLINE_BYTES = 256 * 1024
"""Documents up to this size travel in the task message itself."""
KEEP_S = 24 * 3600
"""A staged document no worker took within a day is dropped (its row stays ``queued``)."""


def stage(sessions: sessionmaker[Session], *, tenant: str, content: bytes) -> str:
    """Keep ``content`` for a worker; the id the task message carries."""
    ref = uuid.uuid4().hex
    with sessions.begin() as session:
        session.add(StagedContent(id=ref, tenant_id=tenant, content=content))
    return ref


def staged_content(sessions: sessionmaker[Session], ref: str, *, tenant: str) -> bytes | None:
    """The staged bytes, or None when they are gone (pruned, or ingested by an earlier
    delivery of the same task)."""
    with sessions() as session:
        return session.scalar(select(StagedContent.content).where(
            StagedContent.id == ref, StagedContent.tenant_id == tenant))


def unstaged(sessions: sessionmaker[Session], documents: list[dict[str, Any]], *, tenant: str,
             source_id: str) -> tuple[list[RawDocument], list[IngestOutcome], list[str]]:
    """A task message's documents with staged content read back; a failed outcome for each
    whose staged content is gone; the ids to ``discard`` once the documents are ingested."""
    raws: list[RawDocument] = []
    gone: list[IngestOutcome] = []
    refs: list[str] = []
    for message in documents:
        ref = content_ref(message)
        if ref is None:
            raws.append(raw_from_message(message))
            continue
        staged = staged_content(sessions, ref, tenant=tenant)
        if staged is None:
            log.warning("staged content %s of %s is gone; the document was not ingested",
                        ref, message["external_id"])
            gone.append(IngestOutcome(
                doc_id=document_id(source_id, message["external_id"]),
                external_id=message["external_id"], status="failed",
                error_code=ClearanceError.code,
                error_message="The pushed content was no longer staged (kept for a day, and "
                              "only until ingested): push the document again."))
            continue
        refs.append(ref)
        raws.append(raw_from_message(message, staged=staged))
    return raws, gone, refs


def discard(sessions: sessionmaker[Session], refs: Iterable[str]) -> None:
    ids = list(refs)
    if ids:
        with sessions.begin() as session:
            session.execute(delete(StagedContent).where(StagedContent.id.in_(ids)))


def prune_staged(session: Session, *, now: datetime | None = None) -> int:
    """Delete what was staged more than ``KEEP_S`` ago; how many rows went."""
    cutoff = (now or utcnow()) - timedelta(seconds=KEEP_S)
    result = session.execute(delete(StagedContent).where(StagedContent.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
