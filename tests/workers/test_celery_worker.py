"""The worker path for real: Redis as the broker, PostgreSQL as the database, a Celery
worker thread in this process, and the same vector store object on both sides."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import select

from core import Acl, Entitlements, Settings, document_id
from core.models import Document, DocumentStatus, Source, SyncRun
from index.embed import HashingEmbedder
from index.store import StoreQuery, VectorStore
from retrieval import Retriever
from tests.helpers import REDIS_URL, settings_for, text_doc, wait_for
from tests.leaks.flaky import FlakyStore as WritesFailWhileDown
from workers import TASK_NAMES, create_worker
from workers.pipeline import ingest_documents, set_document_acl
from workers.services import Services
from workers.sources import get_or_create_source
from workers.messages import raw_to_message

pytestmark = pytest.mark.postgres

EVERYBODY = Entitlements(tenant="default", principals=frozenset({"everyone"}))


class FlakyStore:
    """The real store, whose first ``fail_upserts`` writes fail as if it were down."""

    def __init__(self, inner: VectorStore, *, fail_upserts: int) -> None:
        self._inner = inner
        self.fail_upserts = fail_upserts
        self.upsert_calls = 0

    def upsert(self, points: Any) -> None:
        self.upsert_calls += 1
        if self.upsert_calls <= self.fail_upserts:
            raise ConnectionError("qdrant is down")
        self._inner.upsert(points)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def finished_runs(services: Services, source_id: str, kind: str = "content") -> list[SyncRun]:
    with services.sessions() as session:
        return list(session.scalars(select(SyncRun).where(
            SyncRun.source_id == source_id, SyncRun.kind == kind,
            SyncRun.finished_at.is_not(None)).order_by(SyncRun.started_at)))


def visible_external_ids(services: Services, query: str) -> set[str]:
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions)
    return {h.external_id for h in retriever.search(query, entitlements=EVERYBODY,
                                                    top_k=50).hits}


def filesystem_source(services: Services, root: Path) -> str:
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="files",
                                    kind="filesystem", config={"root": str(root)}).id


def write_tree(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".acl.json").write_text('{"allow": ["everyone"]}')
    for name, text in files.items():
        (root / name).write_text(text)


def test_worker_syncs_a_folder_and_a_deleted_file_is_gone_after_the_next_cycle(
        make_worker: Callable[..., tuple[Celery, Services]], tmp_path: Path) -> None:
    app, services = make_worker()
    root = tmp_path / "docs"
    write_tree(root, {"travel.txt": "Travel policy: book economy class flights.",
                      "expenses.txt": "Expense policy: submit receipts within 30 days.",
                      "holidays.txt": "Holiday policy: 25 days of paid leave."})
    source_id = filesystem_source(services, root)

    app.send_task(TASK_NAMES["sync_source"], args=[source_id])
    first = wait_for(lambda: finished_runs(services, source_id))[-1]
    assert (first.status, first.seen, first.new, first.deleted) == ("succeeded", 3, 3, 0)
    assert {"travel.txt", "expenses.txt"} <= visible_external_ids(services, "policy")

    (root / "expenses.txt").unlink()
    (root / "travel.txt").write_text("Travel policy: book rail where it takes under 4 hours.")
    app.send_task(TASK_NAMES["sync_source"], args=[source_id])
    second = wait_for(lambda: finished_runs(services, source_id)[1:])[-1]
    assert (second.status, second.seen, second.changed, second.unchanged, second.deleted) == (
        "succeeded", 2, 1, 1, 1)
    assert "expenses.txt" not in visible_external_ids(services, "expense receipts policy")
    with services.sessions() as session:
        gone = session.get(Document, document_id(source_id, "expenses.txt"))
        assert gone is not None and gone.status == DocumentStatus.DELETED


def test_a_batch_whose_store_write_fails_is_retried_with_backoff_until_it_lands(
        make_worker: Callable[..., tuple[Celery, Services]]) -> None:
    app, services = make_worker(wrap=lambda store: FlakyStore(store, fail_upserts=1))
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant="default", name="pushed",
                                         kind="push").id
    doc = text_doc("onboarding", "Onboarding checklist: laptop, badge, accounts.")
    app.send_task(TASK_NAMES["ingest_documents"],
                  args=["default", source_id, [raw_to_message(doc)]])

    def indexed() -> bool:
        with services.sessions() as session:
            row = session.get(Document, document_id(source_id, "onboarding"))
            return row is not None and row.status == DocumentStatus.INDEXED

    wait_for(indexed, timeout_s=30)
    assert services.store.upsert_calls == 2  # type: ignore[attr-defined]
    assert "onboarding" in visible_external_ids(services, "onboarding checklist")


def test_delete_task_is_idempotent_and_hides_the_document(
        make_worker: Callable[..., tuple[Celery, Services]]) -> None:
    app, services = make_worker()
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant="default", name="pushed",
                                         kind="push").id
    doc = text_doc("memo", "Memo about the quarterly offsite in Lisbon.")
    app.send_task(TASK_NAMES["ingest_documents"],
                  args=["default", source_id, [raw_to_message(doc)]])
    doc_id = document_id(source_id, "memo")
    wait_for(lambda: "memo" in visible_external_ids(services, "offsite Lisbon"))
    for _ in range(2):  # the second delete finds nothing to do and succeeds
        app.send_task(TASK_NAMES["delete_document"], args=["default", doc_id])

    def deleted() -> bool:
        with services.sessions() as session:
            row = session.get(Document, doc_id)
            return row is not None and row.status == DocumentStatus.DELETED \
                and not row.needs_retry

    wait_for(deleted)
    assert "memo" not in visible_external_ids(services, "offsite Lisbon")


def test_a_second_sync_of_the_same_source_never_overlaps_the_first(
        make_worker: Callable[..., tuple[Celery, Services]], tmp_path: Path) -> None:
    app, services = make_worker()
    root = tmp_path / "docs"
    write_tree(root, {"a.txt": "Alpha document."})
    source_id = filesystem_source(services, root)
    runtime = app.clearance_runtime
    with runtime.source_lock("content", source_id) as held:
        assert held is not None
        result = app.tasks[TASK_NAMES["sync_source"]].apply(args=[source_id]).get()
        assert result == {"source_id": source_id, "status": "locked"}
        with runtime.source_lock("content", source_id) as second:
            assert second is None
    assert finished_runs(services, source_id) == []
    result = app.tasks[TASK_NAMES["sync_source"]].apply(args=[source_id]).get()
    assert result["status"] == "succeeded" and result["new"] == 1


def test_beat_tick_enqueues_due_syncs_once_per_interval(
        make_worker: Callable[..., tuple[Celery, Services]], tmp_path: Path) -> None:
    app, services = make_worker()
    root = tmp_path / "docs"
    write_tree(root, {"a.txt": "Alpha document."})
    source_id = filesystem_source(services, root)
    with services.sessions() as session, session.begin():
        get_or_create_source(session, tenant="default", name="pushed", kind="push")

    app.send_task(TASK_NAMES["dispatch_due"])
    wait_for(lambda: finished_runs(services, source_id)
             and finished_runs(services, source_id, "permissions"))
    app.tasks[TASK_NAMES["dispatch_due"]].apply().get()  # within the interval: nothing due
    time.sleep(0.3)
    assert len(finished_runs(services, source_id)) == 1
    with services.sessions() as session:
        kinds = {s.kind for s in session.scalars(select(Source))}
        runs = list(session.scalars(select(SyncRun)))
    assert kinds == {"filesystem", "push"}
    assert {r.source_id for r in runs} == {source_id}  # a push source is never polled


def test_beat_tick_finishes_a_store_write_that_failed(
        make_worker: Callable[..., tuple[Celery, Services]]) -> None:
    """In Celery mode the API process does not repair; beat's tick does, on a worker."""
    app, services = make_worker(wrap=WritesFailWhileDown)
    flaky = services.store
    assert isinstance(flaky, WritesFailWhileDown)
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant="default", name="p", kind="push").id
    [outcome] = ingest_documents(services, [text_doc("memo", "Budget memo KZ4410.",
                                                     allow=("user:alice@x.com",))],
                                 tenant="default", source_id=source_id)
    flaky.down = True
    set_document_acl(services, tenant="default", doc_id=outcome.doc_id,
                     acl=Acl.of(["user:bob@x.com"]))
    flaky.down = False

    def engine_admits(user: str) -> bool:  # the payload alone, before the SQL re-check
        who = Entitlements(tenant="default", principals=frozenset({user}))
        query = StoreQuery(dense=services.embedder.embed_query("KZ4410"))
        return bool(services.store.search(query, entitlements=who, top_k=5))

    assert engine_admits("user:alice@x.com")
    app.tasks[TASK_NAMES["dispatch_due"]].apply().get()
    with services.sessions() as session:
        row = session.get(Document, outcome.doc_id)
        assert row is not None and not row.needs_retry
    assert engine_admits("user:bob@x.com") and not engine_admits("user:alice@x.com")


def test_permission_work_has_its_own_queue_apart_from_crawls(
        worker_settings: Settings) -> None:
    app = create_worker(worker_settings)
    route = app.amqp.router.route
    assert route({}, TASK_NAMES["sync_source"])["queue"].name == "fetch"
    assert route({}, TASK_NAMES["reconcile_source"])["queue"].name == "fetch"
    assert route({}, TASK_NAMES["ingest_documents"])["queue"].name == "embed"
    for name in ("sync_permissions", "delete_document", "dispatch_due"):
        assert route({}, TASK_NAMES[name])["queue"].name == "permissions"
    schedule = app.conf.beat_schedule["dispatch-due-syncs"]
    assert schedule["task"] == TASK_NAMES["dispatch_due"]
    task = app.tasks[TASK_NAMES["sync_source"]]
    assert task.retry_backoff and task.retry_jitter and task.acks_late
    assert ConnectionError in task.autoretry_for


def test_a_prefork_child_builds_its_services_and_loads_the_model_once(
        data_dir: Path) -> None:
    from celery.signals import worker_process_init

    class CountingEmbedder(HashingEmbedder):
        warm_ups = 0

        def warm_up(self) -> None:
            CountingEmbedder.warm_ups += 1

    settings = settings_for(data_dir, qdrant_url=":memory:", broker_url=REDIS_URL)
    app = create_worker(settings, embedder=CountingEmbedder())
    runtime = app.clearance_runtime
    assert runtime._services is None  # nothing is built by create_worker
    try:
        worker_process_init.send(sender=None)
        worker_process_init.send(sender=None)
        assert runtime._services is not None and CountingEmbedder.warm_ups == 1
    finally:
        runtime.close()


@pytest.fixture
def fake_confluence_kind() -> Iterator[Any]:
    """The worker builds its connectors by kind: point 'confluence' at a fake site."""
    from ingest import register_connector
    from ingest.connectors import ConfluenceConnector
    from tests.connectors.fake_confluence import FakeConfluence, Page

    site = FakeConfluence()
    site.add_user("acc-ann", "ann@acme.com")
    site.add_group("g-staff", "staff", ["acc-ann"])
    site.add_space("HR", "65537", readers=[("group", "g-staff")])
    site.add_page(Page("1", "65537", "Travel policy", "<p>Book economy class flights.</p>"))
    register_connector("confluence", lambda config, *, max_bytes: (
        ConfluenceConnector.from_config(config, max_bytes=max_bytes,
                                        transport=site.transport)))
    yield site
    register_connector("confluence", ConfluenceConnector.from_config)


def test_a_rate_limited_sync_is_retried_after_what_retry_after_says(
        make_worker: Callable[..., tuple[Celery, Services]], fake_confluence_kind: Any,
        ) -> None:
    from tests.connectors.fake_confluence import BASE

    site = fake_confluence_kind
    app, services = make_worker()
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant="default", name="wiki",
                                         kind="confluence", config={
                                             "base_url": BASE, "spaces": ["HR"],
                                             "email": "bot@acme.com", "api_token": "t",
                                             "max_retry_wait_s": 0.5}).id
    site.throttle["/wiki/api/v2/spaces/65537/pages"] = 1  # Retry-After: 2 > 0.5 allowed
    started = time.monotonic()
    app.send_task(TASK_NAMES["sync_source"], args=[source_id])
    runs = wait_for(lambda: [r for r in finished_runs(services, source_id)
                             if r.status == "succeeded"], timeout_s=30)
    assert time.monotonic() - started >= 2.0  # the task waited what the source asked
    assert runs[0].new == 1
    statuses = [r.status for r in finished_runs(services, source_id)]
    assert statuses == ["failed", "succeeded"]
