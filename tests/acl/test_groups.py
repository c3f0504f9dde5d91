"""Group administration on both SQL engines: what an admin can rely on."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acl import (
    current_epoch,
    delete_group,
    entitlements_for,
    get_group,
    list_groups,
    put_group,
)
from core.db import transaction
from core.errors import AclInvalid, Conflict, Forbidden, GroupCycle, InputError, NotFound
from core.models import Group, Membership, Source, Tenant

T = "default"


def _snapshot(sessions: sessionmaker[Session]) -> tuple[set[tuple[str, ...]], int]:
    """Every group and membership row of the database, and the tenant's epoch."""
    with sessions() as s:
        groups = {(g.tenant_id, g.id) for g in s.scalars(select(Group))}
        rows = {(m.tenant_id, m.group_id, m.member_id) for m in s.scalars(select(Membership))}
        return groups | rows, current_epoch(s, T)


def _put(sessions: sessionmaker[Session], group_id: str, members: list[str]) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id=group_id, members=members)


def test_put_group_creates_the_group_with_normalised_members(
    sessions: sessionmaker[Session],
) -> None:
    _put(sessions, "group:platform", [])
    with transaction(sessions) as s:
        info = put_group(
            s, tenant=T, group_id="eng",
            members=["user:Bob@X.com", "ann@x.com", "group:platform", "ann@X.com"],
            display_name="Engineering",
        )
    assert info.id == "group:eng"
    assert info.members == ("group:platform", "user:ann@x.com", "user:bob@x.com")
    assert info.display_name == "Engineering" and not info.synced
    with sessions() as s:
        assert get_group(s, tenant=T, group_id="group:eng") == info


def test_put_group_replaces_the_member_list(sessions: sessionmaker[Session]) -> None:
    _put(sessions, "group:eng", ["user:a@x.com", "user:b@x.com"])
    _put(sessions, "group:eng", ["user:b@x.com", "user:c@x.com"])
    with sessions() as s:
        assert get_group(s, tenant=T, group_id="eng").members == (
            "user:b@x.com", "user:c@x.com",
        )
        assert "group:eng" not in entitlements_for(s, tenant=T, user_id="a@x.com").principals


def test_put_group_keeps_the_display_name_when_none_is_given(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="eng", members=[], display_name="Engineering")
    _put(sessions, "eng", ["user:a@x.com"])
    with sessions() as s:
        assert get_group(s, tenant=T, group_id="eng").display_name == "Engineering"


def test_every_group_change_bumps_the_tenant_epoch(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert current_epoch(s, T) == 0
    _put(sessions, "group:eng", ["user:a@x.com"])
    _put(sessions, "group:eng", ["user:b@x.com"])
    with transaction(sessions) as s:
        delete_group(s, tenant=T, group_id="eng")
    with sessions() as s:
        assert current_epoch(s, T) == 3


@pytest.mark.parametrize(
    ("setup", "group_id", "members"),
    [
        ([], "group:a", ["group:a"]),
        ([("group:a", [])], "group:a", ["user:u@x.com", "group:a"]),
        ([("group:a", []), ("group:b", ["group:a"])], "group:a", ["group:b"]),
        (
            [("group:a", []), ("group:b", ["group:a"]), ("group:c", ["group:b"]),
             ("group:d", ["group:c"])],
            "group:a",
            ["user:u@x.com", "group:d"],
        ),
    ],
    ids=["self-membership-of-a-new-group", "self", "direct", "indirect"],
)
def test_a_cycle_is_rejected_and_nothing_changes(
    sessions: sessionmaker[Session],
    setup: list[tuple[str, list[str]]],
    group_id: str,
    members: list[str],
) -> None:
    for gid, gm in setup:
        _put(sessions, gid, gm)
    before = _snapshot(sessions)
    with pytest.raises(GroupCycle) as caught:
        _put(sessions, group_id, members)
    assert caught.value.code == "group_cycle" and group_id in caught.value.message
    assert _snapshot(sessions) == before


def test_the_cycle_message_names_the_loop(sessions: sessionmaker[Session]) -> None:
    _put(sessions, "group:a", [])
    _put(sessions, "group:b", ["group:a"])
    _put(sessions, "group:c", ["group:b"])
    with pytest.raises(GroupCycle) as caught:
        _put(sessions, "group:a", ["group:c"])
    assert "group:c contains group:b contains group:a contains group:c" in caught.value.message


def test_diamond_nesting_is_not_a_cycle(sessions: sessionmaker[Session]) -> None:
    _put(sessions, "group:base", ["user:u@x.com"])
    _put(sessions, "group:left", ["group:base"])
    _put(sessions, "group:right", ["group:base"])
    _put(sessions, "group:top", ["group:left", "group:right"])
    with sessions() as s:
        assert "group:top" in entitlements_for(s, tenant=T, user_id="u@x.com").principals


def test_unknown_member_groups_are_created_empty_and_grant_nothing(
    sessions: sessionmaker[Session],
) -> None:
    _put(sessions, "group:a", ["group:b"])
    with sessions() as s:
        assert get_group(s, tenant=T, group_id="group:b").members == ()
        assert "group:a" not in entitlements_for(s, tenant=T, user_id="x@y.com").principals
    with pytest.raises(GroupCycle):
        _put(sessions, "group:b", ["group:a"])


def test_unknown_synced_member_groups_are_refused_by_name_and_nothing_changes(
    sessions: sessionmaker[Session],
) -> None:
    _put(sessions, "group:eng", ["user:a@x.com"])
    before = _snapshot(sessions)
    with pytest.raises(AclInvalid, match=r"group:wiki:devs.*only their source"):
        _put(sessions, "group:eng", ["user:a@x.com", "group:wiki:devs"])
    assert _snapshot(sessions) == before


def test_invalid_members_are_all_named_in_one_error(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(AclInvalid) as caught:
        _put(sessions, "group:eng", ["bob", "user:ok@x.com", "role:x", "everyone"])
    message = caught.value.message
    assert "'bob'" in message and "'role:x'" in message and "everyone" in message
    assert _snapshot(sessions) == (set(), 0)


def test_a_single_string_is_not_a_member_list(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(AclInvalid, match="list"):
        _put(sessions, "group:eng", "user:a@x.com")  # type: ignore[arg-type]


def test_delete_group_removes_it_from_every_parent(sessions: sessionmaker[Session]) -> None:
    _put(sessions, "group:platform", ["user:bob@x.com"])
    _put(sessions, "group:eng", ["group:platform", "user:ann@x.com"])
    with transaction(sessions) as s:
        delete_group(s, tenant=T, group_id="platform")
    _put(sessions, "group:platform", ["user:bob@x.com"])  # same name, new group
    with sessions() as s:
        assert get_group(s, tenant=T, group_id="eng").members == ("user:ann@x.com",)
        principals = entitlements_for(s, tenant=T, user_id="bob@x.com").principals
    assert principals == {"user:bob@x.com", "group:platform", "everyone"}


def test_missing_groups_are_not_found(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        with pytest.raises(NotFound):
            get_group(s, tenant=T, group_id="ghost")
        with pytest.raises(NotFound):
            delete_group(s, tenant=T, group_id="ghost")


def _add_source(sessions: sessionmaker[Session], source_id: str) -> None:
    with transaction(sessions) as s:
        if s.get(Tenant, T) is None:
            s.add(Tenant(id=T, acl_epoch=0))
            s.flush()
        s.add(Source(id=source_id, tenant_id=T, name=source_id, kind="confluence"))


def test_synced_groups_are_read_only_to_admin_functions(
    sessions: sessionmaker[Session],
) -> None:
    _add_source(sessions, "conf")
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="group:conf:Eng", members=["user:a@x.com"],
                  source_id="conf", allow_synced=True)
    before = _snapshot(sessions)
    with pytest.raises(Forbidden, match="read-only"):
        _put(sessions, "group:conf:Eng", [])
    with pytest.raises(Forbidden, match="read-only"), transaction(sessions) as s:
        delete_group(s, tenant=T, group_id="group:conf:Eng")
    assert _snapshot(sessions) == before
    with sessions() as s:
        info = get_group(s, tenant=T, group_id="group:conf:Eng")
    assert info.synced and info.members == ("user:a@x.com",)


def test_admins_cannot_create_groups_in_the_synced_namespace(
    sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(Forbidden):
        _put(sessions, "group:conf:Eng", [])


def test_a_sync_may_nest_its_groups_and_admins_may_nest_synced_groups(
    sessions: sessionmaker[Session],
) -> None:
    _add_source(sessions, "conf")
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="group:conf:Dev", members=["user:a@x.com"],
                  source_id="conf", allow_synced=True)
        put_group(s, tenant=T, group_id="group:conf:Eng", members=["group:conf:Dev"],
                  source_id="conf", allow_synced=True)
    _put(sessions, "group:all-eng", ["group:conf:Eng"])
    with sessions() as s:
        assert entitlements_for(s, tenant=T, user_id="a@x.com").principals == {
            "user:a@x.com", "group:conf:Dev", "group:conf:Eng", "group:all-eng", "everyone",
        }


def test_a_sync_may_not_overwrite_a_managed_or_foreign_group(
    sessions: sessionmaker[Session],
) -> None:
    _add_source(sessions, "conf")
    _add_source(sessions, "sp")
    _put(sessions, "group:eng", [])
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="group:conf:Eng", members=[],
                  source_id="conf", allow_synced=True)
    for gid in ["group:eng", "group:conf:Eng"]:
        with pytest.raises(Conflict), transaction(sessions) as s:
            put_group(s, tenant=T, group_id=gid, members=[], source_id="sp",
                      allow_synced=True)


def test_list_groups_pages_through_every_group_once(sessions: sessionmaker[Session]) -> None:
    names = [f"team-{i:02d}" for i in range(23)]
    with transaction(sessions) as s:
        for name in names:
            put_group(s, tenant=T, group_id=name, members=[f"user:{name}@x.com"])
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        with sessions() as s:
            page, cursor = list_groups(s, tenant=T, limit=10, cursor=cursor)
        pages += 1
        seen.extend(g.id for g in page)
        assert all(len(g.members) == 1 for g in page)
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(f"group:{n}" for n in names)


def test_list_groups_keyset_survives_deletes_between_pages(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        for name in "abcdef":
            put_group(s, tenant=T, group_id=name, members=[])
    with sessions() as s:
        first, cursor = list_groups(s, tenant=T, limit=2)
    with transaction(sessions) as s:
        delete_group(s, tenant=T, group_id="b")
        delete_group(s, tenant=T, group_id="c")
    with sessions() as s:
        second, _ = list_groups(s, tenant=T, limit=2, cursor=cursor)
    assert [g.id for g in first] == ["group:a", "group:b"]
    assert [g.id for g in second] == ["group:d", "group:e"]


def test_list_groups_searches_id_and_display_name_case_insensitively(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="eng", members=[], display_name="Engineering")
        put_group(s, tenant=T, group_id="sales", members=[], display_name="Revenue")
        put_group(s, tenant=T, group_id="eng_ops", members=[])
        put_group(s, tenant=T, group_id="engXops", members=[])
    with sessions() as s:
        assert [g.id for g in list_groups(s, tenant=T, q="ENG")[0]] == [
            "group:eng", "group:eng_ops", "group:engxops",
        ]
        assert [g.id for g in list_groups(s, tenant=T, q="revenue")[0]] == ["group:sales"]
        # LIKE wildcards in q are literal characters
        assert [g.id for g in list_groups(s, tenant=T, q="g_o")[0]] == ["group:eng_ops"]
        assert list_groups(s, tenant=T, q="%")[0] == []


def test_list_groups_refuses_a_bad_limit_or_cursor(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        for limit in (0, 501):
            with pytest.raises(InputError, match="limit"):
                list_groups(s, tenant=T, limit=limit)
        with pytest.raises(InputError, match="cursor"):
            list_groups(s, tenant=T, cursor="!!not-base64\xff")


def test_groups_of_one_tenant_are_invisible_to_another(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant="acme", group_id="eng", members=["user:a@x.com"])
    with sessions() as s:
        assert list_groups(s, tenant=T) == ([], None)
        with pytest.raises(NotFound):
            get_group(s, tenant=T, group_id="eng")


def test_concurrent_edits_cannot_combine_into_a_cycle(sessions: sessionmaker[Session]) -> None:
    """Each edit alone is fine; together they loop. The second waits and is refused."""
    _put(sessions, "group:a", [])
    _put(sessions, "group:b", [])
    outcome: list[Exception | None] = []

    def second_edit() -> None:
        try:
            _put(sessions, "group:b", ["group:a"])
            outcome.append(None)
        except Exception as exc:  # handed to the main thread to assert on
            outcome.append(exc)

    with transaction(sessions) as first:
        put_group(first, tenant=T, group_id="group:a", members=["group:b"])
        other = threading.Thread(target=second_edit)
        other.start()
        time.sleep(0.3)  # the second edit is now waiting on the tenant's lock
        assert outcome == []
    other.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], GroupCycle), outcome
    with sessions() as s:
        assert get_group(s, tenant=T, group_id="b").members == ()
