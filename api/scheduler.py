"""Embedded mode's beat and workers: the API process runs a source's syncs itself.

In production Celery beat ticks every ``schedule_tick_s`` and the workers run what is due
(``workers.tasks.dispatch_due``). With ``CLEARANCE_TASK_QUEUE=embedded`` there is no beat,
so ``SourceJobs`` ticks here, on a thread of its own: it closes the sources whose
permissions went stale past their grace (``workers.grace``), then starts every due content
sync, permission sync and reconciliation (``workers.sync.due_sources``). Without it a
source's schedule would never run and a failing permission sync would never fail closed.

Each job runs on its own thread, at most one per source and lock, as the workers' Redis
locks allow: a content sync and a reconciliation of one source never run side by side, a
permission sync may. Content reaches the index through the ingest thread
(``api.ingest_queue``), so one thread writes versions. "Sync now" starts jobs here too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core import Settings
from core.models import Source
from workers.grace import FAIL_CLOSED, close_stale_sources
from workers.pipeline import IngestOutcome
from workers.reconcile import reconcile_source
from workers.services import Services
from workers.grace import PERMISSIONS
from workers.sync import CONTENT, RECONCILE, due_sources, sync_permissions, sync_source

from .ingest_queue import IngestQueue

log = logging.getLogger(__name__)

MAX_SCHEDULED_JOBS = 4
"""Jobs the tick keeps running at once (a worker pool's concurrency, in one process that
also answers questions); "Sync now" is not held to it."""
LOCKS = {CONTENT: CONTENT, RECONCILE: CONTENT, PERMISSIONS: PERMISSIONS}
"""The lock each kind of job holds (``workers.tasks``: a reconciliation takes the content
lock)."""


class SourceJobs:
    def __init__(self, settings: Settings, services: Services, ingest_queue: IngestQueue,
                 ) -> None:
        self.settings = settings
        self.services = services
        self.ingest_queue = ingest_queue
        self._mutex = threading.Lock()
        self._running: dict[tuple[str, str], threading.Thread] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start_ticking(self) -> None:
        """Tick every ``schedule_tick_s`` until ``close`` (the first tick after one
        interval, so a starting server answers before it syncs)."""
        self._ticker = threading.Thread(target=self._tick_forever, name="scheduler",
                                        daemon=True)
        self._ticker.start()

    def close(self, *, timeout_s: float = 10.0) -> None:
        """Stop ticking; wait a little for running jobs (a long crawl is left to die with
        the process, its run row then reads as crashed, as a killed worker's would)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=timeout_s)
        with self._mutex:
            jobs = list(self._running.values())
        for job in jobs:
            job.join(timeout=timeout_s)

    def tick(self, *, now: datetime | None = None) -> list[tuple[str, str]]:
        """One beat (at ``now``, else the clock's time): close stale sources, start what is
        due; ``(source_id, kind)`` of each source closed (kind ``fail_closed``) and each job
        started."""
        closed = close_stale_sources(self.services, now=now)
        done = [(source_id, FAIL_CLOSED) for source_id in closed]
        with self.services.sessions() as session:
            due = list(due_sources(session, default_content_s=self.settings.sync_interval_s,
                                   default_permissions_s=self.settings.permissions_interval_s,
                                   default_reconcile_s=self.settings.reconcile_interval_s,
                                   now=now))
        started: list[tuple[str, str]] = []
        for source_id, kind in due:
            if self._busy() >= MAX_SCHEDULED_JOBS:
                break  # the rest stay due: a later tick starts them
            if self.start(source_id, kind):
                started.append((source_id, kind))
        return done + started

    def start(self, source_id: str, kind: str = CONTENT) -> bool:
        """Run the job on a thread of its own; False if one holding its lock runs."""
        key = (LOCKS[kind], source_id)
        with self._mutex:
            if key in self._running:
                return False
            thread = threading.Thread(target=self._run, args=(source_id, kind, key),
                                      name=f"{kind}-{source_id}", daemon=True)
            self._running[key] = thread
        thread.start()
        return True

    def _busy(self) -> int:
        with self._mutex:
            return len(self._running)

    def running(self, source_id: str, kind: str = CONTENT) -> bool:
        with self._mutex:
            return (LOCKS[kind], source_id) in self._running

    def _run(self, source_id: str, kind: str, key: tuple[str, str]) -> None:
        try:
            job = self._job(source_id, kind)
            job()
        except Exception as exc:  # the run's row says why
            log.warning("sync failed", extra={"source_id": source_id, "kind": kind,
                                              "error": type(exc).__name__})
        finally:
            with self._mutex:
                self._running.pop(key, None)

    def _job(self, source_id: str, kind: str) -> Callable[[], Any]:
        if kind == PERMISSIONS:
            return lambda: sync_permissions(self.services, source_id=source_id)
        if kind == RECONCILE:
            return lambda: reconcile_source(self.services, source_id=source_id)
        with self.services.sessions() as session:
            source = session.get(Source, source_id)
            tenant = source.tenant_id if source is not None else ""

        def ingest(raws: list[Any]) -> list[IngestOutcome]:
            futures = [self.ingest_queue.submit(raw, tenant=tenant, source_id=source_id)
                       for raw in raws]
            return [future.result() for future in futures]

        return lambda: sync_source(self.services, source_id=source_id, ingest=ingest)

    def _tick_forever(self) -> None:
        while not self._stop.wait(self.settings.schedule_tick_s):
            try:
                started = self.tick()
            except Exception:  # the database is down: the next tick tries again
                log.exception("scheduler tick failed")
                continue
            if started:
                log.info("scheduler tick", extra={"started": started})
