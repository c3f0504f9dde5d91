"""Pushed content staged in SQL for a worker (``workers.staging``): read back by its tenant
only, dropped once ingested, pruned when no worker took it within a day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core import Acl, RawDocument, document_id
from core.models import StagedContent, utcnow
from workers.messages import content_ref, raw_from_message, raw_to_message
from workers.services import Services
from workers.staging import KEEP_S, discard, prune_staged, stage, staged_content, unstaged

RAW = RawDocument(external_id="handbook", title="Handbook", content=b"Travel rules " * 100,
                  mime_type="text/plain", acl=Acl.of(["group:finance"]))


def test_staged_content_is_read_back_by_its_tenant_only_and_dropped(services: Services
                                                                    ) -> None:
    ref = stage(services.sessions, tenant="acme", content=RAW.content)
    assert staged_content(services.sessions, ref, tenant="acme") == RAW.content
    assert staged_content(services.sessions, ref, tenant="globex") is None
    discard(services.sessions, [ref])
    assert staged_content(services.sessions, ref, tenant="acme") is None


def test_a_message_with_a_reference_carries_no_content() -> None:
    message = raw_to_message(RAW, content_ref="abc123")
    assert "content_b64" not in message and content_ref(message) == "abc123"
    assert raw_from_message(message, staged=RAW.content) == RAW
    with pytest.raises(ValueError):
        raw_from_message(message)
    inline = raw_to_message(RAW)
    assert content_ref(inline) is None and raw_from_message(inline) == RAW


def test_unstaged_reads_staged_documents_and_reports_the_ones_gone(services: Services) -> None:
    ref = stage(services.sessions, tenant="acme", content=RAW.content)
    small = RawDocument(external_id="note", title="Note", content=b"Short note.",
                        mime_type="text/plain", acl=Acl.of(["everyone"]))
    lost = raw_to_message(RawDocument(external_id="lost", title="Lost", content=b"x",
                                      mime_type="text/plain", acl=None), content_ref="gone0")
    raws, gone, refs = unstaged(
        services.sessions, [raw_to_message(RAW, content_ref=ref), raw_to_message(small), lost],
        tenant="acme", source_id="src")
    assert raws == [RAW, small] and refs == [ref]
    assert [(o.doc_id, o.external_id, o.status) for o in gone] == [
        (document_id("src", "lost"), "lost", "failed")]
    assert gone[0].error_message and "push the document again" in gone[0].error_message


def test_content_no_worker_took_within_a_day_is_pruned(services: Services) -> None:
    old = stage(services.sessions, tenant="acme", content=b"old")
    new = stage(services.sessions, tenant="acme", content=b"new")
    with services.sessions.begin() as session:
        session.execute(update(StagedContent).where(StagedContent.id == old).values(
            created_at=utcnow() - timedelta(seconds=KEEP_S + 60)))
    with services.sessions.begin() as session:
        assert prune_staged(session) == 1
    assert staged_content(services.sessions, old, tenant="acme") is None
    assert staged_content(services.sessions, new, tenant="acme") == b"new"
