"""The Celery sync bench runs end to end on 30 pages with the hashing embedder: a real
worker thread on Redis and a fresh PostgreSQL database, the full and incremental syncs'
counts, a narrowed page restriction gone from the reader who lost it, the database dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import celery_sync
from core import Settings

pytestmark = pytest.mark.postgres


def test_celery_sync_bench_syncs_the_space_and_times_a_permission_change(
        tmp_path: Path, postgres_server: str) -> None:
    out = tmp_path / "celery_sync.json"
    args = celery_sync.parse_args([
        "--pages", "30", "--embedder", "hashing", "--pg-url", postgres_server,
        "--cache-dir", str(tmp_path / "cache"), "--timeout-s", "60", "--out", str(out)])
    result = celery_sync.run(args, say=lambda _line: None)

    full = result["full_sync"]
    assert (full["status"], full["seen"], full["new"], full["failed"]) == ("succeeded", 30, 30, 0)
    assert full["documents_by_status"] == {"indexed": 30}
    assert full["chunks"] == full["sql_chunks"] >= 30 and full["documents_per_s"] > 0
    incremental = result["incremental_sync"]
    assert (incremental["seen"], incremental["unchanged"], incremental["new"],
            incremental["deleted"]) == (30, 30, 0, 0)
    change = result["permission_change"]
    assert change["run"]["status"] == "succeeded" and change["run"]["changed"] >= 1
    assert 0 < change["change_to_effect_s"] <= change["change_to_run_finished_s"]
    schedule = result["schedule"]
    defaults = Settings.model_fields
    assert schedule["permissions_interval_s"] == defaults["permissions_interval_s"].default
    assert schedule["schedule_tick_s"] == defaults["schedule_tick_s"].default
    assert schedule["worst_case_delay_s"] == pytest.approx(
        schedule["permissions_interval_s"] + schedule["schedule_tick_s"]
        + change["change_to_effect_s"], abs=0.1)
    assert json.loads(out.read_text())["pages"] == 30
    assert result["database"] not in _databases(postgres_server)  # dropped at the end


def _databases(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT datname FROM pg_database")))
    finally:
        engine.dispose()
