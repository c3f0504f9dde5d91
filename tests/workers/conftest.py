"""A real Celery worker for the tests that need one: Redis as the broker (keys under a
prefix of the test's own), PostgreSQL as the database, the worker on a thread of this
process, and the same vector store object on the worker's side and the test's."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker

from core import Settings
from index.embed import HashingEmbedder
from index.store import VectorStore, create_store
from tests.helpers import REDIS_URL, settings_for
from workers import create_worker
from workers.services import Services
from workers.sources import get_or_create_source


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"clearance-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def worker_settings(data_dir: Path, fresh_postgres_url: str, redis_prefix: str) -> Settings:
    return settings_for(data_dir, database_url=fresh_postgres_url, qdrant_url=":memory:",
                        broker_url=REDIS_URL, broker_key_prefix=redis_prefix,
                        schedule_tick_s=1.0)


@pytest.fixture
def make_worker(worker_settings: Settings) -> Iterator[Callable[..., tuple[Celery, Services]]]:
    """A Celery app on a real store, with its worker thread running; the test reads the
    same ``Services`` (same store object) the worker writes to."""
    stack: list[Any] = []
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)

    def make(*, wrap: Callable[[VectorStore], Any] | None = None) -> tuple[Celery, Services]:
        embedder = HashingEmbedder()
        store = create_store(worker_settings, dimensions=embedder.dimensions)
        store.warm_up()
        app = create_worker(worker_settings, store=wrap(store) if wrap else store,
                            embedder=embedder)
        context = start_worker(app, pool="solo", perform_ping_check=False,
                               shutdown_timeout=30.0)
        context.__enter__()
        stack.append((context, app, store))
        return app, app.clearance_runtime.services

    yield make
    for context, app, store in reversed(stack):
        context.__exit__(None, None, None)
        app.clearance_runtime.close()
        store.close()
    # start_worker sets up Celery's logging (root at its loglevel, "error"): left so, every
    # later test in the process would see no warning through caplog.
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def source_id(services: Services) -> str:
    """A push source of tenant ``default`` (a module syncing a connector defines its own)."""
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="test", kind="push").id
