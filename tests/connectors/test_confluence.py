"""The Confluence connector against a fake Cloud site, synced by the worker's functions
onto real stores (SQLite + qdrant-client :memory:)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acl import entitlements_for, get_group
from core import document_id
from core.models import Document, DocumentStatus, SyncRun
from ingest import SourceCredentialsInvalid
from ingest.connectors import ConfluenceConnector
from retrieval import Retriever
from tests.connectors.fake_confluence import BASE, T0, FakeConfluence, Page
from tests.helpers import hashing_services
from workers.services import Services
from workers.sources import get_or_create_source
from workers.reconcile import reconcile_source
from workers.sync import sync_permissions, sync_source

ANN, BOB, CAROL = "user:ann@acme.com", "user:bob@acme.com", "user:carol@acme.com"


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    opened = hashing_services(data_dir, qdrant_url=":memory:")
    yield opened
    opened.close()


@pytest.fixture
def source_id(services: Services) -> str:
    with services.sessions() as session, session.begin():
        return get_or_create_source(session, tenant="default", name="wiki", kind="confluence",
                                    config={"base_url": BASE, "spaces": ["HR"]}).id


@pytest.fixture
def site() -> FakeConfluence:
    site = FakeConfluence()
    for account, email in (("acc-ann", "ann@acme.com"), ("acc-bob", "bob@acme.com"),
                           ("acc-carol", "carol@acme.com"), ("acc-hidden", None)):
        site.add_user(account, email)
    site.add_group("g-staff", "staff", ["acc-ann", "acc-bob", "acc-carol"])
    site.add_group("g-hr", "hr-team", ["acc-carol"])
    site.add_space("HR", "65537", readers=[("group", "g-staff")])
    site.add_page(Page("1", "65537", "Travel policy", "<p>Book economy class flights.</p>"))
    site.add_page(Page("2", "65537", "Expenses", "<p>Submit receipts within 30 days.</p>"))
    site.add_page(Page("3", "65537", "Salaries", "<p>Salary bands for every level.</p>",
                       read_groups=["g-hr"]))
    site.add_page(Page("4", "65537", "Salary review", "<p>Salary review calendar.</p>",
                       parent_id="3"))
    site.add_page(Page("5", "65537", "Holidays", "<p>25 days of paid leave.</p>"))
    site.add_page(Page("9", "65537", "Offsite", "<p>The offsite is in Lisbon.</p>",
                       kind="blogpost"))
    for page in site.pages.values():  # page n was last edited n hours before T0
        page.modified = T0 - timedelta(hours=int(page.id))
    return site


def connector(site: FakeConfluence, source_id: str, **extra: Any) -> ConfluenceConnector:
    config = {"base_url": BASE, "spaces": ["HR"], "email": "bot@acme.com",
              "api_token": "t0ken", "source_id": source_id, "page_limit": 2, **extra}
    sleeps: list[float] = []
    made = ConfluenceConnector.from_config(config, max_bytes=1 << 20,
                                           transport=site.transport, sleep=sleeps.append)
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


def readers_of(services: Services, source_id: str, external_id: str) -> list[str]:
    with services.sessions() as session:
        row = session.get(Document, document_id(source_id, external_id))
        assert row is not None
        return sorted(row.acl_allow)


def visible_to(services: Services, user: str, query: str) -> set[str]:
    with services.sessions() as session:
        entitlements = entitlements_for(session, tenant="default", user_id=user)
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions)
    return {h.external_id for h in retriever.search(query, entitlements=entitlements,
                                                    top_k=50).hits}


def full_sync(services: Services, site: FakeConfluence, source_id: str) -> Any:
    made = connector(site, source_id)
    report = sync_source(services, source_id=source_id, connector=made)
    sync_permissions(services, source_id=source_id, connector=connector(site, source_id))
    return report


def test_full_sync_reads_every_listing_page_and_combines_space_and_page_permissions(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    report = sync_source(services, source_id=source_id, connector=connector(site, source_id))
    assert (report.counts.new, report.counts.failed) == (6, 0)
    # 5 pages at 2 per listing page: three requests, not one
    assert site.hits["/wiki/api/v2/spaces/65537/pages"] == 3
    sync_permissions(services, source_id=source_id, connector=connector(site, source_id))
    staff = f"group:{source_id}:g-staff"
    assert readers_of(services, source_id, "page:1") == [staff]
    # restricted to hr-team, inside a space readable by staff: hr-team members in staff
    assert readers_of(services, source_id, "page:3") == [CAROL]
    assert readers_of(services, source_id, "page:4") == [CAROL]  # inherits from page 3
    assert readers_of(services, source_id, "blogpost:9") == [staff]
    with services.sessions() as session:
        group = get_group(session, tenant="default", group_id=staff)
    assert group.members == (ANN, BOB, CAROL) and group.synced
    assert "page:1" in visible_to(services, ANN, "economy class flights")
    assert "page:3" not in visible_to(services, ANN, "salary bands")
    assert "page:3" in visible_to(services, CAROL, "salary bands")


def test_incremental_sync_fetches_only_what_changed_since_the_last_run(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    full_sync(services, site, source_id)
    site.edit("2", "<p>Submit receipts within 60 days.</p>", at=T0 + timedelta(minutes=30))
    site.hits.clear()
    report = sync_source(services, source_id=source_id, connector=connector(site, source_id))
    assert (report.counts.changed, report.counts.unchanged, report.counts.new) == (1, 5, 0)
    assert site.hits["/wiki/api/v2/pages/2"] == 1  # the changed body
    assert site.hits["/wiki/api/v2/pages/1"] == 1  # in the overlap window: fetched again
    assert site.hits["/wiki/api/v2/pages/3"] == site.hits["/wiki/api/v2/pages/5"] == 0
    assert report.checkpoint is not None and report.checkpoint["since"].startswith(
        "2026-11-01T09:30")
    assert "page:2" in visible_to(services, ANN, "receipts within 60 days")


def test_an_edit_inside_the_overlap_window_is_not_missed(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    full_sync(services, site, source_id)
    # saved 2 minutes before the last run's high-water mark (page 1, T0 - 1h) but seen
    # only now (a slow save, clock skew): the overlap window still catches it
    site.edit("5", "<p>27 days of paid leave.</p>", at=T0 - timedelta(hours=1, minutes=2))
    report = sync_source(services, source_id=source_id, connector=connector(site, source_id))
    assert report.counts.changed == 1


def test_a_page_restricted_mid_way_loses_its_readers_at_the_next_permission_sync(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    full_sync(services, site, source_id)
    assert "page:1" in visible_to(services, ANN, "economy class flights")
    site.pages["1"].read_users = ["acc-bob"]
    report = sync_permissions(services, source_id=source_id,
                              connector=connector(site, source_id))
    assert report.counts.changed == 1
    assert readers_of(services, source_id, "page:1") == [BOB]
    assert "page:1" not in visible_to(services, ANN, "economy class flights")
    assert "page:1" in visible_to(services, BOB, "economy class flights")


def test_a_deleted_page_is_gone_after_the_next_cycle(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    full_sync(services, site, source_id)
    del site.pages["5"]
    report = sync_source(services, source_id=source_id, connector=connector(site, source_id))
    assert report.counts.deleted == 1
    with services.sessions() as session:
        row = session.get(Document, document_id(source_id, "page:5"))
        assert row is not None and row.status == DocumentStatus.DELETED
    assert "page:5" not in visible_to(services, ANN, "paid leave")


def test_a_crashed_run_resumes_from_its_checkpoint(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.crash_on = "cursor="  # dies fetching the second listing page
    with pytest.raises(RuntimeError):
        sync_source(services, source_id=source_id, connector=connector(site, source_id))
    with services.sessions() as session:
        crashed = session.scalars(select(SyncRun)).one()
    assert crashed.status == "failed" and crashed.checkpoint is not None
    assert crashed.checkpoint["resume"]["cursor"]
    site.log.clear()
    report = sync_source(services, source_id=source_id, connector=connector(site, source_id))
    assert report.resumed_from == crashed.checkpoint
    listings = [u for u in site.log if "/spaces/65537/pages" in u]
    assert listings and "cursor=" in listings[0]  # it did not start over
    assert report.counts.new == 4  # pages 3-5 and the blog post; 1-2 were done
    with services.sessions() as session:
        indexed = set(session.scalars(select(Document.external_id).where(
            Document.status == DocumentStatus.INDEXED)))
    assert indexed == {"page:1", "page:2", "page:3", "page:4", "page:5", "blogpost:9"}


def test_rate_limited_requests_wait_as_retry_after_says(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.throttle["/wiki/api/v2/spaces/65537/pages"] = 2
    made = connector(site, source_id)
    report = sync_source(services, source_id=source_id, connector=made)
    assert report.counts.new == 6
    assert made.sleeps == [2.0, 2.0]  # type: ignore[attr-defined]


def test_a_503_with_retry_after_is_waited_out_the_same_way(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.throttle_status = 503
    site.throttle["/wiki/api/v2/spaces/65537/pages"] = 1
    site.throttle["/wiki/rest/api/content/3/restriction"] = 1
    made = connector(site, source_id)
    report = sync_source(services, source_id=source_id, connector=made)
    assert (report.counts.new, report.counts.failed) == (6, 0)
    assert made.sleeps == [2.0, 2.0]  # type: ignore[attr-defined]
    assert readers_of(services, source_id, "page:3") == [CAROL]


def test_a_long_retry_after_gives_the_task_queue_the_wait(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    from ingest import SourceUnavailable

    site.throttle["/wiki/api/v2/spaces/65537/pages"] = 1
    made = connector(site, source_id, max_retry_wait_s=1)
    with pytest.raises(SourceUnavailable) as caught:
        sync_source(services, source_id=source_id, connector=made)
    assert caught.value.retry_after_s == 2.0


def test_rejected_credentials_mark_the_source_as_needing_credentials(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.unauthorized = True
    with pytest.raises(SourceCredentialsInvalid):
        sync_source(services, source_id=source_id, connector=connector(site, source_id))
    with services.sessions() as session:
        run = session.scalars(select(SyncRun)).one()
    assert (run.status, run.error_code) == ("needs_credentials", "source_credentials_invalid")


def test_an_unsupported_attachment_is_recorded_and_the_run_goes_on(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.pages["1"].attachments = [
        {"id": "att1", "status": "current", "title": "map.png", "mediaType": "image/png",
         "fileSize": 2048, "downloadLink": "/download/attachments/1/map.png",
         "pageId": "1", "version": {"createdAt": "2026-11-01T09:00:00Z", "number": 1}},
        {"id": "att2", "status": "current", "title": "checklist.md",
         "mediaType": "text/markdown", "fileSize": 40,
         "downloadLink": "/download/attachments/1/checklist.md", "pageId": "1",
         "version": {"createdAt": "2026-11-01T09:00:00Z", "number": 1}},
    ]
    site.files["/download/attachments/1/checklist.md"] = b"# Checklist\n\nPack a passport."
    report = full_sync(services, site, source_id)
    assert (report.counts.new, report.counts.failed) == (7, 1)
    with services.sessions() as session:
        png = session.get(Document, document_id(source_id, "page:1/attachment:att1"))
        assert png is not None and png.error_code == "unsupported_mime_type"
    assert readers_of(services, source_id, "page:1/attachment:att2") == [
        f"group:{source_id}:g-staff"]
    # the next incremental cycle keeps the attachment of the unchanged page
    again = sync_source(services, source_id=source_id, connector=connector(site, source_id))
    assert again.counts.deleted == 0
    assert "page:1/attachment:att2" in visible_to(services, ANN, "passport checklist")


def test_a_restricted_user_whose_email_is_hidden_never_widens_access(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.pages["2"].read_users = ["acc-hidden"]
    full_sync(services, site, source_id)
    assert readers_of(services, source_id, "page:2") == []  # nobody, rather than staff
    assert "page:2" not in visible_to(services, ANN, "receipts")


def test_bearer_token_auth_is_sent_as_is(site: FakeConfluence) -> None:
    seen: list[str] = []

    def handler(request: Any) -> Any:
        seen.append(request.headers["Authorization"])
        return site.handle(request)

    import httpx

    made = ConfluenceConnector.from_config(
        {"base_url": BASE, "spaces": ["HR"], "bearer_token": "pat-123", "source_id": "s"},
        max_bytes=1 << 20, transport=httpx.MockTransport(handler))
    assert sum(1 for _ in made.documents()) == 6
    assert set(seen) == {"Bearer pat-123"}


def test_the_scheduled_reconciliation_lists_ids_only_and_deletes_what_is_gone(
        services: Services, site: FakeConfluence, source_id: str) -> None:
    site.pages["1"].attachments = [
        {"id": "att2", "status": "current", "title": "checklist.md",
         "mediaType": "text/markdown", "fileSize": 40,
         "downloadLink": "/download/attachments/1/checklist.md", "pageId": "1",
         "version": {"createdAt": "2026-11-01T09:00:00Z", "number": 1}}]
    site.files["/download/attachments/1/checklist.md"] = b"# Checklist\n\nPack a passport."
    full_sync(services, site, source_id)
    del site.pages["5"]
    site.log.clear()
    report = reconcile_source(services, source_id=source_id,
                              connector=connector(site, source_id))
    assert (report.counts.seen, report.counts.deleted) == (5, 1)
    with services.sessions() as session:
        gone = session.get(Document, document_id(source_id, "page:5"))
        kept = session.get(Document, document_id(source_id, "page:1/attachment:att2"))
        assert gone is not None and gone.status == DocumentStatus.DELETED
        assert kept is not None and kept.status == DocumentStatus.INDEXED  # its page listed
    # listings only: no body, restriction, attachment or download request
    assert all("/spaces" in u for u in site.log)
    assert not any("body-format" in u for u in site.log)
