"""The path of a document: parse → chunk → embed → write points → one SQL commit → drop old.

A new version is swapped in atomically (DESIGN.md): its points are written under new ids,
then one SQL commit makes its content hash the active one, then the old points are
deleted. Queries keep only hits whose content hash and acl_version match the SQL row, so a
crash between any two steps leaves exactly one version visible; the row keeps
``needs_retry`` set until the last step is done.

Documents are prepared one by one (a bad one fails alone) and embedded together in
batches, so a crawl runs near the model's throughput.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from acl import bump_acl_epoch, ensure_tenant
from core import Acl, Chunk, RawDocument, chunk_id, document_id
from core.db import rows_for_update
from core.errors import ClearanceError, NotFound
from core.models import Document, DocumentStatus
from index.sparse import encode_document
from index.store import ChunkPoint, SparseVector
from ingest import chunk_elements, embedding_text, keyword_text, parse_document

from .services import Services

log = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]
"""Called between steps with the name of the step just done (tests crash here)."""


def _no_checkpoint(_step: str) -> None:
    return None


@dataclass(frozen=True)
class IngestOutcome:
    doc_id: str
    external_id: str
    status: str
    """``indexed``, ``unchanged``, ``acl_updated``, ``superseded`` or ``failed``."""
    chunks: int = 0
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class _Plan:
    """One document of a batch, from marking to activation."""

    raw: RawDocument
    doc_id: str
    version: str
    acl: Acl
    acl_version: int
    existed: bool
    """A row existed before this run: older points of it may be in the index."""
    outcome: IngestOutcome | None = None
    chunks: list[Chunk] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """What the embedder sees, per chunk."""
    keywords: list[SparseVector] = field(default_factory=list)
    """The BM25 vector, per chunk (made while preparing, off the embedding's path)."""


def version_hash(raw: RawDocument) -> str:
    """What the index content depends on (bytes, type, title, url, metadata) — not the ACL,
    whose change rewrites payloads without re-embedding."""
    digest = hashlib.sha256()
    digest.update(raw.content)
    header = json.dumps([raw.mime_type, raw.title, raw.url, sorted(raw.metadata.items())])
    digest.update(b"\x00" + header.encode())
    return digest.hexdigest()


def ingest_documents(services: Services, raws: Iterable[RawDocument], *, tenant: str,
                     source_id: str, checkpoint: Checkpoint = _no_checkpoint,
                     ) -> list[IngestOutcome]:
    """Ingest a batch; each document succeeds or fails on its own. SQL is written once
    per phase for the whole batch and the embedder sees all its chunks at once."""
    plans = _plan_batch(services, raws, tenant=tenant, source_id=source_id,
                        checkpoint=checkpoint)
    return _finish_batch(services, plans, tenant=tenant, source_id=source_id,
                         checkpoint=checkpoint)


def ingest_batches(services: Services, batches: Iterable[Sequence[RawDocument]], *,
                   tenant: str, source_id: str) -> Iterator[list[IngestOutcome]]:
    """``ingest_documents`` for each batch in turn, the outcomes of each yielded in order,
    with the next batch marked, parsed and chunked on a second thread while this one is
    embedded and written: the model (which releases the GIL) waits on nothing but itself.

    The two stages may touch the same document only as two calls of ``ingest_documents``
    may (a document sent twice): the later one wins, as the pipeline already guarantees.
    """
    def plan(raws: Sequence[RawDocument]) -> list[_Plan]:
        return _plan_batch(services, raws, tenant=tenant, source_id=source_id)

    iterator = iter(batches)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-prepare") as pool:
        first = next(iterator, None)
        pending = pool.submit(plan, first) if first is not None else None
        while pending is not None:
            plans = pending.result()
            following = next(iterator, None)
            pending = pool.submit(plan, following) if following is not None else None
            yield _finish_batch(services, plans, tenant=tenant, source_id=source_id)


def _plan_batch(services: Services, raws: Iterable[RawDocument], *, tenant: str,
                source_id: str, checkpoint: Checkpoint = _no_checkpoint) -> list[_Plan]:
    """Mark the batch, finish what needs no embedding, parse and chunk the rest."""
    plans = _mark(services, list(raws), tenant=tenant, source_id=source_id)
    for plan in plans:
        if plan.outcome is not None and plan.outcome.status in {"acl_updated", "repaired"}:
            _finish_unchanged(services, plan, tenant=tenant)
    checkpoint("marked")
    todo = [p for p in plans if p.outcome is None]
    _prepare(services, todo)
    _record_failures(services, [p for p in todo if p.outcome is not None])
    return plans


def _finish_batch(services: Services, plans: list[_Plan], *, tenant: str, source_id: str,
                  checkpoint: Checkpoint = _no_checkpoint) -> list[IngestOutcome]:
    """Embed, write and swap in what ``_plan_batch`` prepared; every document's outcome."""
    ready = [p for p in plans if p.outcome is None]
    if ready:
        _write_and_swap(services, ready, tenant=tenant, source_id=source_id,
                        checkpoint=checkpoint)
    return [p.outcome for p in plans if p.outcome is not None]


def _mark(services: Services, raws: list[RawDocument], *, tenant: str, source_id: str,
          ) -> list[_Plan]:
    """One transaction: skip unchanged documents, record ACL-only changes, mark the rest
    as indexing with their pending version and ``needs_retry`` until the swap is done."""
    plans: list[_Plan] = []
    with services.sessions() as session, session.begin():
        ensure_tenant(session, tenant)
        rows = rows_for_update(session, Document,
                               {document_id(source_id, r.external_id) for r in raws})
        for raw in raws:
            doc_id, version, acl = document_id(source_id, raw.external_id), \
                version_hash(raw), _effective_acl(raw)
            row = rows.get(doc_id)
            existed = row is not None
            if row is None:
                row = rows[doc_id] = Document(id=doc_id, tenant_id=tenant, source_id=source_id,
                                              external_id=raw.external_id, acl_version=1,
                                              acl_allow=[], acl_deny=[])
                session.add(row)
            plan = _Plan(raw, doc_id, version, acl, row.acl_version, existed)
            if row.content_hash == version and row.status == DocumentStatus.INDEXED:
                status = "unchanged"
                if _acl_of(row) != acl:
                    _record_acl(session, row, acl)
                    status = "acl_updated"
                elif row.needs_retry:
                    status = "repaired"
                plan.acl_version = row.acl_version
                plan.outcome = IngestOutcome(doc_id, raw.external_id, status, row.chunk_count)
            else:
                if existed and _acl_of(row) != acl:
                    plan.acl_version = row.acl_version + 1
                row.status = DocumentStatus.INDEXING
                row.pending_content_hash = version
                row.needs_retry = True
            plans.append(plan)
    return plans


def _finish_unchanged(services: Services, plan: _Plan, *, tenant: str) -> None:
    """Push an ACL change, or finish what an interrupted run left; both idempotent."""
    push_acl(services, tenant=tenant, doc_id=plan.doc_id, acl=plan.acl,
              acl_version=plan.acl_version)
    _drop_old_points(services, tenant=tenant, doc_ids=[plan.doc_id],
                     keep={plan.doc_id: plan.version})
    if plan.outcome is not None and plan.outcome.status == "repaired":
        plan.outcome = replace(plan.outcome, status="unchanged")


def _prepare(services: Services, plans: list[_Plan]) -> None:
    """Parse and chunk each document; a bad one gets its failure outcome and no chunks."""
    max_tokens = min(services.settings.chunk_max_tokens, services.embedder.max_tokens)
    token_spans = getattr(services.embedder, "token_spans", None)  # the fast path, if offered
    for plan in plans:
        try:
            elements = parse_document(plan.raw, max_bytes=services.settings.max_upload_bytes)
            plan.chunks = chunk_elements(
                elements, doc_id=plan.doc_id, title=plan.raw.title,
                count_tokens=services.embedder.count_tokens, max_tokens=max_tokens,
                overlap_tokens=services.settings.chunk_overlap_tokens, token_spans=token_spans,
            )
        except ClearanceError as exc:
            plan.outcome = _failed(plan, exc.code, exc.message)
            continue
        plan.texts = [embedding_text(c, title=plan.raw.title) for c in plan.chunks]
        plan.keywords = [encode_document(keyword_text(c, title=plan.raw.title))
                         for c in plan.chunks]


def _write_and_swap(services: Services, plans: list[_Plan], *, tenant: str, source_id: str,
                    checkpoint: Checkpoint) -> None:
    vectors = services.embedder.embed_documents([t for p in plans for t in p.texts])
    points: list[ChunkPoint] = []
    offset = 0
    for plan in plans:
        for chunk, keywords in zip(plan.chunks, plan.keywords, strict=True):
            points.append(_point(plan, chunk, vectors[offset], keywords, tenant=tenant,
                                 source_id=source_id))
            offset += 1
    try:
        services.store.upsert(points)
    except Exception as exc:  # the store is down: old versions stay, retry later
        log.warning("points not written", extra={"documents": len(plans),
                                                 "error": type(exc).__name__})
        for plan in plans:
            plan.outcome = _failed(plan, "store_unavailable", "the vector store failed")
        _record_failures(services, plans, retry=True)
        return
    checkpoint("points_written")
    _activate(services, plans, tenant=tenant)
    checkpoint("activated")
    swapped = [p for p in plans if p.outcome is not None and p.outcome.status == "indexed"]
    _drop_old_points(services, tenant=tenant,
                     doc_ids=[p.doc_id for p in swapped if p.existed],
                     keep={p.doc_id: p.version for p in swapped})


def _activate(services: Services, plans: list[_Plan], *, tenant: str) -> None:
    """One commit makes every new version the active one (DESIGN.md's atomic swap)."""
    with services.sessions() as session, session.begin():
        rows = rows_for_update(session, Document, {p.doc_id for p in plans})
        bump = False
        for plan in plans:
            row = rows.get(plan.doc_id)
            if row is None or row.pending_content_hash != plan.version:
                # deleted or re-sent while we worked: the later call wins
                plan.outcome = IngestOutcome(plan.doc_id, plan.raw.external_id, "superseded")
                continue
            bump = bump or _acl_of(row) != plan.acl
            raw = plan.raw
            row.content_hash, row.pending_content_hash = plan.version, None
            row.status = DocumentStatus.INDEXED
            row.error_code = row.error_message = None
            row.title, row.url, row.mime_type = raw.title, raw.url, raw.mime_type
            row.acl_allow, row.acl_deny = sorted(plan.acl.allow), sorted(plan.acl.deny)
            row.acl_version = plan.acl_version
            row.chunk_count = len(plan.chunks)
            row.doc_metadata = dict(raw.metadata)
            row.source_updated_at = raw.updated_at
            row.needs_retry = plan.existed  # until its older points are gone
            plan.outcome = IngestOutcome(plan.doc_id, raw.external_id, "indexed",
                                         len(plan.chunks))
        if bump:
            bump_acl_epoch(session, tenant)


def _drop_old_points(services: Services, *, tenant: str, doc_ids: Sequence[str],
                     keep: dict[str, str]) -> None:
    """Delete every point of these documents but the active version's, then clear their
    ``needs_retry``. Until then the SQL re-check already hides the old points."""
    done: list[str] = []
    for doc_id in doc_ids:
        try:
            services.store.delete_document(tenant=tenant, doc_id=doc_id,
                                           keep_content_hash=keep[doc_id])
        except Exception as exc:  # a retry cleans up
            log.warning("old points not deleted", extra={"doc_id": doc_id,
                                                         "error": type(exc).__name__})
            continue
        done.append(doc_id)
    if not done:
        return
    with services.sessions() as session, session.begin():
        for row in rows_for_update(session, Document, done).values():
            if row.content_hash == keep[row.id] and row.pending_content_hash is None:
                row.needs_retry = False


def _point(plan: _Plan, chunk: Chunk, vector: list[float], keywords: SparseVector, *,
           tenant: str, source_id: str) -> ChunkPoint:
    raw = plan.raw
    return ChunkPoint(
        id=chunk_id(chunk.doc_id, plan.version, chunk.ordinal), dense=vector,
        sparse=keywords,
        tenant=tenant, source_id=source_id,
        doc_id=chunk.doc_id, external_id=raw.external_id, content_hash=plan.version,
        ordinal=chunk.ordinal, text=chunk.text, title=raw.title, url=raw.url,
        heading_path=chunk.heading_path, acl_allow=plan.acl.allow, acl_deny=plan.acl.deny,
        acl_version=plan.acl_version,
        updated_at=raw.updated_at.isoformat() if raw.updated_at else None,
        metadata=dict(raw.metadata),
    )


def _failed(plan: _Plan, code: str, message: str) -> IngestOutcome:
    return IngestOutcome(plan.doc_id, plan.raw.external_id, "failed", 0, code, message)


def _record_failures(services: Services, plans: Sequence[_Plan], *, retry: bool = False,
                     ) -> None:
    """One transaction. A failed document keeps its last good version (if any); the error
    is on its row. ``retry``: the failure was the system's, not the document's."""
    if not plans:
        return
    with services.sessions() as session, session.begin():
        rows = rows_for_update(session, Document, {p.doc_id for p in plans})
        for plan in plans:
            row, outcome = rows.get(plan.doc_id), plan.outcome
            if row is None or outcome is None or row.pending_content_hash != plan.version:
                continue
            row.status = DocumentStatus.FAILED
            row.pending_content_hash = None
            row.error_code, row.error_message = outcome.error_code, outcome.error_message
            row.needs_retry = retry
            row.title = row.title or plan.raw.title


def _effective_acl(raw: RawDocument) -> Acl:
    """No ACL from the source means nobody may read it (fail closed)."""
    return raw.acl if raw.acl is not None else Acl()


def _acl_of(row: Document) -> Acl:
    return Acl(allow=frozenset(row.acl_allow or ()), deny=frozenset(row.acl_deny or ()))


def _record_acl(session: Session, row: Document, acl: Acl) -> None:
    row.acl_allow, row.acl_deny = sorted(acl.allow), sorted(acl.deny)
    row.acl_version += 1
    row.needs_retry = True
    bump_acl_epoch(session, row.tenant_id)


def push_acl(services: Services, *, tenant: str, doc_id: str, acl: Acl,
              acl_version: int) -> None:
    """Rewrite the payloads after the SQL commit; the SQL re-check already enforces it."""
    try:
        services.store.set_acl(tenant=tenant, doc_id=doc_id, allow=acl.allow, deny=acl.deny,
                               acl_version=acl_version)
    except Exception as exc:
        log.warning("acl payload not rewritten", extra={"doc_id": doc_id,
                                                        "error": type(exc).__name__})
        return
    with services.sessions() as session, session.begin():
        current = rows_for_update(session, Document, [doc_id]).get(doc_id)
        if current is not None and current.acl_version == acl_version:
            current.needs_retry = current.pending_content_hash is not None
        elif current is not None:  # a newer ACL committed meanwhile and its push may have
            current.needs_retry = True  # landed before ours: workers.repair re-pushes it


def set_document_acl(services: Services, *, tenant: str, doc_id: str, acl: Acl) -> Document:
    """Commit the new ACL to SQL first (new acl_version, epoch bumped), then the payloads."""
    with services.sessions() as session, session.begin():
        row = rows_for_update(session, Document, [doc_id]).get(doc_id)
        if row is None or row.tenant_id != tenant or row.status == DocumentStatus.DELETED:
            raise NotFound("document not found")
        if _acl_of(row) != acl:
            _record_acl(session, row, acl)
    push_acl(services, tenant=tenant, doc_id=doc_id, acl=_acl_of(row),
              acl_version=row.acl_version)
    return row


def delete_document(services: Services, *, tenant: str, doc_id: str) -> None:
    """Invisible from the SQL commit on (no active version); then the points go."""
    with services.sessions() as session, session.begin():
        row = rows_for_update(session, Document, [doc_id]).get(doc_id)
        if row is None or row.tenant_id != tenant or row.status == DocumentStatus.DELETED:
            raise NotFound("document not found")
        row.status = DocumentStatus.DELETED
        row.content_hash = row.pending_content_hash = None
        row.chunk_count = 0
        row.needs_retry = True
        bump_acl_epoch(session, tenant)
    try:
        services.store.delete_document(tenant=tenant, doc_id=doc_id)
    except Exception as exc:  # invisible already (no active version); a retry cleans up
        log.warning("points not deleted", extra={"doc_id": doc_id, "error": type(exc).__name__})
        return
    with services.sessions() as session, session.begin():
        current = rows_for_update(session, Document, [doc_id]).get(doc_id)
        if current is not None and current.status == DocumentStatus.DELETED:
            current.needs_retry = False
