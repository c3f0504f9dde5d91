"""Embedded mode runs a source's schedule itself (``api.scheduler``): due content and
permission syncs start on the tick, stale permissions fail closed with no sync running,
and one job per source and lock runs at a time, as the Celery workers' locks allow."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ingest_queue import IngestQueue
from api.scheduler import SourceJobs
from core.models import Source
from ingest import register_connector
from tests.fakes import ANN, BOB, CAROL, Site
from tests.helpers import sees, hashing_services, settings_for
from workers.grace import FAIL_CLOSED, permission_health
from workers.services import Services
from workers.sources import get_or_create_source

KIND = "scheduler-test-site"
SITES: dict[str, Site] = {}


@pytest.fixture(autouse=True, scope="module")
def fake_kind() -> None:
    register_connector(KIND, lambda config, *, max_bytes: SITES[config["source_id"]])


@pytest.fixture
def jobs(services: Services) -> Iterator[SourceJobs]:
    queue = IngestQueue(services)
    scheduler = SourceJobs(services.settings, services, queue)
    yield scheduler
    scheduler.close()
    queue.close()


def new_site(services: Services, name: str = "hr-site", **config: Any) -> tuple[str, Site]:
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant="default", name=name,
                                         kind=KIND, config=config).id
    SITES[source_id] = Site(source_id)
    return source_id, SITES[source_id]


def settle(jobs: SourceJobs, source_id: str) -> None:
    deadline = time.monotonic() + 30
    while any(jobs.running(source_id, kind) for kind in ("content", "permissions")):
        assert time.monotonic() < deadline, "the jobs did not finish"
        time.sleep(0.02)


def test_the_tick_starts_due_syncs_and_only_readers_see_the_result(
        services: Services, jobs: SourceJobs) -> None:
    source_id, _site = new_site(services)
    started = jobs.tick()
    assert set(started) == {(source_id, "content"), (source_id, "permissions")}
    settle(jobs, source_id)
    assert sees(services, ANN, "economy class flights") == {"travel"}
    assert sees(services, CAROL, "salary bands KZ4410") >= {"salaries"}
    assert sees(services, BOB, "economy class flights salary bands") == set()
    assert "salaries" not in sees(services, ANN, "salary bands KZ4410")
    assert jobs.tick() == []  # nothing is due again before its interval


def test_stale_permissions_fail_closed_on_the_tick_with_no_sync_running(
        services: Services, jobs: SourceJobs) -> None:
    source_id, site = new_site(services)
    jobs.tick()
    settle(jobs, source_id)
    site.failing = True
    assert jobs.start(source_id, "permissions")
    settle(jobs, source_id)
    assert sees(services, ANN, "economy class flights") == {"travel"}  # within its grace

    later = datetime.now(UTC) + timedelta(seconds=services.settings.permissions_grace_s + 60)
    assert (source_id, FAIL_CLOSED) in jobs.tick(now=later)
    settle(jobs, source_id)
    with services.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert permission_health(session, source, default_grace_s=1.0).closed
    assert sees(services, ANN, "economy class flights") == set()
    assert sees(services, CAROL, "salary bands KZ4410") == set()


def test_one_job_per_source_and_lock(services: Services, jobs: SourceJobs) -> None:
    source_id, site = new_site(services)
    site.hold.clear()  # the content sync waits inside the crawl
    assert jobs.start(source_id, "content")
    assert not jobs.start(source_id, "content")
    assert not jobs.start(source_id, "reconcile")  # it takes the content lock
    assert jobs.start(source_id, "permissions")  # its own lock
    site.hold.set()
    settle(jobs, source_id)
    assert jobs.start(source_id, "content")
    settle(jobs, source_id)


def test_the_api_process_keeps_the_schedule_with_no_one_asking(data_dir: Path) -> None:
    settings = settings_for(data_dir, embedded_scheduler=True, schedule_tick_s=0.05)
    services = hashing_services(data_dir)
    source_id, _site = new_site(services)
    try:
        with TestClient(create_app(settings, services=services)):
            deadline = time.monotonic() + 30
            while sees(services, ANN, "economy class flights") != {"travel"}:
                assert time.monotonic() < deadline, "the schedule never ran"
                time.sleep(0.05)
            assert sees(services, BOB, "economy class flights") == set()
    finally:
        services.close()


def test_the_tick_runs_a_bounded_number_of_jobs_and_leaves_the_rest_due(
        services: Services, jobs: SourceJobs, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.scheduler as scheduler

    monkeypatch.setattr(scheduler, "MAX_SCHEDULED_JOBS", 1)
    first, first_site = new_site(services, "hr-site")
    second, second_site = new_site(services, "finance-site")
    assert first != second
    first_site.hold.clear()
    second_site.hold.clear()
    started = jobs.tick()
    assert len(started) == 1  # one of the four due jobs
    first_site.hold.set()
    second_site.hold.set()
    for source_id in (first, second):
        settle(jobs, source_id)
    left = {(first, "content"), (first, "permissions"), (second, "content"),
            (second, "permissions")} - set(started)
    for _ in left:  # what was left due starts on the next ticks, one at a time
        [(source_id, kind)] = jobs.tick()
        assert (source_id, kind) in left
        settle(jobs, source_id)
    assert jobs.tick() == []
