"""Full-listing reconciliation: on its own, slower schedule (``CLEARANCE_RECONCILE_INTERVAL_S``,
a source's ``config.reconcile_interval_s``), list the id of every item the source has now
(``ListingConnector.listing()``: ids only, no bodies, no ACLs) and delete each live
document of the source that the listing did not show. It catches what incremental syncs
missed (a delta that dropped a deletion, an item moved out of scope).

- Only a listing that ran to its end deletes anything; one that fails deletes nothing.
- A document first recorded after the listing started is kept: it may have been created
  at the source after the listing passed its place.
- The caller holds the source's content lock (reconciliation and content syncs never
  overlap); the run is a ``reconcile`` row in ``sync_runs``.
- A connector without ``listing()`` (the filesystem: every content sync lists everything
  already) gets a run that does nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from core.errors import NotFound
from core.models import Document, DocumentStatus, SyncRunStatus
from ingest import ListingConnector, SourceConnector

from .pipeline import delete_document
from .services import Services
from .sync import (
    RECONCILE,
    Heartbeat,
    RunCounts,
    SyncReport,
    _finish_run,
    _source,
    _start_run,
    connector_for,
    failure_of,
)

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1000


def reconcile_source(services: Services, *, source_id: str,
                     connector: SourceConnector | None = None,
                     heartbeat: Heartbeat | None = None) -> SyncReport:
    """One reconciliation of the source. The caller holds the source's content lock."""
    source = _source(services, source_id)
    beat = heartbeat or (lambda: None)
    run_id, _ = _start_run(services, source, kind=RECONCILE)
    started = datetime.now(UTC)
    counts = RunCounts()
    try:
        connector = connector or connector_for(services, source)
        if isinstance(connector, ListingConnector):
            listed: set[str] = set()
            for external_id in connector.listing():
                listed.add(external_id)
                counts.seen += 1
                if counts.seen % HEARTBEAT_EVERY == 0:
                    beat()
            for doc_id in _unlisted(services, source_id=source_id, listed=listed,
                                    before=started):
                try:
                    delete_document(services, tenant=source.tenant_id, doc_id=doc_id)
                except NotFound:
                    continue
                counts.deleted += 1
    except Exception as exc:
        status, code, message = failure_of(exc)
        _finish_run(services, run_id, counts, None, status=status, error=(code, message))
        log.warning("reconciliation failed", extra={"source_id": source_id, "run_id": run_id,
                                                    "error": code})
        raise
    _finish_run(services, run_id, counts, None, status=SyncRunStatus.SUCCEEDED)
    return SyncReport(run_id, source_id, RECONCILE, SyncRunStatus.SUCCEEDED, counts, None,
                      None)


def _unlisted(services: Services, *, source_id: str, listed: set[str],
              before: datetime) -> list[str]:
    with services.sessions() as session:
        rows = session.execute(select(Document.id, Document.external_id, Document.created_at)
                               .where(Document.source_id == source_id,
                                      Document.status != DocumentStatus.DELETED)).all()
    gone: list[str] = []
    for doc_id, external_id, created_at in rows:
        if external_id in listed or external_id.partition("/")[0] in listed:
            continue
        created = created_at if created_at is None or created_at.tzinfo else \
            created_at.replace(tzinfo=UTC)
        if created is None or created >= before:
            continue  # recorded after the listing started: it may be newer than the listing
        gone.append(doc_id)
    return gone
