"""The SharePoint (Microsoft Graph) connector against a fake Graph, synced onto real
stores: delta paging, deletions, 410 resync, grantedToV2, org links, transitive groups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acl import get_group
from core import document_id
from core.models import Document, DocumentStatus
from ingest.connectors import SharePointConnector
from tests.connectors.fake_graph import FakeGraph, File, group_grant, org_link, user_grant
from tests.helpers import hashing_services
from workers.services import Services
from workers.sources import get_or_create_source
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
    return SharePointConnector.from_config(
        {"drives": [DRIVE], "tenant_id": "t", "client_id": "c", "client_secret": "s",
         "source_id": source_id, **extra}, max_bytes=1 << 20, transport=graph.transport)


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
