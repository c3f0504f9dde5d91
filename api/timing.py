"""Where a request's time goes, as a ``Server-Timing`` response header (W3C Server Timing).

The middleware opens a per-request record (a context variable: FastAPI runs sync
dependencies and routes in worker threads with a copy of the request's context, which
still points at the same record); code on the request path adds named steps to it; the
middleware writes them, plus ``app`` (the whole request inside the server) and ``http``
(what no step covers: routing, body parsing, validation, serialisation), into the header.

Off unless ``CLEARANCE_SERVER_TIMING`` is set: step durations describe the server's work,
never its data, but a deployment should choose to expose them. ``bench/search_latency.py``
reads them to print where the time goes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_steps: ContextVar[dict[str, float] | None] = ContextVar("clearance_server_timing",
                                                         default=None)


def start() -> dict[str, float]:
    """Open this request's record (the middleware calls it once per request)."""
    steps: dict[str, float] = {}
    _steps.set(steps)
    return steps


def record(name: str, ms: float) -> None:
    """Add ``ms`` to step ``name`` of the current request, if timing is on."""
    steps = _steps.get()
    if steps is not None:
        steps[name] = steps.get(name, 0.0) + ms


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time the block as step ``name``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        record(name, (time.perf_counter() - started) * 1000)


def header_value(steps: dict[str, float], total_ms: float) -> bytes:
    """``name;dur=ms`` entries, then ``http`` (uncovered time) and ``app`` (the total)."""
    covered = sum(steps.values())
    entries = [*steps.items(), ("http", max(0.0, total_ms - covered)), ("app", total_ms)]
    return ", ".join(f"{name};dur={ms:.2f}" for name, ms in entries).encode()
