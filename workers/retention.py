"""How many sync runs a source keeps: its newest ``KEEP`` plus every run a decision reads.

A source gains a run row per sync (a permission sync every five minutes is ~290 a day),
so old rows are pruned after each run. A row goes only if nothing reads it any more:

- the newest run of each kind (``due_sources``: when each is next due; the admin's "last
  run"; the newest ``fail_closed`` row: whether the source is closed), and the oldest
  content run (the reconciliation's first due date);
- the newest content run with a checkpoint (where the next content sync resumes);
- every run still ``running`` (``permission_health``'s "under way"; marked crashed by the
  next run of its kind);
- for permissions (``workers.grace.permission_health``): the newest success, the newest
  finished run, and the first failure since that success (when the source started
  failing).

So pruning never changes a schedule, a resume point or a grace decision, which
``tests/workers/test_retention.py`` checks on random run histories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.models import SyncRun, SyncRunStatus

from .grace import FAILED_STATUSES, PERMISSIONS

KEEP = 200
"""The newest runs every source keeps, whatever they are: the admin's run history."""
SLACK = 50
"""Runs allowed past ``KEEP`` before a prune, so that it runs once in ``SLACK`` syncs."""

CONTENT = "content"


def prune_runs(session: Session, *, source_id: str, keep: int | None = None,
               slack: int | None = None) -> int:
    """Delete the source's runs that are neither among its newest ``keep`` (``KEEP``) nor
    read by any decision (module doc); nothing while it has at most ``keep + slack``
    (``SLACK``). How many went."""
    keep = KEEP if keep is None else keep
    slack = SLACK if slack is None else slack
    rows = session.execute(
        select(SyncRun.id, SyncRun.kind, SyncRun.status, SyncRun.started_at,
               SyncRun.checkpoint.is_not(None))
        .where(SyncRun.source_id == source_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id)
    ).all()
    if len(rows) <= keep + slack:
        return 0
    runs = [_Run(*row) for row in rows]
    kept = {r.id for r in runs[:keep]} | _needed(runs)
    gone = [r.id for r in runs if r.id not in kept]
    for start in range(0, len(gone), 500):
        session.execute(delete(SyncRun).where(SyncRun.id.in_(gone[start:start + 500])))
    return len(gone)


class _Run:
    __slots__ = ("checkpointed", "id", "kind", "started_at", "status")

    def __init__(self, id: str, kind: str, status: str, started_at: datetime,
                 checkpointed: bool) -> None:
        self.id, self.kind, self.status = id, kind, status
        self.started_at, self.checkpointed = started_at, checkpointed


def _needed(runs: Sequence[_Run]) -> set[str]:
    """The ids every decision reads (module doc); ``runs`` newest first."""
    needed = {r.id for r in runs if r.status == SyncRunStatus.RUNNING}
    newest_of_kind: dict[str, str] = {}
    for run in runs:
        newest_of_kind.setdefault(run.kind, run.id)
    needed.update(newest_of_kind.values())
    content = [r for r in runs if r.kind == CONTENT]
    if content:
        needed.add(content[-1].id)
        needed.add(_newest(content, lambda r: r.checkpointed))
    permissions = [r for r in runs if r.kind == PERMISSIONS]
    success = _newest(permissions, lambda r: r.status == SyncRunStatus.SUCCEEDED)
    needed.add(success)
    needed.add(_newest(permissions, lambda r: r.status != SyncRunStatus.RUNNING))
    since = next((i for i, r in enumerate(permissions) if r.id == success), len(permissions))
    failures = [r for r in permissions[:since] if r.status in FAILED_STATUSES]
    if failures:
        needed.add(failures[-1].id)  # the first failure since the newest success
    needed.discard("")
    return needed


def _newest(runs: Sequence[_Run], wanted: Callable[[_Run], bool]) -> str:
    """The id of the newest of ``runs`` that ``wanted`` accepts, or ""."""
    return next((r.id for r in runs if wanted(r)), "")
