"""The path of a document: idempotent writes, atomic version swaps, failures that stay
on their document, ACL changes without re-embedding."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from core import Acl, Entitlements, RawDocument
from core.models import Document
from index.embed import HashingEmbedder
from retrieval import Retriever
from tests.helpers import hashing_services, text_doc
from workers.pipeline import (
    delete_document,
    ingest_batches,
    ingest_documents,
    set_document_acl,
)
from workers.services import Services, build_services
from workers.sources import get_or_create_source

ROOT = Path(__file__).resolve().parents[2]
EVERYBODY = Entitlements(tenant="default", principals=frozenset({"everyone"}))


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += len(texts)
        return super().embed_documents(texts)


def visible_versions(services: Services, doc_id: str, query: str = "policy") -> set[str]:
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions)
    hits = retriever.search(query, entitlements=EVERYBODY, top_k=50,
                            group_by_document=False).hits
    return {h.content_hash for h in hits if h.doc_id == doc_id}


def row(services: Services, doc_id: str) -> Document:
    with services.sessions() as session:
        found = session.get(Document, doc_id)
        assert found is not None
        return found


V1 = "Travel policy version one. Employees fly economy on every flight."
V2 = "Travel policy version two. Employees fly business on long flights."


def test_reingesting_an_unchanged_document_embeds_nothing(data_dir: Path) -> None:
    embedder = CountingEmbedder()
    services = build_services(hashing_services_settings(data_dir), embedder=embedder)
    try:
        with services.sessions() as session, session.begin():
            sid = get_or_create_source(session, tenant="default", name="s", kind="push").id
        first = ingest_documents(services, [text_doc("travel", V1)], tenant="default",
                                 source_id=sid)
        calls = embedder.calls
        again = ingest_documents(services, [text_doc("travel", V1)], tenant="default",
                                 source_id=sid)
        assert first[0].status == "indexed" and again[0].status == "unchanged"
        assert embedder.calls == calls
        assert services.store.count(tenant="default", doc_id=first[0].doc_id) == first[0].chunks
    finally:
        services.close()


def hashing_services_settings(data_dir: Path):  # type: ignore[no-untyped-def]
    from tests.helpers import settings_for

    return settings_for(data_dir)


def test_a_changed_document_replaces_its_old_version(services: Services,
                                                     source_id: str) -> None:
    [first] = ingest_documents(services, [text_doc("travel", V1)], tenant="default",
                               source_id=source_id)
    [second] = ingest_documents(services, [text_doc("travel", V2)], tenant="default",
                                source_id=source_id)
    assert first.doc_id == second.doc_id
    current = row(services, second.doc_id)
    assert visible_versions(services, second.doc_id) == {current.content_hash}
    assert services.store.count(tenant="default", doc_id=second.doc_id) == second.chunks
    assert not current.needs_retry


def test_pipelined_batches_yield_in_order_and_the_later_version_wins(
        services: Services, source_id: str) -> None:
    """``ingest_batches`` prepares batch n+1 while batch n embeds: a bad document still
    fails alone, and a document sent in two consecutive batches ends as the later one."""
    batches = [
        [text_doc("travel", V1), text_doc("leave", "Leave policy: twenty-five days.")],
        [text_doc("travel", V2), RawDocument("empty.txt", "Empty", b"", "text/plain",
                                             Acl.of(["everyone"]))],
        [text_doc("expenses", "Expense policy: receipts within thirty days.")],
    ]
    results = list(ingest_batches(services, iter(batches), tenant="default",
                                  source_id=source_id))
    assert [[o.external_id for o in outcomes] for outcomes in results] == [
        ["travel", "leave"], ["travel", "empty.txt"], ["expenses"]]
    statuses = {(i, o.external_id): o.status for i, r in enumerate(results) for o in r}
    assert statuses[(0, "travel")] in {"indexed", "superseded"}
    assert statuses[(1, "travel")] == "indexed" and statuses[(1, "empty.txt")] == "failed"
    assert statuses[(0, "leave")] == statuses[(2, "expenses")] == "indexed"
    travel = row(services, results[1][0].doc_id)
    assert visible_versions(services, travel.id) == {travel.content_hash}
    assert "business" in " ".join(
        h.text for h in Retriever(store=services.store, embedder=services.embedder,
                                  sessions=services.sessions).search(
            "travel policy", entitlements=EVERYBODY, top_k=5).hits if h.doc_id == travel.id)


def test_pipelined_batches_of_nothing_yield_nothing(services: Services, source_id: str) -> None:
    assert list(ingest_batches(services, iter([]), tenant="default", source_id=source_id)) == []


class Crash(Exception):
    pass


def _crash_at(step: str):  # type: ignore[no-untyped-def]
    def checkpoint(name: str) -> None:
        if name == step:
            raise Crash(step)
    return checkpoint


@pytest.mark.parametrize("step", ["marked", "points_written", "activated"])
def test_a_crash_between_steps_leaves_exactly_one_version_visible(
        services: Services, source_id: str, step: str) -> None:
    [first] = ingest_documents(services, [text_doc("travel", V1)], tenant="default",
                               source_id=source_id)
    old = row(services, first.doc_id).content_hash
    with pytest.raises(Crash):
        ingest_documents(services, [text_doc("travel", V2)], tenant="default",
                         source_id=source_id, checkpoint=_crash_at(step))
    after = row(services, first.doc_id)
    assert after.needs_retry, "an interrupted document is marked for retry"
    versions = visible_versions(services, first.doc_id)
    assert len(versions) == 1
    expected = old if step in {"marked", "points_written"} else after.content_hash
    assert versions == {expected}
    [retry] = ingest_documents(services, [text_doc("travel", V2)], tenant="default",
                               source_id=source_id)
    assert retry.status == ("unchanged" if step == "activated" else "indexed")
    done = row(services, first.doc_id)
    assert not done.needs_retry and done.content_hash != old
    assert services.store.count(tenant="default", doc_id=first.doc_id) == done.chunk_count


def test_a_failed_point_write_keeps_the_old_version_and_marks_retry(
        services: Services, source_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    [first] = ingest_documents(services, [text_doc("travel", V1)], tenant="default",
                               source_id=source_id)
    old = row(services, first.doc_id).content_hash

    def broken(_points: object) -> None:
        raise ConnectionError("store down")

    monkeypatch.setattr(services.store, "upsert", broken)
    [outcome] = ingest_documents(services, [text_doc("travel", V2)], tenant="default",
                                 source_id=source_id)
    monkeypatch.undo()
    assert outcome.status == "failed" and outcome.error_code == "store_unavailable"
    assert row(services, first.doc_id).needs_retry
    assert visible_versions(services, first.doc_id) == {old}


KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from tests.helpers import hashing_services, text_doc
    from workers.pipeline import ingest_documents

    def checkpoint(name):
        if name == {step!r}:
            os._exit(17)

    services = hashing_services(Path({data_dir!r}))
    ingest_documents(services, [text_doc("travel", {text!r})], tenant="default",
                     source_id={source_id!r}, checkpoint=checkpoint)
    os._exit(0)
""")


@pytest.mark.parametrize("step", ["marked", "points_written", "activated"])
def test_a_killed_process_leaves_exactly_one_version_visible(data_dir: Path,
                                                              step: str) -> None:
    services = hashing_services(data_dir)
    with services.sessions() as session, session.begin():
        sid = get_or_create_source(session, tenant="default", name="s", kind="push").id
    [first] = ingest_documents(services, [text_doc("travel", V1)], tenant="default",
                               source_id=sid)
    old = row(services, first.doc_id).content_hash
    services.close()
    script = KILL_SCRIPT.format(root=str(ROOT), step=step, data_dir=str(data_dir), text=V2,
                                source_id=sid)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert killed.returncode == 17, killed.stderr.decode()[-2000:]
    services = hashing_services(data_dir)
    try:
        after = row(services, first.doc_id)
        assert after.needs_retry
        versions = visible_versions(services, first.doc_id)
        assert len(versions) == 1
        assert versions == ({old} if step != "activated" else {after.content_hash})
    finally:
        services.close()


def test_bad_documents_fail_alone_with_stable_codes(data_dir: Path) -> None:
    services = hashing_services(data_dir, max_upload_bytes=10_000)
    try:
        with services.sessions() as session, session.begin():
            sid = get_or_create_source(session, tenant="default", name="s", kind="push").id
        everyone = Acl.of(["everyone"])
        batch = [
            text_doc("good-1", "Expense policy: receipts are due within thirty days."),
            RawDocument("corrupt.pdf", "Corrupt", b"%PDF-1.7\n garbage \x00\x01", "application/pdf", everyone),
            RawDocument("binary.txt", "Binary", bytes(range(256)) * 4, "text/plain", everyone),
            RawDocument("latin1.txt", "Latin-1", "café policy".encode("latin-1"), "text/plain", everyone),
            RawDocument("empty.txt", "Empty", b"", "text/plain", everyone),
            RawDocument("huge.txt", "Huge", b"policy " * 5_000, "text/plain", everyone),
            text_doc("good-2", "Holiday policy: twenty-five days of paid leave per year."),
        ]
        outcomes = {o.external_id: o for o in ingest_documents(services, batch,
                                                              tenant="default", source_id=sid)}
        assert outcomes["good-1"].status == outcomes["good-2"].status == "indexed"
        codes = {k: o.error_code for k, o in outcomes.items() if o.status == "failed"}
        assert codes == {
            "corrupt.pdf": "document_unparseable", "binary.txt": "document_unparseable",
            "latin1.txt": "document_encoding_invalid", "empty.txt": "document_empty",
            "huge.txt": "payload_too_large",
        }
        for external_id, code in codes.items():
            failed = row(services, outcomes[external_id].doc_id)
            assert failed.status == "failed" and failed.error_code == code
            assert failed.error_message
            assert services.store.count(tenant="default", doc_id=failed.id) == 0
            assert visible_versions(services, failed.id) == set()
    finally:
        services.close()


def test_acl_change_rewrites_payloads_without_embedding(data_dir: Path) -> None:
    embedder = CountingEmbedder()
    services = build_services(hashing_services_settings(data_dir), embedder=embedder)
    try:
        with services.sessions() as session, session.begin():
            sid = get_or_create_source(session, tenant="default", name="s", kind="push").id
        [doc] = ingest_documents(services, [text_doc("travel", V1, allow=("group:hr",))],
                                 tenant="default", source_id=sid)
        calls = embedder.calls
        hr = Entitlements(tenant="default", principals=frozenset({"group:hr", "everyone"}))
        eng = Entitlements(tenant="default", principals=frozenset({"group:eng", "everyone"}))
        retriever = Retriever(store=services.store, embedder=services.embedder,
                              sessions=services.sessions)

        def sees(who: Entitlements) -> bool:
            return any(h.doc_id == doc.doc_id for h in
                       retriever.search("travel policy", entitlements=who, top_k=10).hits)

        assert sees(hr) and not sees(eng)
        set_document_acl(services, tenant="default", doc_id=doc.doc_id, acl=Acl.of(["group:eng"]))
        assert sees(eng) and not sees(hr)
        [again] = ingest_documents(services, [text_doc("travel", V1, allow=("group:hr",))],
                                   tenant="default", source_id=sid)
        assert again.status == "acl_updated"
        assert sees(hr) and not sees(eng)
        assert embedder.calls == calls, "an ACL change never re-embeds"
        delete_document(services, tenant="default", doc_id=doc.doc_id)
        assert not sees(hr)
        assert services.store.count(tenant="default", doc_id=doc.doc_id) == 0
    finally:
        services.close()
