"""A failed store write after a permission change is safe at once (the SQL re-check) and
repaired later (``retry_pending``), never re-embedding anything."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.ingest_queue import IngestQueue
from core import Acl, Entitlements
from core.models import Document
from index.store import StoreQuery
from retrieval import Retriever
from tests.contracts.store_kit import fast_dir
from tests.helpers import hashing_services, text_doc
from tests.leaks.flaky import FlakyStore
from workers.pipeline import delete_document, ingest_documents, set_document_acl
from workers.repair import retry_pending
from workers.services import Services
from workers.sources import get_or_create_source

T = "default"
ALICE = Entitlements(tenant=T, principals=frozenset({"user:alice@x.com", "everyone"}))
BOB = Entitlements(tenant=T, principals=frozenset({"user:bob@x.com", "everyone"}))
TEXT = "Expense policy KZ4410: receipts are due within thirty days."


@pytest.fixture(params=["edge", "server"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    overrides = {"qdrant_url": ":memory:"} if request.param == "server" else {}
    with fast_dir(tmp_path) as where:
        opened = hashing_services(where, **overrides)
        opened.store = FlakyStore(opened.store)
        yield opened
        opened.close()


@pytest.fixture
def flaky(services: Services) -> FlakyStore:
    assert isinstance(services.store, FlakyStore)
    return services.store


def _doc(services: Services, *, allow: str = "user:alice@x.com") -> str:
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant=T, name="s", kind="push").id
    [outcome] = ingest_documents(services, [text_doc("expenses", TEXT, allow=(allow,))],
                                 tenant=T, source_id=source_id)
    assert outcome.status == "indexed"
    return outcome.doc_id


def _sees(services: Services, who: Entitlements) -> bool:
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions)
    return bool(retriever.search("KZ4410 receipts", entitlements=who, top_k=10).hits)


def _engine_admits(services: Services, who: Entitlements) -> bool:
    """What the payloads alone say, before the SQL re-check."""
    query = StoreQuery(dense=services.embedder.embed_query("KZ4410"))
    return bool(services.store.search(query, entitlements=who, top_k=10))


def _needs_retry(services: Services, doc_id: str) -> bool:
    with services.sessions() as session:
        row = session.get(Document, doc_id)
        assert row is not None
        return row.needs_retry


def test_a_revocation_whose_payload_write_failed_is_in_force_at_once_and_repaired_later(
        services: Services, flaky: FlakyStore) -> None:
    doc_id = _doc(services)
    flaky.down = True
    set_document_acl(services, tenant=T, doc_id=doc_id, acl=Acl.of(["user:bob@x.com"]))
    assert flaky.failed_writes == 1
    assert _engine_admits(services, ALICE), "the payload still names alice"
    assert not _sees(services, ALICE), "but the SQL re-check keeps her out"
    assert _needs_retry(services, doc_id)

    report = retry_pending(services)  # still down: nothing lost, flag kept
    assert (report.repaired, report.failed) == (0, 1) and _needs_retry(services, doc_id)

    flaky.down = False
    assert retry_pending(services).repaired == 1
    assert not _needs_retry(services, doc_id)
    assert not _engine_admits(services, ALICE) and _sees(services, BOB)
    assert retry_pending(services).repaired == 0, "nothing left to do"


def test_a_delete_whose_point_removal_failed_is_in_force_at_once_and_repaired_later(
        services: Services, flaky: FlakyStore) -> None:
    doc_id = _doc(services, allow="everyone")
    flaky.down = True
    delete_document(services, tenant=T, doc_id=doc_id)
    assert services.store.count(tenant=T, doc_id=doc_id) == 1
    assert not _sees(services, ALICE)
    flaky.down = False
    assert retry_pending(services).repaired == 1
    assert services.store.count(tenant=T, doc_id=doc_id) == 0
    assert not _needs_retry(services, doc_id)


def test_a_change_committed_while_the_repair_pushes_is_pushed_too(
        services: Services, flaky: FlakyStore) -> None:
    doc_id = _doc(services)
    flaky.down = True
    set_document_acl(services, tenant=T, doc_id=doc_id, acl=Acl.of(["user:bob@x.com"]))
    flaky.down = False

    def concurrent_change() -> None:  # lands between the repair's read and its write
        flaky.down = True  # its own push fails, so only the repair can fix the payload
        set_document_acl(services, tenant=T, doc_id=doc_id, acl=Acl.of(["user:alice@x.com"]))
        flaky.down = False

    flaky.before_set_acl = concurrent_change
    retry_pending(services)
    assert not _needs_retry(services, doc_id)
    assert _engine_admits(services, ALICE) and not _engine_admits(services, BOB)
    assert _sees(services, ALICE) and not _sees(services, BOB)


def test_the_ingest_thread_repairs_on_its_own(services: Services, flaky: FlakyStore) -> None:
    doc_id = _doc(services)
    flaky.down = True
    set_document_acl(services, tenant=T, doc_id=doc_id, acl=Acl.of(["user:bob@x.com"]))
    flaky.down = False
    queue = IngestQueue(services, repair_interval_s=0.05)
    try:
        deadline = time.monotonic() + 10
        while _needs_retry(services, doc_id) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        queue.close()
    assert not _needs_retry(services, doc_id)
    assert _engine_admits(services, BOB) and not _engine_admits(services, ALICE)
