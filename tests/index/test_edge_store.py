"""EdgeStore lifecycle: one process per shard, the lock released on close, data kept."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import EVERYONE
from core.errors import StoreLocked, StoreUnavailable
from index.store import EdgeStore

from ..contracts.store_kit import DIMS, ask, caller, doc, fast_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shard_dir(tmp_path: Path) -> Iterator[Path]:
    with fast_dir(tmp_path) as where:
        yield where / "edge"


def test_second_store_on_the_same_path_is_refused_with_store_locked(shard_dir: Path) -> None:
    first = EdgeStore(shard_dir, dimensions=DIMS)
    first.warm_up()
    try:
        with pytest.raises(StoreLocked) as caught:
            EdgeStore(shard_dir, dimensions=DIMS).warm_up()
        assert "clearance ingest --server" in caught.value.message
        assert caught.value.code == "store_locked"
    finally:
        first.close()


def test_another_process_cannot_open_a_held_shard(shard_dir: Path) -> None:
    holder = EdgeStore(shard_dir, dimensions=DIMS)
    holder.warm_up()
    script = textwrap.dedent(f"""
        from pathlib import Path
        from core.errors import StoreLocked
        from index.store import EdgeStore
        try:
            EdgeStore(Path({str(shard_dir)!r}), dimensions={DIMS}).warm_up()
        except StoreLocked:
            print("locked")
        else:
            print("opened")
    """)
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             cwd=REPO, check=True, timeout=60)
        assert out.stdout.strip() == "locked"
    finally:
        holder.close()


def test_close_releases_the_lock_and_points_survive_a_reopen(shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS)
    store.warm_up()
    store.upsert(doc("kept", "Disaster recovery runbook for the payments cluster."))
    store.close()
    store.close()  # twice is fine

    reopened = EdgeStore(shard_dir, dimensions=DIMS)
    reopened.warm_up()
    try:
        assert reopened.count(tenant="acme") == 1
        hits = reopened.search(ask("payments runbook", "hybrid"), entitlements=caller(EVERYONE))
        assert [h.external_id for h in hits] == ["kept"]
    finally:
        reopened.close()


def test_reopening_with_other_dimensions_names_the_fix(shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS)
    store.warm_up()
    store.close()
    with pytest.raises(StoreUnavailable) as caught:
        EdgeStore(shard_dir, dimensions=DIMS * 2).warm_up()
    assert "CLEARANCE_DATA_DIR" in caught.value.message


def test_using_a_store_before_warm_up_names_the_fix(shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS)
    with pytest.raises(StoreUnavailable, match="warm_up"):
        store.count(tenant="acme")
    assert not shard_dir.exists()  # the constructor touched nothing


def test_writes_are_visible_to_the_next_query_without_flush(shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS)
    store.warm_up()
    try:
        for i in range(3):
            store.upsert(doc(f"d{i}", f"incident {i} postmortem"))
            assert store.count(tenant="acme") == i + 1
            assert len(store.search(ask("postmortem", "keyword"),
                                    entitlements=caller(EVERYONE))) == i + 1
    finally:
        store.close()


def test_optimize_keeps_results(shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS)
    store.warm_up()
    try:
        points = []
        for i in range(200):
            points += doc(f"d{i}", f"note {i} about topic {i % 7} and QX{i}Z")
        store.upsert(points)
        before = store.search(ask("QX42Z", "hybrid"), entitlements=caller(EVERYONE))
        store.optimize()
        after = store.search(ask("QX42Z", "hybrid"), entitlements=caller(EVERYONE))
        assert after[0].external_id == before[0].external_id == "d42"
    finally:
        store.close()


def test_wrong_dimension_is_refused_before_the_engine(shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS + 1)
    store.warm_up()
    try:
        with pytest.raises(ValueError, match="dimensions"):
            store.upsert(doc("x", "text"))
    finally:
        store.close()


def test_page_in_reads_the_shard_files_within_the_budget_and_changes_no_result(
        shard_dir: Path) -> None:
    store = EdgeStore(shard_dir, dimensions=DIMS)
    store.warm_up()
    try:
        store.upsert(doc("board-minutes", "Quarterly board minutes on the merger.",
                         allow=["group:board"]))
        store.upsert(doc("handbook", "The handbook covers holidays."))
        sizes = sorted(p.stat().st_size for p in shard_dir.rglob("*") if p.is_file())
        assert store.page_in(budget_bytes=0) == 0
        assert store.page_in(budget_bytes=sizes[0] + sizes[1]) == sizes[0] + sizes[1]
        assert store.page_in(budget_bytes=sum(sizes) * 2) == sum(sizes)
        assert store.page_in(budget_bytes=sum(sizes), seconds=0) == 0  # out of time

        merger = ask("board minutes merger", "hybrid")
        outsider = store.search(merger, entitlements=caller(EVERYONE, "user:eve"), top_k=10)
        assert all("board" not in hit.text for hit in outsider)
        member = store.search(merger, entitlements=caller(EVERYONE, "group:board"), top_k=10)
        assert "merger" in member[0].text
    finally:
        store.close()
