"""Every admin permission change leaves one audit row: who, what, before and after."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

BOB, CAROL = "user:bob@x.com", "user:carol@x.com"


def _rows(api: Api, kind: str) -> list[dict[str, Any]]:
    response = api.call("GET", "/v1/audit", params={"kind": kind})
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def test_group_changes_record_members_before_and_after(api: Api) -> None:
    api.group("eng", [BOB])
    api.group("eng", [CAROL, "group:platform"])
    api.call("DELETE", "/v1/groups/eng")
    replaced, created = _rows(api, "group.put")  # newest first
    assert created["detail"] == {"before": None, "after": {"members": [BOB]}}
    assert replaced["detail"] == {"before": {"members": [BOB]},
                                  "after": {"members": ["group:platform", CAROL]}}
    assert replaced["caller"] == "bootstrap-admin" and replaced["target"] == "group:eng"
    (deleted,) = _rows(api, "group.delete")
    assert deleted["detail"] == {"before": {"members": ["group:platform", CAROL]},
                                 "after": None}


def test_document_acl_change_and_delete_record_before_and_after(api: Api) -> None:
    source = api.source()
    doc = api.put_doc(source, "memo", "Memo text.", allow=["group:board"])["doc_id"]
    admin = api.key(scopes=["admin"])
    response = api.call("PUT", f"/v1/sources/{source}/documents/memo/acl", key=admin,
                        json={"allow": [BOB], "deny": ["group:temps"]})
    assert response.status_code == 200, response.text
    (change,) = _rows(api, "document.acl")
    assert change["target"] == doc and change["caller"].startswith("key:")
    before, after = change["detail"]["before"], change["detail"]["after"]
    assert (before["allow"], before["deny"]) == (["group:board"], [])
    assert (after["allow"], after["deny"]) == ([BOB], ["group:temps"])
    assert after["acl_version"] == before["acl_version"] + 1
    api.call("DELETE", f"/v1/sources/{source}/documents/memo")
    (deleted,) = _rows(api, "document.delete")
    assert deleted["detail"]["before"]["allow"] == [BOB]
    assert deleted["detail"]["after"] == {"status": "deleted"}


def test_a_re_push_records_the_acl_it_asks_for(api: Api) -> None:
    source = api.source()
    api.put_doc(source, "memo", "Memo text.", allow=["group:board"])
    api.put_doc(source, "memo", "Memo text.", allow=["everyone"])
    latest = _rows(api, "document.put")[0]
    assert latest["detail"]["before"]["allow"] == ["group:board"]
    assert latest["detail"]["after"] == {"allow": ["everyone"], "deny": []}


def test_source_delete_records_what_was_removed(api: Api) -> None:
    source = api.source("hr-wiki")
    api.put_doc(source, "a", "Text a.", allow=["everyone"])
    api.call("DELETE", f"/v1/sources/{source}")
    (deleted,) = _rows(api, "source.delete")
    assert deleted["detail"]["before"] == {"name": "hr-wiki", "kind": "push", "documents": 1}
    assert deleted["detail"]["after"] is None


def test_a_refused_change_leaves_no_audit_row_and_changes_nothing(api: Api) -> None:
    api.group("a", [])
    api.group("b", ["group:a"])
    assert api.call("PUT", "/v1/groups/a", json={"members": ["group:b", BOB]}).status_code == 422
    assert api.call("GET", "/v1/groups/a").json()["members"] == []
    assert len(_rows(api, "group.put")) == 2
    source = api.source()
    api.put_doc(source, "memo", "Memo.", allow=["group:a"])
    bad = api.call("PUT", f"/v1/sources/{source}/documents/memo/acl",
                   json={"allow": ["everyone", "not a principal"]})
    assert bad.status_code == 422
    assert _rows(api, "document.acl") == []
    got = api.call("GET", f"/v1/sources/{source}/documents/memo").json()
    assert got["acl"]["allow"] == ["group:a"]
