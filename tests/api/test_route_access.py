"""Every route × caller: no credential → 401, wrong scope → 403, right scope → 2xx; and
everything in the error envelope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

USER = "user:ann@x.com"


def _setup(api: Api) -> dict[str, str]:
    source = api.source("docs")
    doc = api.put_doc(source, "faq", "Lunch is served at noon.", allow=["everyone"])
    api.group("eng", [USER])
    keys = {
        "query": api.key(scopes=["query"], user_id=USER),
        "act_as": api.key(scopes=["act_as"]),
        "ingest": api.key(scopes=["ingest"], source_ids=[source]),
        "admin": api.key(scopes=["admin"]),
    }
    return {"source": source, "doc_id": doc["doc_id"], **keys}


DOC = {"title": "t", "text": "Some text.", "acl": {"allow": ["everyone"], "deny": []}}

# (method, path, body, scopes that may call it)
ROUTES: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/v1/search", {"query": "lunch"}, {"query", "act_as", "admin"}),
    ("POST", "/v1/answer", {"query": "When is lunch?"}, {"query", "act_as", "admin"}),
    ("GET", "/v1/me/history", None, {"query", "act_as", "admin"}),
    ("POST", "/v1/keys", {"name": "x", "scopes": ["ingest"]}, {"admin"}),
    ("GET", "/v1/keys", None, {"admin"}),
    ("PUT", "/v1/groups/ops", {"members": [USER]}, {"admin"}),
    ("GET", "/v1/groups", None, {"admin"}),
    ("GET", "/v1/groups/eng", None, {"admin"}),
    ("GET", "/v1/principals/ann@x.com/entitlements", None, {"admin"}),
    ("GET", "/v1/principals/ann@x.com/can-read/{doc_id}", None, {"admin"}),
    ("POST", "/v1/sources", {"name": "new", "kind": "push"}, {"admin"}),
    ("GET", "/v1/sources", None, {"ingest", "admin"}),
    ("GET", "/v1/sources/{source}", None, {"ingest", "admin"}),
    ("PUT", "/v1/sources/{source}/documents/faq2?wait=true", DOC, {"ingest", "admin"}),
    ("GET", "/v1/sources/{source}/documents/faq", None, {"ingest", "admin"}),
    ("PUT", "/v1/sources/{source}/documents/faq/acl", {"allow": ["everyone"]},
     {"ingest", "admin"}),
    ("GET", "/v1/audit", None, {"admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES,
                         ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_route_answers_401_403_and_2xx_by_scope(api: Api, method: str, path: str,
                                               body: dict[str, Any] | None,
                                               allowed: set[str]) -> None:
    ctx = _setup(api)
    url = path.format(**ctx)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    anonymous = api.call(method, url, key=None, **kwargs)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    for scope in ("query", "act_as", "ingest", "admin"):
        on_behalf = USER if scope in {"act_as", "admin"} else None
        response = api.call(method, url, key=ctx[scope], as_user=on_behalf, **kwargs)
        if scope in allowed:
            assert response.status_code < 300, (scope, response.text)
        else:
            assert response.status_code == 403, (scope, response.text)
            assert response.json()["error"]["code"] == "forbidden"


def test_health_needs_no_credential(api: Api) -> None:
    assert api.call("GET", "/v1/health", key=None).status_code == 200
    assert api.call("GET", "/v1/ready", key=None).json()["status"] == "ready"


def test_metrics_are_prometheus_text(api: Api) -> None:
    api.call("GET", "/v1/health", key=None)
    response = api.call("GET", "/metrics", key=None)
    assert response.status_code == 200
    assert "clearance_http_requests_total" in response.text


def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    created = api.call("POST", "/v1/keys", json={"name": "bot", "scopes": ["query"],
                                                "user_id": USER}).json()
    assert api.call("GET", "/v1/me/history", key=created["key"]).status_code == 200
    assert api.call("DELETE", f"/v1/keys/{created['id']}").status_code == 200
    refused = api.call("GET", "/v1/me/history", key=created["key"])
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"


def test_an_expired_key_is_refused(api: Api) -> None:
    key = api.key(scopes=["query"], user_id=USER, expires_at="2020-01-01T00:00:00Z")
    assert api.call("GET", "/v1/me/history", key=key).status_code == 401


def test_keys_are_stored_as_digests_and_shown_once(api: Api) -> None:
    created = api.call("POST", "/v1/keys", json={"name": "bot", "scopes": ["act_as"]}).json()
    assert created["key"].startswith("ck_")
    listing = api.call("GET", "/v1/keys").text
    assert created["key"] not in listing and created["id"] in listing


def test_act_as_and_admin_need_on_behalf_of(api: Api) -> None:
    ctx = _setup(api)
    for scope in ("act_as", "admin"):
        response = api.call("POST", "/v1/search", key=ctx[scope], json={"query": "lunch"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "on_behalf_of_required"


def test_query_and_ingest_keys_may_not_act_for_others(api: Api) -> None:
    ctx = _setup(api)
    response = api.call("POST", "/v1/search", key=ctx["query"], as_user="bob@x.com",
                        json={"query": "lunch"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "on_behalf_of_not_allowed"
    response = api.call("POST", "/v1/search", key=ctx["ingest"], as_user="bob@x.com",
                        json={"query": "lunch"})
    assert response.status_code == 403


def test_an_ingest_key_sees_other_sources_as_missing(api: Api) -> None:
    ctx = _setup(api)
    other = api.source("other")
    for url in (f"/v1/sources/{other}", f"/v1/sources/{other}/documents/faq"):
        response = api.call("GET", url, key=ctx["ingest"])
        assert response.status_code == 404
        assert response.json() == api.call("GET", "/v1/sources/nope/documents/x",
                                           key=ctx["ingest"]).json()


def test_openapi_lists_every_error_code(api: Api) -> None:
    from core.errors import CODES

    schema = api.call("GET", "/openapi.json", key=None).json()
    codes = schema["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert set(codes["enum"]) == set(CODES)
    assert "/v1/answer" in schema["paths"] and "/v1/search" in schema["paths"]
