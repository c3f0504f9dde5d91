"""An admin who can see why: ``can-read`` for one user, ``documents/{id}/access`` for every
reader of a document, through which group chain, who a deny entry keeps out, and which ACL
entries match nobody."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

BOB, CAROL, DAN, EVE = "user:bob@x.com", "user:carol@x.com", "user:dan@x.com", "user:eve@x.com"


def _org(api: Api) -> str:
    api.group("platform", [BOB, CAROL])
    api.group("eng", ["group:platform", DAN])
    api.group("contractors", [CAROL])
    api.group("empty", [])
    return api.source()


def _access(api: Api, doc_id: str, **params: Any) -> dict[str, Any]:
    response = api.call("GET", f"/v1/documents/{doc_id}/access", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_can_read_says_why_in_words_and_names_the_chain(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "design", "Design notes.", allow=["group:eng"],
                      deny=["group:contractors"])["doc_id"]

    def can_read(user: str) -> dict[str, Any]:
        got: dict[str, Any] = api.call("GET", f"/v1/principals/{user}/can-read/{doc}").json()
        return got

    assert can_read("bob@x.com") == {
        "allowed": True, "code": "allowed",
        "reason": "allowed via group:eng ← group:platform",
        "via": [BOB, "group:platform", "group:eng"]}
    assert can_read("carol@x.com") == {
        "allowed": False, "code": "denied",
        "reason": "denied by group:contractors deny entry",
        "via": [CAROL, "group:contractors"]}
    assert can_read("eve@x.com") == {
        "allowed": False, "code": "not_allowed", "reason": "no allow entry", "via": []}
    direct = api.put_doc(source, "memo", "Memo.", allow=["group:eng"], deny=[DAN])["doc_id"]
    got = api.call("GET", f"/v1/principals/dan@x.com/can-read/{direct}").json()
    assert got["reason"] == "denied by user:dan@x.com deny entry"


def test_access_lists_readers_with_chains_and_who_a_deny_entry_excludes(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "design", "Design notes.", allow=["group:eng"],
                      deny=["group:contractors"])["doc_id"]
    access = _access(api, doc)
    assert [(r["user_id"], r["via"]) for r in access["readers"]] == [
        (BOB, [BOB, "group:platform", "group:eng"]),
        (DAN, [DAN, "group:eng"]),
    ]
    assert access["readers"][0]["reason"] == "allowed via group:eng ← group:platform"
    assert [(x["user_id"], x["via"], x["reason"]) for x in access["excluded"]] == [
        (CAROL, [CAROL, "group:contractors"], "denied by group:contractors deny entry")]
    assert (access["readers_total"], access["excluded_total"], access["everyone"]) == (2, 1, False)
    assert [(e["principal"], e["kind"], e["status"], e["users"]) for e in access["allow"]] == [
        ("group:eng", "group", "ok", 3)]
    assert [(e["principal"], e["status"], e["users"]) for e in access["deny"]] == [
        ("group:contractors", "ok", 1)]
    assert access["matches_nobody"] == []


def test_unknown_principals_are_accepted_and_reported_as_matching_nobody(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "odd", "Odd notes.",
                      allow=["group:enginering", "group:empty", "user:alcie@x.com", BOB],
                      deny=["group:nosuch"])["doc_id"]
    access = _access(api, doc)
    statuses = {e["principal"]: e["status"] for e in access["allow"] + access["deny"]}
    assert statuses == {"group:enginering": "unknown_group", "group:empty": "empty_group",
                        "user:alcie@x.com": "unknown_user", BOB: "ok",
                        "group:nosuch": "unknown_group"}
    assert sorted(access["matches_nobody"]) == sorted(
        ["group:enginering", "group:empty", "user:alcie@x.com", "group:nosuch"])
    notes = {e["principal"]: e["note"] for e in access["allow"]}
    assert "matches nobody" in notes["group:enginering"]
    # bob reads it through his own entry; nobody reaches it through the misspelt group
    assert api.search("bob@x.com", "odd notes")
    assert not api.search("dan@x.com", "odd notes")


def test_everyone_lists_the_known_users_and_flags_the_rest(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "menu", "Lunch menu.", allow=["everyone"], deny=[DAN])["doc_id"]
    api.search("eve@x.com", "lunch")  # eve is known from now on: she asked a question
    access = _access(api, doc)
    assert access["everyone"] is True
    assert [r["user_id"] for r in access["readers"]] == [BOB, CAROL, EVE]
    assert access["readers"][0]["via"] == [BOB, "everyone"]
    assert [x["user_id"] for x in access["excluded"]] == [DAN]


def test_readers_agree_with_can_read_for_every_known_user(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "mix", "Mixed.", allow=["group:eng", EVE],
                      deny=["group:contractors"])["doc_id"]
    access = _access(api, doc)
    readers = {r["user_id"]: r["via"] for r in access["readers"]}
    for user in (BOB, CAROL, DAN, EVE):
        got = api.call("GET", f"/v1/principals/{user}/can-read/{doc}").json()
        assert got["allowed"] == (user in readers)
        if got["allowed"]:
            assert got["via"] == readers[user]


def test_access_caps_the_lists_but_counts_everyone(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "d", "Text.", allow=["group:eng"])["doc_id"]
    access = _access(api, doc, limit=1)
    assert len(access["readers"]) == 1 and access["readers_total"] == 3


def test_access_of_a_missing_or_deleted_document_is_404(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "gone", "Text.", allow=["everyone"])["doc_id"]
    api.call("DELETE", f"/v1/sources/{source}/documents/gone")
    for doc_id in (doc, "0" * 32):
        response = api.call("GET", f"/v1/documents/{doc_id}/access")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_only_admins_may_ask_who_can_read(api: Api) -> None:
    source = _org(api)
    doc = api.put_doc(source, "d", "Text.", allow=["everyone"])["doc_id"]
    for scopes, user in ((["query"], "bob@x.com"), (["act_as"], None), (["ingest"], None)):
        key = api.key(scopes=scopes, user_id=user, source_ids=[source])
        response = api.call("GET", f"/v1/documents/{doc}/access", key=key)
        assert response.status_code == 403
