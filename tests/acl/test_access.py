"""``document_access``: every reader of a document with the chain that admits them, who the
deny entries keep out, and which ACL entries match nobody; always in agreement with
``can-read`` (``explain_document_access``) for every user the tenant knows."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from acl import document_access, explain_document_access, put_group
from core.db import transaction
from core.errors import NotFound
from core.models import Document, DocumentStatus, Source, Tenant

USERS = [f"user:u{i}@x.com" for i in range(5)]
GROUPS = [f"group:g{i}" for i in range(5)]
ENTRIES = [*USERS, *GROUPS, "everyone", "group:ghost", "user:ghost@x.com"]
_serial = itertools.count()


def _tenant_with(sessions: sessionmaker[Session], groups: dict[str, list[str]],
                 allow: list[str], deny: list[str]) -> tuple[str, str]:
    tenant = f"t{next(_serial)}-{uuid.uuid4().hex[:6]}"
    with transaction(sessions) as s:
        s.add(Tenant(id=tenant, acl_epoch=0))
        s.flush()
        for gid in sorted(groups, key=lambda g: int(g.removeprefix("group:g"))):
            put_group(s, tenant=tenant, group_id=gid, members=groups[gid])
        source = Source(id=uuid.uuid4().hex, tenant_id=tenant, name="s", kind="push")
        s.add(source)
        s.flush()
        doc_id = uuid.uuid4().hex
        s.add(Document(id=doc_id, tenant_id=tenant, source_id=source.id, external_id="d",
                       acl_allow=sorted(allow), acl_deny=sorted(deny),
                       status=DocumentStatus.INDEXED))
    return tenant, doc_id


@st.composite
def _graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    """Acyclic by construction: g<i> may hold users and groups g<j> with j < i."""
    groups: dict[str, list[str]] = {}
    for i, gid in enumerate(GROUPS):
        pool = USERS + GROUPS[:i]
        groups[gid] = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
    return groups


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(groups=_graphs(),
       allow=st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=3, unique=True),
       deny=st.lists(st.sampled_from(ENTRIES), max_size=2, unique=True))
def test_readers_are_exactly_whom_can_read_admits_with_the_same_chain(
        sessions: sessionmaker[Session], groups: dict[str, list[str]], allow: list[str],
        deny: list[str]) -> None:
    tenant, doc_id = _tenant_with(sessions, groups, allow, deny)
    with sessions() as s:
        access = document_access(s, tenant=tenant, doc_id=doc_id)
        readers = {r.user_id: r.via for r in access.readers}
        excluded = {x.user_id: x.via for x in access.excluded}
        known = {m for members in groups.values() for m in members if m.startswith("user:")}
        for user in known:
            why = explain_document_access(s, tenant=tenant, user_id=user, doc_id=doc_id)
            assert why.allowed == (user in readers), (user, why, access)
            if why.allowed:
                assert readers[user] == why.via
            elif why.reason == "denied" and user in excluded:
                assert excluded[user] == why.via
    assert set(readers).isdisjoint(excluded)


def test_a_deep_chain_and_its_deny_are_named(sessions: sessionmaker[Session]) -> None:
    groups = {"group:g0": ["user:u0@x.com", "user:u1@x.com"], "group:g1": ["group:g0"],
              "group:g2": ["group:g1", "user:u2@x.com"], "group:g3": ["user:u1@x.com"]}
    tenant, doc_id = _tenant_with(sessions, groups, ["group:g2"], ["group:g3"])
    with sessions() as s:
        access = document_access(s, tenant=tenant, doc_id=doc_id)
    assert [(r.user_id, r.via) for r in access.readers] == [
        ("user:u0@x.com", ("user:u0@x.com", "group:g0", "group:g1", "group:g2")),
        ("user:u2@x.com", ("user:u2@x.com", "group:g2")),
    ]
    assert access.readers[0].reason == "allowed via group:g2 ← group:g1 ← group:g0"
    assert [(x.user_id, x.reason) for x in access.excluded] == [
        ("user:u1@x.com", "denied by group:g3 deny entry")]
    assert [(e.principal, e.users) for e in access.allow] == [("group:g2", 3)]


def test_entries_that_match_nobody_are_reported(sessions: sessionmaker[Session]) -> None:
    tenant, doc_id = _tenant_with(
        sessions, {"group:g0": [], "group:g1": ["user:u1@x.com"]},
        ["group:ghost", "group:g0", "user:nobody@x.com", "group:g1"], ["group:src:missing"])
    with sessions() as s:
        access = document_access(s, tenant=tenant, doc_id=doc_id)
    assert {e.principal: e.status for e in access.allow + access.deny} == {
        "group:ghost": "unknown_group", "group:g0": "empty_group",
        "user:nobody@x.com": "unknown_user", "group:g1": "ok",
        "group:src:missing": "unknown_group"}
    assert set(access.matches_nobody) == {"group:ghost", "group:g0", "user:nobody@x.com",
                                          "group:src:missing"}


def test_a_ten_thousand_entry_acl_is_explained(sessions: sessionmaker[Session]) -> None:
    allow = [f"user:r{i}@x.com" for i in range(5_000)] + [f"group:x{i}" for i in range(5_000)]
    groups = {"group:g0": [f"user:r{i}@x.com" for i in range(0, 5_000, 7)]}
    tenant, doc_id = _tenant_with(sessions, groups, [*allow, "group:g0"], ["user:r7@x.com"])
    with sessions() as s:
        access = document_access(s, tenant=tenant, doc_id=doc_id)
    assert len(access.readers) == 5_000 - 1
    assert [x.user_id for x in access.excluded] == ["user:r7@x.com"]
    assert sum(1 for e in access.allow if e.status == "unknown_group") == 5_000


def test_another_tenants_or_a_deleted_document_reads_as_missing(
        sessions: sessionmaker[Session]) -> None:
    tenant, doc_id = _tenant_with(sessions, {}, ["everyone"], [])
    with sessions() as s, pytest.raises(NotFound):
        document_access(s, tenant="someone-else", doc_id=doc_id)
    with transaction(sessions) as s:
        row = s.get(Document, doc_id)
        assert row is not None
        row.status = DocumentStatus.DELETED
    with sessions() as s, pytest.raises(NotFound):
        document_access(s, tenant=tenant, doc_id=doc_id)
