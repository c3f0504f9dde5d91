"""Builders shared by tests: real stores on a temp data dir, the hashing embedder."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acl import entitlements_for
from core import Acl, RawDocument, Settings
from index.embed import HashingEmbedder
from retrieval import Retriever
from workers.services import Services, build_services

REDIS_URL = "redis://127.0.0.1:6379/0"
"""The machine's Redis (``make test`` starts it when down)."""


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "embedder": "hashing",
                              "environment": "test",
                              "embedded_scheduler": False}  # tests/api/test_scheduler.py
    values.update(overrides)
    return Settings(**values)


def hashing_services(data_dir: Path, **overrides: Any) -> Services:
    return build_services(settings_for(data_dir, **overrides), embedder=HashingEmbedder())


def text_doc(external_id: str, text: str, *, allow: tuple[str, ...] = ("everyone",),
             deny: tuple[str, ...] = (), title: str | None = None) -> RawDocument:
    return RawDocument(external_id=external_id, title=title or external_id.title(),
                       content=text.encode(), mime_type="text/plain",
                       acl=Acl.of(list(allow), list(deny)))


def sees(services: Services, user: str, query: str) -> set[str]:
    """External ids of the documents ``user`` (tenant default) finds for ``query``."""
    with services.sessions() as session:
        who = entitlements_for(session, tenant="default", user_id=user)
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions)
    return {h.external_id for h in retriever.search(query, entitlements=who, top_k=20).hits}


def wait_for(predicate: Callable[[], Any], *, timeout_s: float = 20.0) -> Any:
    """``predicate()`` once it is truthy (a worker's work is done); fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {predicate}")


def free_port() -> int:
    """A loopback port nothing listens on (for a server the test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
