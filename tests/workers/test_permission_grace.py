"""Stale permissions fail closed (issue 6, point 5): a source whose permission sync keeps
failing keeps its last synced ACLs for the grace period only, then none of its documents
is readable (search, answer, the engine's own filter) and its status says why; the next
successful permission sync opens it again. Time is an injected clock: nothing sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acl import current_epoch
from core import Acl, Entitlements, document_id
from core.models import Document, Source, SyncRun
from index.store import StoreQuery
from ingest import SourceUnavailable
from tests.api.conftest import Api, make_api  # noqa: F401 - the fixture
from tests.fakes import ANN, BOB, CAROL, Site
from tests.helpers import sees, hashing_services
from workers.grace import (
    CLOSED_CODE,
    FAIL_CLOSED,
    close_stale_sources,
    enforce_permission_grace,
    permission_health,
)
from workers.services import Services
from workers.sources import get_or_create_source
from workers.sync import sync_permissions, sync_source

DAY = timedelta(hours=24)


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    opened = hashing_services(data_dir, qdrant_url=":memory:")
    yield opened
    opened.close()


def make_source(services: Services, **config: Any) -> str:
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="hr-site",
                                    kind="sharepoint", config=config).id


def engine_admits(services: Services, principals: set[str], query: str) -> bool:
    """What the payloads alone say, before the SQL re-check."""
    who = Entitlements(tenant="default", principals=frozenset(principals | {"everyone"}))
    found = services.store.search(StoreQuery(dense=services.embedder.embed_query(query)),
                                  entitlements=who, top_k=20)
    return bool(found)


def fail(services: Services, source_id: str, site: Site, *, at: datetime) -> None:
    site.failing = True
    with pytest.raises(SourceUnavailable):
        sync_permissions(services, source_id=source_id, connector=site, clock=lambda: at)


def health(services: Services, source_id: str) -> Any:
    with services.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None
        return permission_health(session, source,
                                 default_grace_s=services.settings.permissions_grace_s)


def synced(services: Services) -> tuple[str, Site, datetime]:
    source_id = make_source(services)
    site = Site(source_id)
    sync_source(services, source_id=source_id, connector=site)
    sync_permissions(services, source_id=source_id, connector=site)
    return source_id, site, datetime.now(UTC)


def test_within_the_grace_period_the_last_synced_acls_still_hold(services: Services) -> None:
    source_id, site, synced_at = synced(services)
    assert services.settings.permissions_grace_s == DAY.total_seconds()  # the default
    fail(services, source_id, site, at=synced_at + timedelta(hours=23))
    assert sees(services, ANN, "economy class flights") == {"travel"}
    assert "salaries" in sees(services, CAROL, "salary bands KZ4410")
    assert "salaries" not in sees(services, ANN, "salary bands KZ4410")
    state = health(services, source_id)
    assert state.failing_since is not None and not state.closed
    assert state.closes_at is not None and state.closes_at - synced_at < DAY + timedelta(
        seconds=5)


def test_past_the_grace_period_nobody_reads_the_source_until_a_permission_sync_succeeds(
        services: Services) -> None:
    source_id, site, synced_at = synced(services)
    epoch = _epoch(services)
    fail(services, source_id, site, at=synced_at + timedelta(hours=1))
    fail(services, source_id, site, at=synced_at + DAY + timedelta(minutes=5))

    # a user who could read sees nothing, through the SQL re-check and the engine alike
    assert sees(services, ANN, "economy class flights") == set()
    assert sees(services, CAROL, "salary bands KZ4410") == set()
    assert sees(services, BOB, "salary bands KZ4410") == set()
    assert not engine_admits(services, {ANN, site.group}, "economy class flights")
    assert not engine_admits(services, {CAROL}, "salary bands KZ4410")
    with services.sessions() as session:
        rows = list(session.scalars(select(Document).where(Document.source_id == source_id)))
        closing = session.scalars(select(SyncRun).where(SyncRun.kind == FAIL_CLOSED)).one()
    assert all(r.acl_allow == [] and r.acl_version == 2 and not r.needs_retry for r in rows)
    assert _epoch(services) == epoch + 1  # one bump for the whole source: caches miss
    assert (closing.changed, closing.error_code) == (2, CLOSED_CODE)
    assert "CLEARANCE_PERMISSIONS_GRACE_S" in (closing.error_message or "")
    assert health(services, source_id).closed

    # failing again changes nothing more (no second closing, no epoch bump)
    fail(services, source_id, site, at=synced_at + 2 * DAY)
    assert _epoch(services) == epoch + 1
    with services.sessions() as session:
        assert len(session.scalars(select(SyncRun).where(SyncRun.kind == FAIL_CLOSED)).all()) \
            == 1

    # a content sync while closed writes what it ingests closed too
    site.texts["travel"] = "Travel policy: book economy class flights and trains."
    sync_source(services, source_id=source_id, connector=site)
    assert sees(services, ANN, "economy class flights") == set()

    site.failing = False
    sync_permissions(services, source_id=source_id, connector=site)
    assert not health(services, source_id).closed
    assert sees(services, ANN, "economy class flights") == {"travel"}
    assert "salaries" in sees(services, CAROL, "salary bands KZ4410")
    # and a user without access still gets nothing of the restricted document
    assert "salaries" not in sees(services, ANN, "salary bands KZ4410")
    assert sees(services, BOB, "salary bands KZ4410") == set()
    assert not engine_admits(services, {BOB}, "salary bands KZ4410")


def test_a_source_config_may_shorten_its_grace_period(services: Services) -> None:
    source_id = make_source(services, permissions_grace_s=600)
    site = Site(source_id)
    sync_source(services, source_id=source_id, connector=site)
    sync_permissions(services, source_id=source_id, connector=site)
    synced_at = datetime.now(UTC)
    fail(services, source_id, site, at=synced_at + timedelta(minutes=5))
    assert "salaries" in sees(services, CAROL, "salary bands KZ4410")
    fail(services, source_id, site, at=synced_at + timedelta(minutes=11))
    assert sees(services, CAROL, "salary bands KZ4410") == set()


def test_beats_sweep_closes_a_source_whose_grace_ran_out_between_runs(
        services: Services) -> None:
    source_id, site, synced_at = synced(services)
    fail(services, source_id, site, at=synced_at + timedelta(minutes=5))
    assert close_stale_sources(services, now=synced_at + timedelta(hours=2)) == []
    assert sees(services, ANN, "economy class flights") == {"travel"}
    assert close_stale_sources(services, now=synced_at + DAY + timedelta(seconds=30)) == [
        source_id]
    assert sees(services, ANN, "economy class flights") == set()
    assert close_stale_sources(services, now=synced_at + 2 * DAY) == []  # closed already


def test_a_permission_sync_under_way_holds_the_closing_back(services: Services) -> None:
    source_id, site, synced_at = synced(services)
    fail(services, source_id, site, at=synced_at)
    with services.sessions() as session, session.begin():
        run = session.scalars(select(SyncRun).where(SyncRun.kind == "permissions")
                              .order_by(SyncRun.started_at.desc())).first()
        assert run is not None
        session.add(SyncRun(id="r" * 32, tenant_id="default", source_id=source_id,
                            kind="permissions", status="running",
                            started_at=datetime.now(UTC), seen=0, new=0, changed=0,
                            unchanged=0, deleted=0, failed=0))
    assert not enforce_permission_grace(services, source_id=source_id,
                                        now=synced_at + 2 * DAY)
    assert sees(services, ANN, "economy class flights") == {"travel"}


def test_a_source_whose_permission_sync_never_succeeded_closes_a_grace_after_its_first_failure(
        services: Services) -> None:
    source_id = make_source(services)
    site = Site(source_id)
    site.acls["travel"] = Acl.of([ANN])  # the content sync's own ACL
    sync_source(services, source_id=source_id, connector=site)
    first_failure = datetime.now(UTC)
    fail(services, source_id, site, at=first_failure + timedelta(hours=20))
    assert sees(services, ANN, "economy class flights") == {"travel"}
    fail(services, source_id, site, at=first_failure + DAY + timedelta(minutes=1))
    assert sees(services, ANN, "economy class flights") == set()


def _epoch(services: Services) -> int:
    with services.sessions() as session:
        return current_epoch(session, "default")


# --- through the API: search, answer and the source's status ---------------------------


def test_the_api_answers_nothing_from_a_closed_source_and_its_status_says_why(
        make_api: Callable[..., Api]) -> None:  # noqa: F811
    api = make_api()
    services: Services = api.client.app.state.test_services  # type: ignore[attr-defined]
    created = api.call("POST", "/v1/sources", json={
        "name": "hr-site", "kind": "sharepoint",
        "config": {"drives": ["b!drive1"], "bearer_token": "t"}})
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]
    site = Site(source_id)
    sync_source(services, source_id=source_id, connector=site)
    sync_permissions(services, source_id=source_id, connector=site)
    synced_at = datetime.now(UTC)
    question = "Which class do employees book flights in for trips under six hours?"

    def readable() -> bool:
        hits = {h["external_id"] for h in api.search(ANN, "economy class flights")}
        answer = api.answer(ANN, question)
        cited = {c["doc_id"] for c in answer["citations"]}
        return hits == {"travel"} and not answer["abstained"] and cited == {
            document_id(source_id, "travel")}

    def source() -> dict[str, Any]:
        response = api.call("GET", f"/v1/sources/{source_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    assert readable()  # and the answer is now in the cache
    assert source()["status"] == "ok" and source()["permissions"]["status"] == "ok"

    fail(services, source_id, site, at=synced_at + timedelta(hours=2))
    assert readable()
    failing = source()
    assert failing["status"] == "ok" and failing["permissions"]["status"] == "failing"
    assert failing["permissions"]["closes_at"] is not None

    fail(services, source_id, site, at=synced_at + DAY + timedelta(minutes=1))
    assert api.search(ANN, "economy class flights") == []
    answer = api.answer(ANN, question)
    assert answer["abstained"] and answer["citations"] == []
    assert "economy" not in answer["answer"].lower()
    closed = source()
    assert closed["status"] == "permissions_stale_fail_closed"
    assert closed["permissions"]["status"] == "fail_closed"
    assert "grace period" in closed["permissions"]["message"]
    listed = api.call("GET", "/v1/sources").json()["sources"]
    assert [s["status"] for s in listed] == ["permissions_stale_fail_closed"]
    runs = api.call("GET", f"/v1/sources/{source_id}/runs").json()["runs"]
    assert runs[0]["kind"] == "fail_closed" and runs[0]["error"]["code"] == CLOSED_CODE

    site.failing = False
    sync_permissions(services, source_id=source_id, connector=site)
    assert readable()
    assert source()["status"] == "ok" and source()["permissions"]["status"] == "ok"
    # a user without access never saw the restricted document, before or after
    assert api.search(BOB, "salary bands KZ4410") == []
    assert "salaries" not in {h["external_id"] for h in api.search(ANN, "salary bands KZ4410")}
