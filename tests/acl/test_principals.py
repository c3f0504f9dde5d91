"""Principal ids have one spelling: parsing canonicalises good ids and names what is wrong."""

from __future__ import annotations

import pytest

from acl import group_principal, parse_principal, parse_user, principal_kind
from core.errors import AclInvalid
from core.types import user_principal


@pytest.mark.parametrize(
    ("raw", "canonical", "kind"),
    [
        ("user:Ann@Example.COM", "user:ann@example.com", "user"),
        ("  USER:ann@example.com ", "user:ann@example.com", "user"),
        ("Ann@Example.com", "user:ann@example.com", "user"),
        ("group:eng", "group:eng", "group"),
        ("Group:Platform-Team_2.0", "group:platform-team_2.0", "group"),
        ("group:confluence:Engineering Team", "group:confluence:Engineering Team",
         "synced_group"),
        ("group:sp01:7F3A-UPPER", "group:sp01:7F3A-UPPER", "synced_group"),
        ("everyone", "everyone", "everyone"),
        ("Everyone", "everyone", "everyone"),
    ],
)
def test_valid_principals_parse_to_one_canonical_spelling(
    raw: str, canonical: str, kind: str
) -> None:
    assert parse_principal(raw) == canonical
    assert principal_kind(canonical) == kind


@pytest.mark.parametrize(
    "raw",
    [
        "", "   ", "bob", "user:", "user:bob", "user:a@b@c", "user:a b@c.com", "user:@x.com",
        "user:a@", "group:", "group:-eng", "group:eng team", "group:é", "group::x",
        "group:src:", "role:admin", "everyone:else", "user:ann\n@x.com", "a@b\x00",
        "group:" + "a" * 200, "user:" + "a" * 320 + "@x.com",
    ],
)
def test_garbage_principals_are_rejected_with_acl_invalid(raw: str) -> None:
    with pytest.raises(AclInvalid) as caught:
        parse_principal(raw)
    assert caught.value.code == "acl_invalid"
    assert caught.value.message


def test_user_parsing_agrees_with_core_normalisation() -> None:
    for raw in ["user:Ann@X.com", "ann@x.COM", " user:ANN@x.com "]:
        assert parse_user(raw) == user_principal(raw) == "user:ann@x.com"


def test_parse_user_refuses_groups_and_everyone() -> None:
    for raw in ["group:eng", "everyone"]:
        with pytest.raises(AclInvalid, match="not a user"):
            parse_user(raw)


def test_group_principal_accepts_a_route_name_or_a_full_id() -> None:
    assert group_principal("eng") == "group:eng"
    assert group_principal("group:Eng") == "group:eng"
    assert group_principal("confluence:Eng") == "group:confluence:Eng"
    for bad in ["", "eng team", "group:"]:
        with pytest.raises(AclInvalid):
            group_principal(bad)
