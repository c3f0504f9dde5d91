"""Principal ids compare as the permission code compares them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core import Acl, normalize_principal


def test_managed_groups_and_users_compare_case_insensitively() -> None:
    acl = Acl.of(["Group:Engineering", "USER:Ann@X.com"], ["group:Contractors"])
    assert acl.allow == {"group:engineering", "user:ann@x.com"}
    assert acl.deny == {"group:contractors"}
    assert not acl.permits(frozenset({"group:engineering", "group:contractors"}))


def test_synced_group_ids_keep_their_spelling() -> None:
    assert normalize_principal("group:wiki:Team-42") == "group:wiki:Team-42"
    assert normalize_principal(" Everyone ") == "everyone"


@given(st.frozensets(st.sampled_from(["a", "b", "c", "everyone"])),
       st.frozensets(st.sampled_from(["a", "b", "c"])),
       st.frozensets(st.sampled_from(["a", "b", "c", "everyone"])))
def test_deny_always_beats_allow(allow: frozenset[str], deny: frozenset[str],
                                 held: frozenset[str]) -> None:
    acl = Acl.of(list(allow), list(deny))
    if acl.deny & held:
        assert not acl.permits(held)
    else:
        assert acl.permits(held) == bool(acl.allow & held)
