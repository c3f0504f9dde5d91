"""Two writers on one document: whatever commits last must not undo what committed first.

Each test pauses a swap after it has read its rows and before it writes them, runs a rival
writer on a thread right there, and lets the swap go on after at most a second. Without
row locks (PostgreSQL) or the write lock (SQLite) the rival finishes in that second and the
swap then overwrites it; with them the rival waits and runs after the swap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import Entitlements, document_id
from core.models import Document, DocumentStatus
from retrieval import Retriever
from tests.helpers import hashing_services, text_doc
from workers.pipeline import delete_document, ingest_documents, version_hash
from workers.services import Services

EVERYBODY = Entitlements(tenant="default", principals=frozenset({"everyone"}))
V1 = "Travel policy version one. Employees fly economy on every flight."
V2 = "Travel policy version two. Employees fly business on long flights."


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Services]:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("fresh_postgres_url")
    opened = hashing_services(data_dir, **overrides)
    yield opened
    opened.close()


@contextmanager
def rival_during_swap(version: str, rival: Callable[[], object]) -> Iterator[None]:
    """Start ``rival`` on a thread when the swap that activates ``version`` is about to
    write; give it a second there, then let the swap commit; wait for the rival."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            rival()
        except BaseException as exc:  # re-raised on the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run)

    def before_flush(session: Session, _context: object, _instances: object) -> None:
        if thread.ident is None and any(
                isinstance(row, Document) and row.content_hash == version
                and row.pending_content_hash is None for row in session.dirty):
            thread.start()
            thread.join(timeout=1.0)

    event.listen(Session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert thread.ident is not None, "the swap never wrote"
    thread.join(timeout=60)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def final_row(services: Services, doc_id: str) -> Document:
    with services.sessions() as session:
        row = session.get(Document, doc_id)
        assert row is not None
        return row


def visible_versions(services: Services, doc_id: str) -> set[str]:
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions)
    hits = retriever.search("travel policy", entitlements=EVERYBODY, top_k=50,
                            group_by_document=False).hits
    return {h.content_hash for h in hits if h.doc_id == doc_id}


def test_an_older_swap_cannot_overwrite_a_newer_version(services: Services,
                                                        source_id: str) -> None:
    older, newer = text_doc("travel", V1), text_doc("travel", V2)
    doc_id = document_id(source_id, "travel")

    def send_newer() -> None:
        [outcome] = ingest_documents(services, [newer], tenant="default", source_id=source_id)
        assert outcome.status == "indexed"

    with rival_during_swap(version_hash(older), send_newer):
        ingest_documents(services, [older], tenant="default", source_id=source_id)
    row = final_row(services, doc_id)
    assert (row.content_hash, row.pending_content_hash) == (version_hash(newer), None)
    assert visible_versions(services, doc_id) == {version_hash(newer)}


def test_a_document_deleted_during_its_swap_stays_deleted(services: Services,
                                                          source_id: str) -> None:
    raw = text_doc("travel", V1)
    doc_id = document_id(source_id, "travel")

    def delete() -> None:
        delete_document(services, tenant="default", doc_id=doc_id)

    with rival_during_swap(version_hash(raw), delete):
        ingest_documents(services, [raw], tenant="default", source_id=source_id)
    row = final_row(services, doc_id)
    assert row.status == DocumentStatus.DELETED and row.content_hash is None
    assert visible_versions(services, doc_id) == set()
