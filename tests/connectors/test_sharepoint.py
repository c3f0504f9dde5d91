"""The SharePoint (Microsoft Graph) connector against a fake Graph, synced onto real
stores: delta paging, deletions, 410 resync, grantedToV2, org links, transitive groups,
throttling (429/503 with Retry-After), unsupported files, and the ids-only reconciliation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from acl import get_group
from core import document_id
from core.models import Document, DocumentStatus
from ingest import SourceUnavailable
from ingest.connectors import Checkpoint, ConnectorFailure, SharePointConnector
from tests.connectors.fake_graph import FakeGraph, File, group_grant, org_link, user_grant
from tests.helpers import hashing_services
from workers.services import Services
from workers.sources import get_or_create_source
from workers.reconcile import reconcile_source
from workers.sync import sync_permissions, sync_source

DRIVE = "b!drive1"


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    opened = hashing_services(data_dir, qdrant_url=":memory:")
    yield opened
    opened.close()


@pytest.fixture
def source_id(services: Services) -> str:
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="hr-site",
                                    kind="sharepoint", config={"drives": [DRIVE]}).id


@pytest.fixture
def graph() -> FakeGraph:
    graph = FakeGraph(DRIVE)
    graph.groups["g-hr"] = [
        {"@odata.type": "#microsoft.graph.user", "id": "u1", "mail": "Ann@acme.com",
         "userPrincipalName": "ann@acme.com"},
        {"@odata.type": "#microsoft.graph.user", "id": "u2", "mail": None,
         "userPrincipalName": "bob@acme.com"}]
    graph.put(File("f1", "travel.txt", "Travel policy: economy class.",
                   [group_grant("g-hr")]))
    graph.put(File("f2", "bonus.txt", "Bonus policy: paid in March.",
                   [user_grant("carol@acme.com", "write")]))
    graph.put(File("f3", "wiki-link.txt", "Shared by link to two people.",
                   [org_link(["dan@acme.com"])]))
    return graph


def connector(graph: FakeGraph, source_id: str, **extra: Any) -> SharePointConnector:
    """Waits are recorded in ``made.sleeps``, never slept."""
    sleeps: list[float] = []
    made = SharePointConnector.from_config(
        {"drives": [DRIVE], "tenant_id": "t", "client_id": "c", "client_secret": "s",
         "source_id": source_id, **extra}, max_bytes=1 << 20, transport=graph.transport,
        sleep=sleeps.append)
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


def allow_of(services: Services, source_id: str, item: str) -> list[str]:
    with services.sessions() as session:
        row = session.get(Document, document_id(source_id, f"{DRIVE}:{item}"))
        assert row is not None
        return sorted(row.acl_allow)


def status_of(services: Services, source_id: str, item: str) -> str:
    with services.sessions() as session:
        row = session.get(Document, document_id(source_id, f"{DRIVE}:{item}"))
        assert row is not None
        return row.status


def test_full_delta_enumeration_maps_grants_to_principals_and_syncs_groups(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    report = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert report.counts.new == 3
    assert graph.hits[f"/drives/{DRIVE}/root/delta"] == 3  # 5 items, 2 a page
    assert report.checkpoint is not None and "token=" in report.checkpoint["delta_links"][DRIVE]
    assert allow_of(services, source_id, "f1") == [f"group:{source_id}:g-hr"]
    assert allow_of(services, source_id, "f2") == ["user:carol@acme.com"]
    # an organization link grants its recipients, not the whole company, by default
    assert allow_of(services, source_id, "f3") == ["user:dan@acme.com"]
    sync_permissions(services, source_id=source_id, connector=connector(graph, source_id))
    with services.sessions() as session:
        group = get_group(session, tenant="default", group_id=f"group:{source_id}:g-hr")
    assert group.members == ("user:ann@acme.com", "user:bob@acme.com")


def test_org_links_grant_everyone_only_when_configured(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    sync_source(services, source_id=source_id,
                connector=connector(graph, source_id, org_links_grant_everyone=True))
    assert allow_of(services, source_id, "f3") == ["everyone", "user:dan@acme.com"]


def test_the_delta_link_brings_only_changes_and_deletions(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    graph.put(File("f2", "bonus.txt", "Bonus policy: paid in April.",
                   [user_grant("carol@acme.com")]))
    graph.delete("f1")
    graph.hits.clear()
    report = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert (report.counts.changed, report.counts.deleted, report.counts.seen) == (1, 1, 1)
    assert graph.hits[f"/drives/{DRIVE}/items/f3/content"] == 0
    assert status_of(services, source_id, "f1") == DocumentStatus.DELETED


def test_an_expired_delta_token_triggers_a_full_resync_that_reconciles(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    first = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    token = int(first.checkpoint["delta_links"][DRIVE].rsplit("=", 1)[1])  # type: ignore[index]
    graph.expired_tokens.add(token)
    del graph.files["f3"]  # gone, and the expired token can no longer say so
    report = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert report.counts.deleted == 1 and report.counts.unchanged == 2
    assert status_of(services, source_id, "f3") == DocumentStatus.DELETED


def test_a_revoked_grant_is_removed_by_the_next_permission_sync(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    graph.files["f2"].permissions = [user_grant("erin@acme.com")]
    report = sync_permissions(services, source_id=source_id,
                              connector=connector(graph, source_id))
    assert report.counts.changed >= 1
    assert allow_of(services, source_id, "f2") == ["user:erin@acme.com"]


def test_a_refused_client_secret_needs_new_credentials(graph: FakeGraph) -> None:
    from ingest import SourceCredentialsInvalid

    made = SharePointConnector.from_config(
        {"drives": [DRIVE], "bearer_token": "stale", "source_id": "s"}, max_bytes=1 << 20,
        transport=graph.transport)
    with pytest.raises(SourceCredentialsInvalid):
        list(made.documents())


def test_a_crashed_delta_enumeration_resumes_at_its_next_link(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    graph.crash_on = "skip=4"  # the third delta page
    with pytest.raises(RuntimeError):
        sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    graph.log.clear()
    report = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert report.resumed_from is not None and "skip=4" in report.resumed_from["resume"]["next"]
    deltas = [u for u in graph.log if "/root/delta" in u]
    assert deltas and "skip=4" in deltas[0]  # it did not start over
    assert report.counts.new == 1  # f3; f1 and f2 were done before the crash
    assert status_of(services, source_id, "f3") == DocumentStatus.INDEXED
    assert report.checkpoint is not None and "token=" in report.checkpoint["delta_links"][DRIVE]


@pytest.mark.parametrize("status", [429, 503])
def test_a_throttled_request_waits_what_retry_after_says_then_goes_on(
        services: Services, graph: FakeGraph, source_id: str, status: int) -> None:
    graph.throttle_status = status
    graph.throttle[f"/drives/{DRIVE}/root/delta"] = 1  # the listing's first page
    graph.throttle[f"/drives/{DRIVE}/items/f2/content"] = 1  # one file's bytes
    made = connector(graph, source_id)
    report = sync_source(services, source_id=source_id, connector=made)
    assert made.sleeps == [3.0, 3.0]  # type: ignore[attr-defined]
    assert (report.counts.new, report.counts.failed) == (3, 0)
    assert all(status_of(services, source_id, f) == DocumentStatus.INDEXED
               for f in ("f1", "f2", "f3"))


def test_a_retry_after_longer_than_allowed_hands_the_wait_to_the_task_queue(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    graph.retry_after = "120"
    graph.throttle[f"/drives/{DRIVE}/root/delta"] = 1
    made = connector(graph, source_id)  # max_retry_wait_s: 60 by default
    with pytest.raises(SourceUnavailable) as caught:
        sync_source(services, source_id=source_id, connector=made)
    assert caught.value.retry_after_s == 120.0
    assert made.sleeps == []  # type: ignore[attr-defined]


def test_a_three_page_listing_follows_each_next_link_and_keeps_the_final_delta_link(
        graph: FakeGraph, source_id: str) -> None:
    items = list(connector(graph, source_id).changes(None))  # root, folder, 3 files: 2 a page
    deltas = [u for u in graph.log if "/root/delta" in u]
    assert len(deltas) == 3
    assert "skip" not in deltas[0] and "skip=2" in deltas[1] and "skip=4" in deltas[2]
    checkpoints = [i.state for i in items if isinstance(i, Checkpoint)]
    # one after each page: the first two resume at the next link, the third at the next
    # drive; the final one carries the delta link the last page gave
    assert [c["resume"]["next"] for c in checkpoints[:2]] == [
        f"https://graph.microsoft.com/v1.0/drives/{DRIVE}/root/delta?token=0&skip=2",
        f"https://graph.microsoft.com/v1.0/drives/{DRIVE}/root/delta?token=0&skip=4"]
    assert checkpoints[2]["resume"] == {"drive": 1, "next": None}
    assert checkpoints[-1] == {"delta_links": {
        DRIVE: f"https://graph.microsoft.com/v1.0/drives/{DRIVE}/root/delta?token={graph.clock}"}}
    assert checkpoints[0]["delta_links"] == {}  # no delta link before the last page
    # the next run starts from that delta link and finds nothing new
    graph.log.clear()
    again = list(connector(graph, source_id).changes(checkpoints[-1]))
    assert [u for u in graph.log if "/root/delta" in u] == [
        f"https://graph.microsoft.com/v1.0/drives/{DRIVE}/root/delta?token={graph.clock}"]
    assert [i for i in again if not isinstance(i, Checkpoint)] == []


def test_an_unsupported_file_is_recorded_as_failed_and_the_others_are_indexed(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    graph.put(File("f4", "org-chart.png", "\x89PNG not text", [user_grant("ann@acme.com")],
                   mime_type="image/png"))
    graph.put(File("f5", "faq.txt", "FAQ: the canteen opens at noon.",
                   [user_grant("ann@acme.com")]))
    report = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert (report.counts.new, report.counts.failed, report.counts.seen) == (4, 1, 5)
    with services.sessions() as session:
        png = session.get(Document, document_id(source_id, f"{DRIVE}:f4"))
        assert png is not None
        assert (png.status, png.error_code) == (DocumentStatus.FAILED, "unsupported_mime_type")
        assert png.acl_allow == []  # a failed item is readable by nobody
    assert graph.hits[f"/drives/{DRIVE}/items/f4/content"] == 0  # never downloaded
    assert status_of(services, source_id, "f5") == DocumentStatus.INDEXED  # after it
    failure = [i for i in connector(graph, source_id).documents()
               if isinstance(i, ConnectorFailure)]
    assert [(f.external_id, f.code) for f in failure] == [(f"{DRIVE}:f4",
                                                           "unsupported_mime_type")]
    # the scheduled reconciliation lists it too: nothing is deleted
    assert reconcile_source(services, source_id=source_id,
                            connector=connector(graph, source_id)).counts.deleted == 0


def test_the_scheduled_reconciliation_deletes_what_the_delta_missed(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    first = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    del graph.files["f2"]  # gone without a deleted facet: the delta never says so
    missed = sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert missed.counts.deleted == 0 and status_of(services, source_id, "f2") == "indexed"
    graph.log.clear()
    graph.hits.clear()
    report = reconcile_source(services, source_id=source_id,
                              connector=connector(graph, source_id))
    assert (report.kind, report.counts.seen, report.counts.deleted) == ("reconcile", 2, 1)
    assert status_of(services, source_id, "f2") == DocumentStatus.DELETED
    assert status_of(services, source_id, "f1") == DocumentStatus.INDEXED
    # ids only: no bytes, no permissions fetched
    assert all("/items/" not in u for u in graph.log)
    deltas = [unquote(u) for u in graph.log if "/root/delta" in u]
    assert "$select=id,file,deleted" in deltas[0]
    # the content sync's delta link is untouched: the next run is still incremental
    assert first.checkpoint is not None and missed.checkpoint is not None
    graph.log.clear()
    sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    deltas = [u for u in graph.log if "/root/delta" in u]
    assert deltas == [missed.checkpoint["delta_links"][DRIVE]]


def test_a_reconciliation_whose_listing_fails_deletes_nothing(
        services: Services, graph: FakeGraph, source_id: str) -> None:
    sync_source(services, source_id=source_id, connector=connector(graph, source_id))
    del graph.files["f2"]
    graph.crash_on = "skip=2"  # the listing dies on its second page
    with pytest.raises(RuntimeError):
        reconcile_source(services, source_id=source_id, connector=connector(graph, source_id))
    assert all(status_of(services, source_id, f) == DocumentStatus.INDEXED
               for f in ("f1", "f3"))
