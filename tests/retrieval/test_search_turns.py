"""``Retriever(max_concurrent=n)``: at most n searches at once, the rest wait for a turn,
and taking turns changes nothing about who sees what."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core import Entitlements
from index.embed import Embedder
from retrieval import Retriever, SearchResult
from tests.helpers import text_doc
from workers.pipeline import ingest_documents
from workers.services import Services
from workers.sources import get_or_create_source

BOARD = Entitlements(tenant="default",
                     principals=frozenset({"everyone", "user:ann@corp.test", "group:board"}))
STAFF = Entitlements(tenant="default", principals=frozenset({"everyone", "user:eve@corp.test"}))
QUERY = "QX7731Z acquisition of Contoso"
WAIT_S = 10.0


class GatedEmbedder:
    """The real (hashing) embedder, but a query embedding waits for ``release`` after
    saying that it started: a search can be held inside its turn."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self.fail = False
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.started.release()
        try:
            assert self.release.wait(WAIT_S), "the test never released the search"
            if self.fail:
                raise RuntimeError("model failed")
            return self.inner.embed_query(text)
        finally:
            with self._lock:
                self.inside -= 1

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)


def _ingest(services: Services) -> None:
    with services.sessions() as session, session.begin():
        source = get_or_create_source(session, tenant="default", name="s", kind="push").id
    ingest_documents(services, [
        text_doc("minutes", "Project QX7731Z: the acquisition of Contoso closes in May.",
                 allow=("group:board",), title="Board minutes"),
        text_doc("canteen", "The canteen serves soup on Mondays.", title="Canteen"),
    ], tenant="default", source_id=source)


def _retriever(services: Services, embedder: GatedEmbedder, turns: int | None) -> Retriever:
    return Retriever(store=services.store, embedder=embedder,  # type: ignore[arg-type]
                     sessions=services.sessions, max_concurrent=turns)


def _seen(result: SearchResult) -> str:
    return " ".join(f"{h.external_id} {h.title} {h.text} {h.snippet}" for h in result.hits)


def test_a_search_waits_for_a_turn_and_permissions_hold_while_it_waits(
        services: Services) -> None:
    _ingest(services)
    gated = GatedEmbedder(services.embedder)
    retriever = _retriever(services, gated, turns=1)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(retriever.search, QUERY, entitlements=BOARD)
        assert gated.started.acquire(timeout=WAIT_S)  # the board member holds the turn
        second = pool.submit(retriever.search, QUERY, entitlements=STAFF)
        assert not gated.started.acquire(timeout=0.3)  # the other one waits outside
        gated.release.set()
        board, staff = first.result(WAIT_S), second.result(WAIT_S)
    assert gated.most_inside == 1
    assert staff.timings.queue_ms > 0
    assert "minutes" in {h.external_id for h in board.hits}
    assert not any(h.external_id == "minutes" for h in staff.hits)
    assert "QX7731Z" not in _seen(staff) and "Contoso" not in _seen(staff)
    assert "Board minutes" not in _seen(staff)


def test_without_a_limit_searches_run_side_by_side(services: Services) -> None:
    _ingest(services)
    gated = GatedEmbedder(services.embedder)
    retriever = _retriever(services, gated, turns=None)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(retriever.search, QUERY, entitlements=who)
                   for who in (BOARD, STAFF)]
        assert gated.started.acquire(timeout=WAIT_S)
        assert gated.started.acquire(timeout=WAIT_S)  # both inside at once
        gated.release.set()
        for future in futures:
            assert future.result(WAIT_S).timings.queue_ms == 0.0
    assert gated.most_inside == 2


def test_a_failed_search_gives_its_turn_back(services: Services) -> None:
    _ingest(services)
    gated = GatedEmbedder(services.embedder)
    gated.release.set()
    retriever = _retriever(services, gated, turns=1)
    gated.fail = True
    for _ in range(2):
        with pytest.raises(RuntimeError, match="model failed"):
            retriever.search(QUERY, entitlements=STAFF)
    gated.fail = False
    hits = retriever.search(QUERY, entitlements=STAFF).hits  # a turn was free again
    assert {h.external_id for h in hits} <= {"canteen"}


def test_the_served_default_limits_only_the_in_process_engine(tmp_path: Path) -> None:
    """Embedded store: as many turns as cores. A Qdrant server's search waits on the
    network, which other searches may overlap: no limit, unless one is set."""
    from api.state import _default_search_turns
    from index.embed import cpu_cores
    from tests.helpers import settings_for

    assert _default_search_turns(settings_for(tmp_path)) == cpu_cores()
    assert _default_search_turns(settings_for(tmp_path, qdrant_url="http://qdrant:6333")) is None
