"""Syncing a source: run rows with counts and checkpoints, resuming a crashed run,
deletion by reconciliation, and permission syncs that never re-embed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acl import entitlements_for, get_group
from core import Acl, document_id
from core.models import Document, DocumentStatus, Source, SyncRun
from ingest import (
    AclChange,
    Change,
    Checkpoint,
    Deleted,
    ListingComplete,
    PermissionSnapshot,
    Seen,
    SourceCredentialsInvalid,
    SyncedGroup,
)
from ingest.connectors import ConnectorFailure
from tests.helpers import hashing_services, text_doc
from workers.services import Services
from workers.sources import get_or_create_source
from workers.reconcile import reconcile_source
from workers.sync import due_sources, sync_permissions, sync_source


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    opened = hashing_services(data_dir, qdrant_url=":memory:")
    yield opened
    opened.close()


@pytest.fixture
def source_id(services: Services) -> str:
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="wiki",
                                    kind="confluence", config={}).id


class Crash(RuntimeError):
    pass


class PagedSource:
    """A fake incremental source: pages of documents, a checkpoint after each page."""

    def __init__(self, pages: list[list[str]], *, crash_on_page: int | None = None,
                 complete: bool = True) -> None:
        self.pages = pages
        self.crash_on_page = crash_on_page
        self.complete = complete
        self.started_from: list[Mapping[str, Any] | None] = []
        self.acl = {e: Acl.of(["everyone"]) for page in pages for e in page}
        self.groups: list[SyncedGroup] = []

    def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]:
        self.started_from.append(checkpoint)
        first = int(checkpoint.get("page", 0)) if checkpoint else 0
        if first >= len(self.pages):  # the last run finished: a new cycle lists again
            first = 0
        for number in range(first, len(self.pages)):
            if number == self.crash_on_page:
                self.crash_on_page = None
                raise Crash("the worker died")
            for external_id in self.pages[number]:
                yield text_doc(external_id, f"Page {external_id} about policies.")
            yield Checkpoint({"page": number + 1})
        if self.complete and first == 0:
            yield ListingComplete()

    def permissions(self) -> PermissionSnapshot:
        return PermissionSnapshot(groups=self.groups,
                                  acls=[AclChange(e, a) for e, a in self.acl.items()])


def runs(services: Services, source_id: str) -> list[SyncRun]:
    with services.sessions() as session:
        return list(session.scalars(select(SyncRun).where(SyncRun.source_id == source_id)
                                    .order_by(SyncRun.started_at)))


def status_of(services: Services, source_id: str, external_id: str) -> str | None:
    with services.sessions() as session:
        row = session.get(Document, document_id(source_id, external_id))
        return None if row is None else row.status


def test_a_crashed_run_is_resumed_from_its_checkpoint_by_the_next(
        services: Services, source_id: str) -> None:
    source = PagedSource([["a", "b"], ["c", "d"], ["e"]], crash_on_page=1)
    with pytest.raises(Crash):
        sync_source(services, source_id=source_id, connector=source, batch_size=1)
    crashed = runs(services, source_id)[-1]
    assert (crashed.status, crashed.checkpoint, crashed.new) == ("failed", {"page": 1}, 2)

    report = sync_source(services, source_id=source_id, connector=source)
    assert source.started_from == [None, {"page": 1}]
    assert report.resumed_from == {"page": 1} and report.checkpoint == {"page": 3}
    assert (report.counts.new, report.counts.seen) == (3, 3)
    assert all(status_of(services, source_id, e) == "indexed" for e in "abcde")


def test_a_run_left_running_by_a_dead_process_is_marked_crashed(
        services: Services, source_id: str) -> None:
    source = PagedSource([["a"], ["b"]])
    with pytest.raises(Crash):  # simulate a kill: the row stays "running"
        sync_source(services, source_id=source_id, connector=source,
                    heartbeat=_raise_on_second_beat())
    with services.sessions() as session, session.begin():
        run = session.scalars(select(SyncRun)).one()
        run.status, run.finished_at = "running", None
    sync_source(services, source_id=source_id, connector=source)
    assert [r.status for r in runs(services, source_id)] == ["crashed", "succeeded"]


def _raise_on_second_beat() -> Any:
    beats = {"n": 0}

    def beat() -> None:
        beats["n"] += 1
        if beats["n"] == 2:
            raise Crash("killed")

    return beat


def test_a_complete_listing_deletes_what_the_source_no_longer_has(
        services: Services, source_id: str) -> None:
    sync_source(services, source_id=source_id, connector=PagedSource([["a", "b", "c"]]))
    report = sync_source(services, source_id=source_id, connector=PagedSource([["a", "c"]]))
    assert (report.counts.deleted, report.counts.unchanged) == (1, 2)
    assert status_of(services, source_id, "b") == DocumentStatus.DELETED


def test_a_resumed_run_never_deletes_what_it_did_not_list(services: Services,
                                                         source_id: str) -> None:
    sync_source(services, source_id=source_id, connector=PagedSource([["a"], ["b"]]))
    with pytest.raises(Crash):
        sync_source(services, source_id=source_id,
                    connector=PagedSource([["a"], ["b"]], crash_on_page=1))
    report = sync_source(services, source_id=source_id, connector=PagedSource([["a"], ["b"]]))
    assert report.resumed_from == {"page": 1} and report.counts.deleted == 0
    assert status_of(services, source_id, "a") == DocumentStatus.INDEXED


def test_explicit_deletions_seen_items_and_failures_are_counted(
        services: Services, source_id: str) -> None:
    sync_source(services, source_id=source_id, connector=PagedSource([["a", "b"]]))

    class Incremental:
        def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]:
            yield Seen("a")
            yield Deleted("b")
            yield ConnectorFailure("big.pdf", "unsupported_mime_type", "no parser")
            yield text_doc("c", "A new page about travel.")
            yield Checkpoint({"since": "2026-11-24T08:00:00Z"})

    report = sync_source(services, source_id=source_id, connector=Incremental())
    counts = report.counts
    assert (counts.seen, counts.unchanged, counts.deleted, counts.failed, counts.new) == (
        3, 1, 1, 1, 1)
    assert status_of(services, source_id, "b") == DocumentStatus.DELETED
    assert status_of(services, source_id, "big.pdf") == DocumentStatus.FAILED
    assert status_of(services, source_id, "a") == DocumentStatus.INDEXED


def test_rejected_credentials_leave_the_run_marked_needs_credentials(
        services: Services, source_id: str) -> None:
    class Locked:
        def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]:
            raise SourceCredentialsInvalid("Confluence answered 401")
            yield  # pragma: no cover

    with pytest.raises(SourceCredentialsInvalid):
        sync_source(services, source_id=source_id, connector=Locked())
    run = runs(services, source_id)[-1]
    assert (run.status, run.error_code) == ("needs_credentials", "source_credentials_invalid")


def test_permission_sync_replaces_synced_groups_and_document_acls_without_reembedding(
        services: Services, source_id: str) -> None:
    source = PagedSource([["a", "b"]])
    group = f"group:{source_id}:g1"
    source.groups = [SyncedGroup(group, frozenset({"user:ann@x.com"}), "Finance")]
    source.acl["a"] = Acl.of([group])
    sync_source(services, source_id=source_id, connector=source)
    first = sync_permissions(services, source_id=source_id, connector=source)
    assert first.counts.new == 1
    with services.sessions() as session:
        assert group in entitlements_for(session, tenant="default",
                                         user_id="user:ann@x.com").principals

    source.groups = [SyncedGroup(group, frozenset({"user:bob@x.com"}), "Finance")]
    source.acl["b"] = Acl.of(["user:carol@x.com"])
    second = sync_permissions(services, source_id=source_id, connector=source)
    assert (second.counts.changed, second.counts.unchanged) == (2, 1)
    with services.sessions() as session:
        assert get_group(session, tenant="default", group_id=group).members == (
            "user:bob@x.com",)
        row = session.get(Document, document_id(source_id, "b"))
        assert row is not None and row.acl_allow == ["user:carol@x.com"]
        assert row.acl_version == 2

    source.groups = []
    third = sync_permissions(services, source_id=source_id, connector=source)
    assert third.counts.deleted == 1


def test_sources_are_due_when_their_interval_has_passed(services: Services,
                                                        source_id: str) -> None:
    with services.sessions() as session:
        assert set(due_sources(session, default_content_s=900, default_permissions_s=300)) \
            == {(source_id, "content"), (source_id, "permissions")}
    sync_permissions(services, source_id=source_id, connector=PagedSource([]))
    with services.sessions() as session:
        assert set(due_sources(session, default_content_s=900,
                               default_permissions_s=300)) == {(source_id, "content")}


def due(services: Services, *, at: datetime) -> set[tuple[str, str]]:
    with services.sessions() as session:
        return set(due_sources(session, default_content_s=900, default_permissions_s=300,
                               default_reconcile_s=6 * 3600, now=at))


def test_the_newest_run_sets_the_next_sync_and_the_first_content_sync_the_reconciliation(
        services: Services, source_id: str) -> None:
    source = PagedSource([["a"]])
    sync_source(services, source_id=source_id, connector=source)
    with services.sessions() as session, session.begin():  # the first sync, a day ago
        [run] = session.scalars(select(SyncRun).where(SyncRun.source_id == source_id))
        run.started_at = run.started_at - timedelta(days=1)
    sync_source(services, source_id=source_id, connector=source)
    now = datetime.now(UTC)
    assert (source_id, "content") not in due(services, at=now + timedelta(minutes=14))
    assert (source_id, "content") in due(services, at=now + timedelta(minutes=16))
    assert (source_id, "reconcile") in due(services, at=now)  # 6 h after the first one


def test_reconciliation_is_due_on_its_own_slower_schedule(services: Services,
                                                           source_id: str) -> None:
    now = datetime.now(UTC)
    # never synced: the first content sync lists everything, no reconciliation is due
    assert (source_id, "reconcile") not in due(services, at=now)
    source = PagedSource([["a", "b"]])
    sync_source(services, source_id=source_id, connector=source)
    sync_permissions(services, source_id=source_id, connector=source)
    # content and permissions come due again long before the reconciliation does
    assert due(services, at=now + timedelta(hours=1)) == {(source_id, "content"),
                                                          (source_id, "permissions")}
    assert (source_id, "reconcile") in due(services, at=now + timedelta(hours=6, seconds=5))
    reconcile_source(services, source_id=source_id, connector=source)
    later = datetime.now(UTC)
    assert (source_id, "reconcile") not in due(services, at=later + timedelta(hours=5))
    assert (source_id, "reconcile") in due(services, at=later + timedelta(hours=6, seconds=1))
    # a source's config overrides the interval; without the setting there is no such kind
    with services.sessions() as session, session.begin():
        row = session.get(Source, source_id)
        assert row is not None
        row.config = {"reconcile_interval_s": 600}
    assert (source_id, "reconcile") in due(services, at=later + timedelta(minutes=11))
    with services.sessions() as session:
        assert all(kind != "reconcile" for _, kind in due_sources(
            session, default_content_s=900, default_permissions_s=300,
            now=later + timedelta(days=7)))


class Listing(PagedSource):
    """Incremental, and lists every id it has (the scheduled reconciliation)."""

    def __init__(self, pages: list[list[str]], *, ids: list[str] | None = None) -> None:
        super().__init__(pages, complete=False)
        self.ids = ids
        self.during_listing: Any = None

    def listing(self) -> Iterator[str]:
        if self.during_listing:
            self.during_listing()
        yield from self.ids if self.ids is not None else [e for p in self.pages for e in p]


def test_reconciliation_deletes_what_incremental_syncs_missed_but_not_what_is_newer(
        services: Services, source_id: str) -> None:
    source = Listing([["a", "b", "c"]])
    sync_source(services, source_id=source_id, connector=source)
    source.ids = ["a", "c"]  # "b" went away and no incremental sync said so

    def a_new_document_arrives_meanwhile() -> None:
        sync_source(services, source_id=source_id, connector=Listing([["d"]]))

    source.during_listing = a_new_document_arrives_meanwhile
    report = reconcile_source(services, source_id=source_id, connector=source)
    assert (report.status, report.counts.seen, report.counts.deleted) == ("succeeded", 2, 1)
    assert status_of(services, source_id, "b") == DocumentStatus.DELETED
    assert status_of(services, source_id, "d") == DocumentStatus.INDEXED  # newer than it
    reconciled = [r for r in runs(services, source_id) if r.kind == "reconcile"]
    assert [(r.status, r.seen, r.deleted) for r in reconciled] == [("succeeded", 2, 1)]


def test_reconciliation_of_a_source_without_an_ids_listing_does_nothing(
        services: Services, source_id: str) -> None:
    source = PagedSource([["a"]])
    sync_source(services, source_id=source_id, connector=source)
    report = reconcile_source(services, source_id=source_id, connector=source)
    assert (report.status, report.counts.seen, report.counts.deleted) == ("succeeded", 0, 0)
    assert status_of(services, source_id, "a") == DocumentStatus.INDEXED


def test_a_source_whose_config_is_broken_gets_a_failed_run_naming_the_problem(
        services: Services) -> None:
    from core.errors import InputError

    with services.sessions() as session, session.begin():
        broken = get_or_create_source(session, tenant="default", name="files",
                                      kind="filesystem", config={}).id
    with pytest.raises(InputError):
        sync_source(services, source_id=broken)
    run = runs(services, broken)[-1]
    assert (run.status, run.error_code) == ("failed", "invalid_input")
    assert "config.root" in (run.error_message or "")
