"""The Celery app: ``create_worker(settings)`` builds it and its tasks; nothing at import.

Queues, so a big crawl never delays a permission change::

    fetch        sync_source (list the source, parse and embed its batches),
                 reconcile_source (ids-only full listing; deletes what syncs missed)
    embed        ingest_documents (pushed documents: ``workers.push``)
    permissions  sync_permissions, delete_document, dispatch_due (beat's tick)

Run ``celery -A workers.celery_main worker -Q permissions`` on its own worker(s) and
``-Q fetch,embed`` on others (docker-compose.yml does).

- Transient errors (store or source unavailable, connection errors) are retried with
  exponential backoff and jitter; every task is idempotent (content hashes, NotFound on a
  second delete is success), and acknowledged only when done (``acks_late``).
- Two syncs of one source never overlap: each holds a Redis lock for the source, renewed
  at every batch; a second one returns ``locked`` at once.
- Beat runs ``dispatch_due`` every ``schedule_tick_s``; it enqueues each source's content
  and permission syncs and its reconciliation when their intervals (per source, defaults
  15 minutes, 5 minutes and 6 hours) have passed since their last start, and closes every
  source whose permissions are stale past their grace period (``workers.grace``).
- A reconciliation holds the source's content lock: it never overlaps a content sync.
- The services (SQL, vector store, embedder) are built once per worker process: in the
  child after fork (``worker_process_init``) under prefork, else on the first task.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import redis
from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown
from kombu.entity import Queue  # kombu re-exports it lazily, untyped
from sqlalchemy.exc import OperationalError

from core import Settings
from core.db import engine_for, session_factory, upgrade_to_head
from core.errors import NotFound, StoreUnavailable
from index.embed import Embedder, create_embedder
from index.store import VectorStore, create_store
from ingest import SourceUnavailable

from . import grace, sync
from .grace import close_stale_sources
from .messages import outcome_message, send_reply
from .pipeline import delete_document, ingest_documents
from .reconcile import reconcile_source
from .repair import repair_pending
from .services import Services
from .staging import discard, prune_staged, unstaged
from .sync import Heartbeat, SyncReport, due_sources, sync_permissions, sync_source

log = logging.getLogger(__name__)

FETCH, EMBED, PERMISSIONS = "fetch", "embed", "permissions"
TRANSIENT: tuple[type[BaseException], ...] = (
    StoreUnavailable, SourceUnavailable, ConnectionError, TimeoutError,
    httpx.TransportError, OperationalError, redis.ConnectionError, redis.TimeoutError,
)
TASK_NAMES = {
    "sync_source": "clearance.sync_source",
    "sync_permissions": "clearance.sync_permissions",
    "reconcile_source": "clearance.reconcile_source",
    "ingest_documents": "clearance.ingest_documents",
    "delete_document": "clearance.delete_document",
    "dispatch_due": "clearance.dispatch_due",
}


class WorkerRuntime:
    """What one worker process holds: services built once, and the Redis for locks."""

    def __init__(self, settings: Settings, *, store: VectorStore | None,
                 embedder: Embedder | None) -> None:
        self.settings = settings
        self._store, self._embedder = store, embedder
        self._services: Services | None = None
        self._redis: redis.Redis | None = None
        self._guard = threading.Lock()

    @property
    def services(self) -> Services:
        with self._guard:
            if self._services is None:
                self._services = self._build()
            return self._services

    @property
    def redis(self) -> redis.Redis:
        with self._guard:
            if self._redis is None:
                self._redis = redis.Redis.from_url(self.settings.broker_url)
            return self._redis

    def _build(self) -> Services:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = engine_for(settings)
        upgrade_to_head(engine)
        embedder = self._embedder or create_embedder(settings)
        embedder.warm_up()  # the model loads once per process, here
        store = self._store or create_store(settings, dimensions=embedder.dimensions)
        store.warm_up()
        return Services(settings=settings, engine=engine, sessions=session_factory(engine),
                        store=store, embedder=embedder)

    def close(self) -> None:
        with self._guard:
            if self._services is not None:
                if self._store is None:  # a store handed in belongs to the caller
                    self._services.store.close()
                self._services.engine.dispose()
                self._services = None
            if self._redis is not None:
                self._redis.close()
                self._redis = None

    def on_process_init(self, **_: Any) -> None:
        self.services  # noqa: B018 - builds and warms the services (loads the model)

    def on_process_shutdown(self, **_: Any) -> None:
        self.close()

    def key(self, name: str) -> str:
        return f"{self.settings.broker_key_prefix}clearance:{name}"

    @contextmanager
    def source_lock(self, kind: str, source_id: str) -> Iterator[Any]:
        """The source's lock for ``kind`` syncs, or None at once if another holds it."""
        lock = self.redis.lock(self.key(f"lock:{kind}:{source_id}"),
                               timeout=self.settings.sync_lock_ttl_s, blocking=False)
        if not lock.acquire(blocking=False):
            yield None
            return
        try:
            yield lock
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:  # expired meanwhile: nothing to release
                pass

    def run_locked(self, task: Any, kind: str, source_id: str,
                   job: Callable[[Heartbeat], SyncReport]) -> dict[str, Any]:
        """``job(heartbeat)`` under the source's ``kind`` lock, or ``locked`` at once when
        another run holds it; ``heartbeat`` renews the lock (a long crawl calls it every
        batch). A source that said how long to wait is retried after that long."""
        with self.source_lock(kind, source_id) as lock:
            if lock is None:
                return {"source_id": source_id, "status": "locked"}

            def heartbeat() -> None:
                lock.reacquire()

            try:
                report = job(heartbeat)
            except SourceUnavailable as exc:
                raise retry_when_told(task, exc) from exc
            return {"source_id": source_id, "status": report.status, "run_id": report.run_id,
                    **report.counts.as_dict()}


def _configure(app: Celery, settings: Settings) -> None:
    """Queues and routes (module docstring), late acknowledgement, JSON only, beat's tick."""
    transport: dict[str, Any] = {"visibility_timeout": 3600}
    if settings.broker_key_prefix:
        transport["global_keyprefix"] = settings.broker_key_prefix
    app.conf.update(
        task_queues=[Queue(FETCH), Queue(EMBED), Queue(PERMISSIONS)],
        task_default_queue=FETCH,
        task_routes={
            TASK_NAMES["sync_source"]: {"queue": FETCH},
            TASK_NAMES["reconcile_source"]: {"queue": FETCH},
            TASK_NAMES["ingest_documents"]: {"queue": EMBED},
            TASK_NAMES["sync_permissions"]: {"queue": PERMISSIONS},
            TASK_NAMES["delete_document"]: {"queue": PERMISSIONS},
            TASK_NAMES["dispatch_due"]: {"queue": PERMISSIONS},
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json", accept_content=["json"],
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        beat_schedule={"dispatch-due-syncs": {
            "task": TASK_NAMES["dispatch_due"], "schedule": settings.schedule_tick_s,
            "options": {"queue": PERMISSIONS, "expires": settings.schedule_tick_s}}},
        timezone="UTC",
    )


def retry_when_told(task: Any, exc: SourceUnavailable) -> Any:
    """The source said how long to wait (Retry-After): wait that, plus jitter."""
    wait = float(exc.retry_after_s or 0)
    if wait <= 0:
        raise exc  # autoretry's exponential back-off
    return task.retry(exc=exc, countdown=wait + random.uniform(0, 1 + wait / 10))


def dispatch_due(runtime: WorkerRuntime, sync_tasks: Mapping[str, Any]) -> list[list[str]]:
    """Beat's tick. Close the sources whose permissions went stale past their grace, finish
    store writes that failed (``workers.repair``), drop pushed content staged for longer
    than a day (``workers.staging``), then enqueue every due sync once (``sync_tasks``: the
    task of each kind): a marker key (SET NX, expiring with the tick) keeps two beats, or a
    slow tick, from queueing the same sync twice."""
    settings = runtime.settings
    sent: list[list[str]] = []
    for source_id in close_stale_sources(runtime.services):
        sent.append([source_id, "fail_closed"])
    repair_pending(runtime.services)
    with runtime.services.sessions.begin() as session:
        prune_staged(session)
    with runtime.services.sessions() as session:
        due = list(due_sources(session,
                               default_content_s=settings.sync_interval_s,
                               default_permissions_s=settings.permissions_interval_s,
                               default_reconcile_s=settings.reconcile_interval_s))
    for source_id, kind in due:
        marker = runtime.key(f"queued:{kind}:{source_id}")
        if not runtime.redis.set(marker, "1", nx=True,
                                 ex=max(1, int(settings.schedule_tick_s))):
            continue
        sync_tasks[kind].apply_async(args=[source_id])
        sent.append([source_id, kind])
    return sent


def create_worker(settings: Settings, *, store: VectorStore | None = None,
                  embedder: Embedder | None = None) -> Celery:
    """The Celery app with its queues, tasks and beat schedule. ``store``/``embedder`` let
    a test hand the worker the objects it also reads from."""
    app = Celery("clearance", broker=settings.broker_url, set_as_current=False)
    runtime = WorkerRuntime(settings, store=store, embedder=embedder)
    app.clearance_runtime = runtime
    _configure(app, settings)
    retry: dict[str, Any] = {
        "autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 300,
        "retry_jitter": True, "max_retries": settings.task_max_retries, "acks_late": True,
        "shared": False,  # bound to this app only (shared tasks reach every later app)
    }

    @app.task(name=TASK_NAMES["sync_source"], bind=True,  # type: ignore[untyped-decorator]
              **retry)
    def sync_source_task(self: Any, source_id: str) -> dict[str, Any]:
        return runtime.run_locked(self, "content", source_id, lambda heartbeat: sync_source(
            runtime.services, source_id=source_id, heartbeat=heartbeat))

    @app.task(name=TASK_NAMES["sync_permissions"], bind=True,  # type: ignore[untyped-decorator]
              **retry)
    def sync_permissions_task(self: Any, source_id: str) -> dict[str, Any]:
        return runtime.run_locked(self, "permissions", source_id, lambda _heartbeat:
                                  sync_permissions(runtime.services, source_id=source_id))

    @app.task(name=TASK_NAMES["reconcile_source"], bind=True,  # type: ignore[untyped-decorator]
              **retry)
    def reconcile_source_task(self: Any, source_id: str) -> dict[str, Any]:
        # the content lock: a reconciliation never runs beside a content sync
        return runtime.run_locked(self, "content", source_id, lambda heartbeat:
                                  reconcile_source(runtime.services, source_id=source_id,
                                                   heartbeat=heartbeat))

    @app.task(name=TASK_NAMES["ingest_documents"], **retry)  # type: ignore[untyped-decorator]
    def ingest_documents_task(tenant: str, source_id: str, documents: list[dict[str, Any]],
                              reply_key: str | None = None) -> list[dict[str, Any]]:
        """Pushed documents (``workers.push``); ``reply_key``: where an API call waits.
        Staged content (``workers.staging``) is read back, and dropped once ingested."""
        sessions = runtime.services.sessions
        raws, gone, staged = unstaged(sessions, documents, tenant=tenant, source_id=source_id)
        outcomes = ingest_documents(runtime.services, raws, tenant=tenant,
                                    source_id=source_id) if raws else []
        if any(o.error_code == StoreUnavailable.code for o in outcomes):
            raise StoreUnavailable("the vector store failed; the batch is retried")
        outcomes += gone
        if reply_key is not None:
            send_reply(runtime.redis, reply_key, outcomes)
        discard(sessions, staged)
        return [outcome_message(o) for o in outcomes]

    @app.task(name=TASK_NAMES["delete_document"], **retry)  # type: ignore[untyped-decorator]
    def delete_document_task(tenant: str, doc_id: str) -> str:
        try:
            delete_document(runtime.services, tenant=tenant, doc_id=doc_id)
        except NotFound:
            return "absent"  # deleted already: idempotent
        return "deleted"

    @app.task(name=TASK_NAMES["dispatch_due"], **retry)  # type: ignore[untyped-decorator]
    def dispatch_due_task() -> list[list[str]]:
        return dispatch_due(runtime, {sync.CONTENT: sync_source_task,
                                      grace.PERMISSIONS: sync_permissions_task,
                                      sync.RECONCILE: reconcile_source_task})

    # prefork: the services (and the model) are built in each child after the fork, never
    # in the parent; weak receivers, so a dropped app leaves no handler behind
    worker_process_init.connect(runtime.on_process_init)
    worker_process_shutdown.connect(runtime.on_process_shutdown)
    return app
