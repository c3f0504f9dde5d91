"""A key of one tenant can never see, count or name anything of another: groups, sources,
documents, keys, audit rows, explainers, search hits. What belongs to another tenant
answers exactly like something that does not exist."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api

SECRET = "Zephyr project QX7731Z budget: eleven million kroner for the Halvorsen plant."
ANN = "user:ann@x.com"


def _default_world(api: Api) -> dict[str, str]:
    """Tenant ``default`` (the bootstrap admin's) with a group, a source, a document."""
    api.group("board", [ANN])
    source = api.source("finance")
    doc = api.put_doc(source, "budget", SECRET, allow=["group:board"], title="Zephyr budget")
    return {"source": source, "doc_id": doc["doc_id"]}


def _acme_admin(api: Api) -> str:
    return api.key(scopes=["admin"], tenant="acme")


def _error(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    assert error["code"] == code
    return error


def _mentions_default(payload: object, world: dict[str, str]) -> bool:
    text = json.dumps(payload).lower()
    return any(w in text for w in ("board", "finance", "zephyr", "qx7731z",
                                   world["source"], world["doc_id"]))


def test_another_tenants_groups_are_invisible_and_untouchable(api: Api) -> None:
    world = _default_world(api)
    acme = _acme_admin(api)
    listed = api.call("GET", "/v1/groups", key=acme)
    assert listed.status_code == 200 and listed.json()["groups"] == []
    assert not _mentions_default(api.call("GET", "/v1/groups?q=board", key=acme).json(), world)
    _error(api.call("GET", "/v1/groups/board", key=acme), 404, "not_found")
    _error(api.call("DELETE", "/v1/groups/board", key=acme), 404, "not_found")
    # the same name in acme is acme's own group; default's is unchanged
    assert api.call("PUT", "/v1/groups/board", key=acme,
                    json={"members": ["user:zed@x.com"]}).status_code == 200
    assert api.call("GET", "/v1/groups/board").json()["members"] == [ANN]
    assert api.call("GET", "/v1/groups/board", key=acme).json()["members"] == ["user:zed@x.com"]


def test_entitlements_and_can_read_never_cross_tenants(api: Api) -> None:
    world = _default_world(api)
    acme = _acme_admin(api)
    got = api.call("GET", "/v1/principals/ann@x.com/entitlements", key=acme).json()
    assert got["tenant"] == "acme" and "group:board" not in got["principals"]
    theirs = _error(api.call("GET", f"/v1/principals/ann@x.com/can-read/{world['doc_id']}",
                             key=acme), 404, "not_found")
    missing = _error(api.call("GET", "/v1/principals/ann@x.com/can-read/" + "0" * 32,
                              key=acme), 404, "not_found")
    assert theirs["message"].replace(world["doc_id"], "X") == \
        missing["message"].replace("0" * 32, "X")
    _error(api.call("GET", f"/v1/documents/{world['doc_id']}/access", key=acme),
           404, "not_found")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/sources/{source}", None),
    ("PATCH", "/v1/sources/{source}", {"name": "renamed"}),
    ("DELETE", "/v1/sources/{source}", None),
    ("GET", "/v1/sources/{source}/documents/budget", None),
    ("PUT", "/v1/sources/{source}/documents/budget?wait=true",
     {"title": "x", "text": "overwritten", "acl": {"allow": ["everyone"]}}),
    ("PUT", "/v1/sources/{source}/documents/budget/acl", {"allow": ["everyone"]}),
    ("DELETE", "/v1/sources/{source}/documents/budget", None),
])
def test_another_tenants_sources_and_documents_read_as_missing(
        api: Api, method: str, path: str, body: dict[str, Any] | None) -> None:
    world = _default_world(api)
    acme = _acme_admin(api)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    theirs = _error(api.call(method, path.format(source=world["source"]), key=acme, **kwargs),
                    404, "not_found")
    missing = _error(api.call(method, path.format(source="f" * 32), key=acme, **kwargs),
                     404, "not_found")
    assert theirs == missing
    # and nothing changed for default
    doc = api.call("GET", f"/v1/sources/{world['source']}/documents/budget").json()
    assert doc["status"] == "indexed" and doc["acl"]["allow"] == ["group:board"]
    assert api.search(ANN, "QX7731Z")


def test_source_lists_and_counts_show_only_the_callers_tenant(api: Api) -> None:
    world = _default_world(api)
    acme = _acme_admin(api)
    listed = api.call("GET", "/v1/sources", key=acme).json()
    assert listed == {"sources": []}
    # a source of the same name may exist in both; each counts only its own documents
    created = api.call("POST", "/v1/sources", key=acme, json={"name": "finance", "kind": "push"})
    assert created.status_code == 201
    mine = api.call("GET", "/v1/sources", key=acme).json()["sources"]
    assert [(s["name"], s["documents"], s["chunks"]) for s in mine] == [("finance", {}, 0)]
    assert mine[0]["id"] != world["source"]


def test_searching_another_tenants_source_is_refused_like_an_unknown_one(api: Api) -> None:
    world = _default_world(api)
    acme_user = api.key(scopes=["query"], user_id="ann@x.com", tenant="acme")
    theirs = _error(api.call("POST", "/v1/search", key=acme_user, json={
        "query": "QX7731Z", "filters": {"source_ids": [world["source"]]}}),
        422, "unknown_source")
    missing = _error(api.call("POST", "/v1/search", key=acme_user, json={
        "query": "QX7731Z", "filters": {"source_ids": ["f" * 32]}}), 422, "unknown_source")
    assert theirs["message"].replace(world["source"], "X") == \
        missing["message"].replace("f" * 32, "X")
    for path in ("/v1/search", "/v1/answer"):
        response = api.call("POST", path, key=acme_user, json={"query": "Zephyr QX7731Z budget"})
        assert response.status_code == 200
        assert not _mentions_default(response.json(), world)


def test_the_same_user_id_in_another_tenant_holds_nothing_of_the_first(api: Api) -> None:
    world = _default_world(api)
    acme = _acme_admin(api)
    api.call("PUT", "/v1/groups/board", key=acme, json={"members": [ANN]})
    hits = api.call("POST", "/v1/search", key=acme, as_user=ANN,
                    json={"query": "QX7731Z Zephyr budget", "top_k": 100}).json()["hits"]
    assert hits == []
    assert api.search(ANN, "QX7731Z")[0]["doc_id"] == world["doc_id"]


def test_audit_rows_keys_and_history_stay_in_their_tenant(api: Api) -> None:
    world = _default_world(api)
    api.search(ANN, "QX7731Z budget")
    default_key = api.key(scopes=["query"], user_id="ann@x.com")
    acme = _acme_admin(api)
    records = api.call("GET", "/v1/audit", key=acme).json()["records"]
    assert records == []  # the bootstrap admin's key.create row belongs to default
    assert not _mentions_default(api.call("GET", "/v1/audit?user=ann@x.com", key=acme).json(),
                                 world)
    keys = api.call("GET", "/v1/keys", key=acme).json()
    assert [k["tenant"] for k in keys] == ["acme"]  # itself only
    default_key_id = next(k["id"] for k in api.call("GET", "/v1/keys").json()
                          if k["prefix"] == default_key[:8])
    _error(api.call("DELETE", f"/v1/keys/{default_key_id}", key=acme), 404, "not_found")
    acme_ann = api.key(scopes=["query"], user_id="ann@x.com", tenant="acme")
    assert api.call("GET", "/v1/me/history", key=acme_ann).json()["items"] == []
    assert api.call("GET", "/v1/me/history", key=default_key).json()["items"]


def test_an_admin_key_may_not_mint_keys_for_another_tenant(api: Api) -> None:
    acme = _acme_admin(api)
    _error(api.call("POST", "/v1/keys", key=acme,
                    json={"name": "x", "scopes": ["admin"], "tenant": "default"}),
           403, "forbidden")
