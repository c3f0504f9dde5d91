"""Where pushed documents go (``Pushes``), and embedded mode's task queue: pushed documents
are ingested in the API process on one thread, in micro-batches, so a bulk push runs near
the embedder's batch throughput. With ``CLEARANCE_TASK_QUEUE=celery`` they go to the
workers instead (``workers.push.WorkerPushes``).

The same thread retries failed store writes (``workers.repair.retry_pending``) every
``repair_interval_s``: on the ingest thread, a repair never races a version being written.
In Celery mode the workers write, and beat's tick repairs (``workers.tasks``): the API
process builds its queue with ``repair_interval_s=None``."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from core import RawDocument
from workers.pipeline import IngestOutcome, ingest_documents
from workers.repair import repair_pending
from workers.services import Services

log = logging.getLogger(__name__)


class Pending(Protocol):
    """A pushed document on its way: ``result`` blocks for its outcome and raises
    ``TimeoutError`` after ``timeout`` seconds (a ``Future`` is one)."""

    def result(self, timeout: float | None = None) -> IngestOutcome: ...


class Pushes(Protocol):
    def submit(self, raw: RawDocument, *, tenant: str, source_id: str) -> Pending: ...


@dataclass
class _Job:
    raw: RawDocument
    tenant: str
    source_id: str
    future: Future[IngestOutcome] = field(default_factory=Future)


class IngestQueue:
    def __init__(self, services: Services, *, batch_size: int = 64,
                 linger_s: float = 0.02, repair_interval_s: float | None = 30.0) -> None:
        self.services = services
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.repair_interval_s = repair_interval_s
        self._last_repair = time.monotonic()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="ingest", daemon=True)
        self._thread.start()

    def submit(self, raw: RawDocument, *, tenant: str, source_id: str,
               ) -> Future[IngestOutcome]:
        job = _Job(raw, tenant, source_id)
        self._jobs.put(job)
        return job.future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=300)

    def _loop(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=self.repair_interval_s)
            except queue.Empty:
                self._repair()
                continue
            if first is None:
                return
            batch, stop = [first], False
            while len(batch) < self.batch_size:
                try:
                    job = self._jobs.get(timeout=self.linger_s)
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._run(batch)
            if stop:
                return
            if (self.repair_interval_s is not None
                    and time.monotonic() - self._last_repair >= self.repair_interval_s):
                self._repair()

    def _repair(self) -> None:
        self._last_repair = time.monotonic()
        repair_pending(self.services)

    def _run(self, batch: list[_Job]) -> None:
        groups: dict[tuple[str, str], list[_Job]] = {}
        for job in batch:
            groups.setdefault((job.tenant, job.source_id), []).append(job)
        for (tenant, source_id), jobs in groups.items():
            try:
                outcomes = ingest_documents(self.services, [j.raw for j in jobs],
                                            tenant=tenant, source_id=source_id)
            except Exception as exc:  # one failed batch must not stop the queue
                log.exception("ingest batch failed", extra={"documents": len(jobs)})
                for job in jobs:
                    job.future.set_exception(exc)
                continue
            by_id = {o.external_id: o for o in outcomes}
            for job in jobs:
                job.future.set_result(by_id[job.raw.external_id])
