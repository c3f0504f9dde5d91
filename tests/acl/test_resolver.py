"""Cached entitlements never outlive a permission change, whichever process made it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from acl import (
    EntitlementCache,
    EntitlementResolver,
    bump_acl_epoch,
    current_epoch,
    delete_group,
    ensure_tenant,
    entitlements_for,
    put_group,
)
from core.db import make_engine, session_factory, transaction
from core.errors import AclInvalid, NotFound
from core.types import Entitlements, Principal

T = "default"
BOB = Principal(id="user:bob@x.com", tenant=T)
ROOT = Path(__file__).resolve().parents[2]


def _count(engine: Engine) -> list[str]:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    return statements


def _eng_with_bob(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="platform", members=["user:bob@x.com"])
        put_group(s, tenant=T, group_id="eng", members=["group:platform"])


def test_a_cached_answer_costs_one_primary_key_query(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    _eng_with_bob(sessions)
    resolver = EntitlementResolver(sessions)
    statements = _count(engine)
    first = resolver.entitlements_for(BOB)
    misses = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    statements.clear()
    second = resolver.entitlements_for(BOB)
    hits = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert first == second and "group:eng" in second.principals
    assert len(misses) == 2 and len(hits) == 1
    assert "acl_epoch" in hits[0] and "memberships" not in hits[0]
    assert (resolver.cache.hits, resolver.cache.misses) == (1, 1)


def test_removing_a_member_is_effective_for_the_next_call(
    sessions: sessionmaker[Session],
) -> None:
    _eng_with_bob(sessions)
    resolver = EntitlementResolver(sessions)
    assert "group:eng" in resolver.entitlements_for(BOB).principals
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="platform", members=[])
    assert resolver.entitlements_for(BOB).principals == {"user:bob@x.com", "everyone"}


def test_a_change_made_through_another_engine_is_effective_for_the_next_call(
    db_url: str,
) -> None:
    """Two engines, two pools, two caches: as close to two processes as one process gets."""
    ours, theirs = make_engine(db_url), make_engine(db_url)
    try:
        our_resolver = EntitlementResolver(session_factory(ours))
        their_sessions = session_factory(theirs)
        _eng_with_bob(their_sessions)
        assert "group:eng" in our_resolver.entitlements_for(BOB).principals
        assert "group:eng" in our_resolver.entitlements_for(BOB).principals  # now cached
        with transaction(their_sessions) as s:
            delete_group(s, tenant=T, group_id="platform")
        assert our_resolver.entitlements_for(BOB).principals == {"user:bob@x.com", "everyone"}
    finally:
        ours.dispose()
        theirs.dispose()


def test_a_change_committed_by_another_process_is_effective_for_the_next_call(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    try:
        sessions = session_factory(engine)
        _eng_with_bob(sessions)
        resolver = EntitlementResolver(sessions)
        assert "group:eng" in resolver.entitlements_for(BOB).principals
        script = textwrap.dedent(f"""
            from acl import put_group
            from core.db import make_engine, session_factory, transaction
            sessions = session_factory(make_engine({db_url!r}))
            with transaction(sessions) as s:
                put_group(s, tenant={T!r}, group_id="platform", members=["user:ann@x.com"])
        """)
        subprocess.run(
            [sys.executable, "-c", script], check=True, cwd=ROOT, timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert resolver.entitlements_for(BOB).principals == {"user:bob@x.com", "everyone"}
        ann = resolver.entitlements_for(Principal(id="ann@x.com", tenant=T))
        assert {"group:platform", "group:eng"} <= ann.principals
    finally:
        engine.dispose()


def test_a_document_acl_change_bumps_the_epoch_and_empties_the_cache_for_it(
    sessions: sessionmaker[Session],
) -> None:
    _eng_with_bob(sessions)
    resolver = EntitlementResolver(sessions)
    resolver.entitlements_for(BOB)
    with transaction(sessions) as s:
        before = current_epoch(s, T)
        assert bump_acl_epoch(s, T) == before + 1
    resolver.entitlements_for(BOB)
    assert (resolver.cache.hits, resolver.cache.misses) == (0, 2)


def test_a_rolled_back_grant_is_never_served_even_once_its_epoch_is_reused(
    sessions: sessionmaker[Session],
) -> None:
    """The rolled-back change's epoch (E+1) is taken again by the next commit."""
    _eng_with_bob(sessions)
    resolver = EntitlementResolver(sessions)
    with pytest.raises(RuntimeError), transaction(sessions) as s:
        put_group(s, tenant=T, group_id="admins", members=["user:bob@x.com"])
        assert "group:admins" in entitlements_for(s, tenant=T, user_id="bob@x.com").principals
        assert "group:admins" not in resolver.entitlements_for(BOB).principals
        raise RuntimeError("the request failed")
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="admins", members=["user:ann@x.com"])
    assert "group:admins" not in resolver.entitlements_for(BOB).principals


def test_the_resolver_keys_on_tenant_and_normalised_user(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant="acme", group_id="eng", members=["user:bob@x.com"])
    resolver = EntitlementResolver(sessions)
    acme = resolver.entitlements_for(Principal(id="Bob@X.com", tenant="acme"))
    other = resolver.entitlements_for(Principal(id="user:bob@x.com", tenant="globex"))
    again = resolver.entitlements_for(Principal(id="user:BOB@x.com", tenant="acme"))
    assert "group:eng" in acme.principals and acme is again
    assert other.tenant == "globex" and "group:eng" not in other.principals


def test_the_resolver_refuses_a_malformed_user_id(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(AclInvalid):
        EntitlementResolver(sessions).entitlements_for(Principal(id="group:eng", tenant=T))


def test_bump_is_refused_for_a_tenant_without_a_row(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        assert current_epoch(s, "ghost") == 0
        with pytest.raises(NotFound):
            bump_acl_epoch(s, "ghost")
        ensure_tenant(s, "ghost")
        ensure_tenant(s, "ghost")
        assert bump_acl_epoch(s, "ghost") == 1


def _ents(user: str, tenant: str = T) -> Entitlements:
    return Entitlements(tenant=tenant, principals=frozenset({user, "everyone"}))


def test_the_cache_serves_only_the_epoch_it_was_filled_at() -> None:
    cache = EntitlementCache()
    cache.put(_ents("user:a@x.com"), user="user:a@x.com", epoch=3)
    assert cache.get(tenant=T, user="user:a@x.com", epoch=3) == _ents("user:a@x.com")
    assert cache.get(tenant=T, user="user:a@x.com", epoch=4) is None
    assert cache.get(tenant="acme", user="user:a@x.com", epoch=3) is None


def test_an_older_epoch_never_replaces_a_newer_entry() -> None:
    cache = EntitlementCache()
    newer = Entitlements(tenant=T, principals=frozenset({"user:a@x.com"}))
    cache.put(newer, user="user:a@x.com", epoch=5)
    cache.put(_ents("user:a@x.com"), user="user:a@x.com", epoch=4)
    assert cache.get(tenant=T, user="user:a@x.com", epoch=5) is newer


def test_the_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    cache = EntitlementCache(max_entries=2)
    for user in ["user:a@x.com", "user:b@x.com"]:
        cache.put(_ents(user), user=user, epoch=1)
    assert cache.get(tenant=T, user="user:a@x.com", epoch=1) is not None  # a is now recent
    cache.put(_ents("user:c@x.com"), user="user:c@x.com", epoch=1)
    assert len(cache) == 2
    assert cache.get(tenant=T, user="user:b@x.com", epoch=1) is None
    assert cache.get(tenant=T, user="user:a@x.com", epoch=1) is not None
