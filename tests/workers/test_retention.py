"""Pruning a source's sync runs (``workers.retention``) changes no decision: not when each
sync is next due, not where a content sync resumes, not a permission grace verdict."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from core.models import Source, SyncRun, SyncRunStatus
from workers.grace import FAIL_CLOSED, permission_health
from workers.retention import prune_runs
from workers.services import Services
from workers.sources import get_or_create_source
from workers.sync import due_sources, last_runs, sync_permissions

BASE = datetime(2026, 11, 1, tzinfo=UTC)
STATUSES = [SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED, SyncRunStatus.CRASHED,
            SyncRunStatus.NEEDS_CREDENTIALS, SyncRunStatus.RUNNING]
_run = st.one_of(
    st.tuples(st.sampled_from(["content", "permissions", "reconcile"]),
              st.sampled_from(STATUSES), st.booleans()),
    st.just((FAIL_CLOSED, SyncRunStatus.SUCCEEDED, False)),
)


def make_source(services: Services) -> str:
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="wiki",
                                    kind="confluence").id


def write_history(services: Services, source_id: str, runs: list[tuple[str, str, bool]],
                  order: list[int]) -> None:
    """``runs[i]`` starts ``order[i]`` hours after BASE (distinct times)."""
    with services.sessions() as session, session.begin():
        session.execute(delete(SyncRun).where(SyncRun.source_id == source_id))
        for (kind, status, checkpointed), hour in zip(runs, order, strict=True):
            started = BASE + timedelta(hours=hour)
            session.add(SyncRun(
                id=uuid.uuid4().hex, tenant_id="default", source_id=source_id, kind=kind,
                status=status, started_at=started, heartbeat_at=started,
                finished_at=None if status == SyncRunStatus.RUNNING else started,
                checkpoint={"page": hour} if checkpointed else None,
                seen=0, new=0, changed=0, unchanged=0, deleted=0, failed=0))


def decisions(services: Services, source_id: str, hours: int) -> dict[str, Any]:
    with services.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None
        due = {at: set(due_sources(session, default_content_s=900, default_permissions_s=300,
                                   default_reconcile_s=6 * 3600,
                                   now=BASE + timedelta(hours=at)))
               for at in range(0, hours + 8, 3)}
        resume = session.scalars(select(SyncRun.checkpoint).where(
            SyncRun.source_id == source_id, SyncRun.kind == "content",
            SyncRun.checkpoint.is_not(None)).order_by(SyncRun.started_at.desc())
            .limit(1)).first()
        last = last_runs(session, source_ids=[source_id]).get(source_id)
        return {"health": permission_health(session, source, default_grace_s=3600.0),
                "due": due, "resume": resume, "last_content": last.id if last else None}


def count_runs(services: Services, source_id: str) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(SyncRun).where(
            SyncRun.source_id == source_id)) or 0


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(_run, min_size=1, max_size=30), keep=st.integers(0, 6),
       data=st.data())
def test_pruning_changes_no_decision(services: Services, runs: list[tuple[str, str, bool]],
                                     keep: int, data: st.DataObject) -> None:
    source_id = make_source(services)
    order = data.draw(st.permutations(range(len(runs))))
    write_history(services, source_id, runs, order)
    before = decisions(services, source_id, len(runs))
    with services.sessions() as session, session.begin():
        gone = prune_runs(session, source_id=source_id, keep=keep, slack=0)
    assert count_runs(services, source_id) == len(runs) - gone
    assert decisions(services, source_id, len(runs)) == before


def test_a_long_history_is_cut_to_the_newest_runs_and_those_still_read(
        services: Services) -> None:
    source_id = make_source(services)
    runs = [("permissions", SyncRunStatus.SUCCEEDED, False)] * 400
    write_history(services, source_id, runs, list(range(400)))
    with services.sessions() as session, session.begin():
        assert prune_runs(session, source_id=source_id, keep=200, slack=50) == 200
        assert prune_runs(session, source_id=source_id, keep=200, slack=50) == 0
    assert count_runs(services, source_id) == 200


def test_each_finished_sync_prunes_its_source(services: Services,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.retention as retention

    monkeypatch.setattr(retention, "KEEP", 3)
    monkeypatch.setattr(retention, "SLACK", 0)
    source_id = make_source(services)

    class NoPermissions:  # a connector with nothing to sync but its runs
        pass

    for _ in range(6):
        sync_permissions(services, source_id=source_id, connector=NoPermissions())  # type: ignore[arg-type]
    assert count_runs(services, source_id) == 3
