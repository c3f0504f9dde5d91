"""The SQL re-check: a hit leaves only if its document's row, in the caller's tenant, still
holds that version and admits the caller."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from acl import ensure_tenant
from core import Entitlements, Hit
from core.models import Document, DocumentStatus, Source
from retrieval.recheck import verified_prefix, verify_hits
from tests.helpers import hashing_services


def _doc(session, tenant: str, source: str, name: str, allow: list[str],  # type: ignore[no-untyped-def]
         deny: list[str] | None = None) -> Document:
    doc = Document(id=uuid.uuid4().hex, tenant_id=tenant, source_id=source, external_id=name,
                   title=name, mime_type="text/plain", content_hash=f"v1-{name}",
                   acl_allow=allow, acl_deny=deny or [], acl_version=1,
                   status=DocumentStatus.INDEXED, needs_retry=False, chunk_count=1,
                   doc_metadata={})
    session.add(doc)
    return doc


def _hit(doc: Document, content_hash: str | None = None) -> Hit:
    return Hit(chunk_id=f"c-{doc.id}", doc_id=doc.id, source_id=doc.source_id, score=1.0,
               text="the text", title=doc.title, url=None, ordinal=0,
               content_hash=content_hash or doc.content_hash or "", acl_version=1)


def test_only_current_readable_rows_of_the_callers_tenant_pass(tmp_path: Path) -> None:
    services = hashing_services(tmp_path)
    try:
        with services.sessions() as session, session.begin():
            for tenant in ("acme", "globex"):
                ensure_tenant(session, tenant)
                session.add(Source(id=f"s-{tenant}", tenant_id=tenant, name="s", kind="push"))
            session.flush()
            ok = _doc(session, "acme", "s-acme", "ok", ["group:eng"])
            stale = _doc(session, "acme", "s-acme", "stale", ["group:eng"])
            gone = _doc(session, "acme", "s-acme", "gone", ["group:eng"])
            denied = _doc(session, "acme", "s-acme", "denied", ["group:eng"], ["user:ann@x.com"])
            closed = _doc(session, "acme", "s-acme", "closed", ["group:hr"])
            other = _doc(session, "globex", "s-globex", "other", ["group:eng"])
            session.flush()
            session.execute(update(Document).where(Document.id == gone.id)
                            .values(status=DocumentStatus.DELETED))
            hits = [_hit(ok), _hit(stale, "v0-old"), _hit(gone), _hit(denied), _hit(closed),
                    _hit(other)]
        ann = Entitlements(tenant="acme", principals=frozenset(
            {"user:ann@x.com", "group:eng", "everyone"}))
        bob = Entitlements(tenant="acme", principals=frozenset(
            {"user:bob@x.com", "group:eng", "everyone"}))
        with services.sessions() as session:
            assert [h.doc_id for h in verify_hits(session, hits, entitlements=ann)] == [ok.id]
            assert [h.doc_id for h in verify_hits(session, hits, entitlements=bob)] == [
                ok.id, denied.id]
            nobody = Entitlements(tenant="globex", principals=frozenset({"user:eve@x.com"}))
            assert verify_hits(session, hits, entitlements=nobody) == []
            carol = Entitlements(tenant="globex", principals=frozenset(
                {"user:carol@x.com", "group:eng"}))
            assert [h.doc_id for h in verify_hits(session, hits, entitlements=carol)] == [
                other.id]
    finally:
        services.close()


def _best_per_document(hits: list[Hit]) -> list[Hit]:
    best: dict[str, Hit] = {}
    for hit in hits:
        best.setdefault(hit.doc_id, hit)
    return list(best.values())


@settings(max_examples=300, deadline=None)
@given(docs=st.lists(st.integers(min_value=0, max_value=12), max_size=60),
       failing=st.sets(st.integers(min_value=0, max_value=59)),
       need=st.integers(min_value=1, max_value=15), by_document=st.booleans())
def test_rechecking_only_the_best_slices_shows_what_rechecking_everything_shows(
        docs: list[int], failing: set[int], need: int, by_document: bool) -> None:
    """Candidates best first, some failing the re-check (a stale version, a revoked ACL):
    the first ``need`` documents (or chunks) that survive are the same whether every
    candidate is checked or only slices of the best, and nothing that failed gets out."""
    hits = [Hit(chunk_id=f"c{i}", doc_id=f"d{d}", source_id="s", score=1.0 - i / 100,
                text="", title="", url=None, ordinal=i, content_hash="v", acl_version=1)
            for i, d in enumerate(docs)]
    checked: list[str] = []

    def check(some: Sequence[Hit]) -> list[Hit]:
        checked.extend(h.chunk_id for h in some)
        return [h for h in some if h.ordinal not in failing]

    everything = check(hits)
    checked.clear()
    passed = verified_prefix(hits, check, need=need, by_document=by_document)
    assert not any(h.ordinal in failing for h in passed)
    assert len(checked) == len(set(checked))  # no candidate is checked twice
    if by_document:
        assert _best_per_document(passed)[:need] == _best_per_document(everything)[:need]
    else:
        assert passed[:need] == everything[:need]
