"""The routes the web UI stands on: ``/v1/me`` (who the caller is, admin or not), the
document finder for the inspector, the source name on citations, the demo sign-in, and
pages that carry no data and allow no inline script."""

from __future__ import annotations

from typing import Any

from api.demo_loader import DemoUser
from tests.api.conftest import Api

ANN, BOB = "user:ann@x.com", "user:bob@x.com"


def _me(api: Api, key: str) -> dict[str, Any]:
    response = api.call("GET", "/v1/me", key=key)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_me_says_a_member_of_the_admin_group_is_an_admin(api: Api) -> None:
    api.group("it", [ANN])
    api.group("clearance-admins", ["group:it"])  # nested membership counts
    ann = api.key(scopes=["query"], user_id="Ann@X.com")
    bob = api.key(scopes=["query"], user_id=BOB)
    assert _me(api, ann) == {"user_id": ANN, "name": None, "tenant": "default",
                             "scopes": ["query"], "is_admin": True}
    assert _me(api, bob)["is_admin"] is False


def test_me_of_an_admin_key_without_a_user(api: Api) -> None:
    admin = api.key(scopes=["admin"])
    assert _me(api, admin) == {"user_id": None, "name": None, "tenant": "default",
                               "scopes": ["admin"], "is_admin": True}


def test_me_without_a_credential_is_401(api: Api) -> None:
    response = api.call("GET", "/v1/me", key=None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_the_document_finder_matches_title_or_path_and_pages(api: Api) -> None:
    source = api.source("wiki")
    for n in range(5):
        api.put_doc(source, f"policies/travel-{n}.md", f"Travel rule {n}.", allow=["everyone"],
                    title=f"Travel policy {n}")
    api.put_doc(source, "eng/oncall.md", "Pager rota.", allow=["group:eng"], title="On-call")
    found = api.call("GET", "/v1/documents", params={"q": "TRAVEL", "limit": 3}).json()
    assert [d["title"] for d in found["documents"]] == [
        "Travel policy 0", "Travel policy 1", "Travel policy 2"]
    assert found["documents"][0]["source_name"] == "wiki"
    rest = api.call("GET", "/v1/documents", params={"q": "travel", "limit": 3,
                                                    "cursor": found["next_cursor"]}).json()
    assert [d["title"] for d in rest["documents"]] == ["Travel policy 3", "Travel policy 4"]
    assert rest["next_cursor"] is None
    by_path = api.call("GET", "/v1/documents", params={"q": "eng/onc"}).json()["documents"]
    assert [(d["external_id"], d["acl"]["allow"]) for d in by_path] == [
        ("eng/oncall.md", ["group:eng"])]
    one = api.call("GET", f"/v1/documents/{by_path[0]['doc_id']}").json()
    assert one["title"] == "On-call" and one["source_id"] == source


def test_the_document_finder_is_for_admins_of_the_tenant_only(api: Api) -> None:
    source = api.source("wiki")
    doc = api.put_doc(source, "secret.md", "Quarterly numbers.", allow=[ANN],
                      title="Secret numbers")["doc_id"]
    reader = api.key(scopes=["query"], user_id=ANN)
    ingest = api.key(scopes=["ingest"], source_ids=[source])
    for key in (reader, ingest):
        assert api.call("GET", "/v1/documents", key=key).status_code == 403
        assert api.call("GET", f"/v1/documents/{doc}", key=key).status_code == 403
    acme = api.key(scopes=["admin"], tenant="acme")
    assert api.call("GET", "/v1/documents", key=acme).json() == {"documents": [],
                                                                 "next_cursor": None}
    theirs = api.call("GET", f"/v1/documents/{doc}", key=acme)
    missing = api.call("GET", f"/v1/documents/{'f' * 32}", key=acme)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    bad = api.call("GET", "/v1/documents", params={"cursor": "not-a-cursor!"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_citations_name_the_documents_source(api: Api) -> None:
    source = api.source("handbook")
    api.put_doc(source, "leave.md", "Employees get 25 vacation days per year.",
                allow=["everyone"], title="Leave policy")
    answer = api.answer(ANN, "How many vacation days do employees get per year?")
    assert not answer["abstained"], answer
    assert {c["source"] for c in answer["citations"]} == {"handbook"}


def test_pages_carry_no_data_and_forbid_inline_script(api: Api) -> None:
    for path in ("/", "/sign-in", "/admin/sources", "/admin/groups", "/admin/documents",
                 "/admin/keys", "/admin/audit"):
        response = api.call("GET", path, key=None)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "<script>" not in response.text and "ck_" not in response.text
    assert api.call("GET", "/admin/nope", key=None).status_code == 404
    assert api.call("GET", "/admin", key=None, follow_redirects=False).headers[
        "location"] == "/admin/sources"
    assert api.call("GET", "/static/app.js", key=None).headers["content-type"].startswith(
        "text/javascript")
    for path in ("/static/..%2Fweb.py", "/static/.hidden.js", "/static/nothing.js",
                 "/static/app.py"):
        assert api.call("GET", path, key=None).status_code == 404, path


def test_demo_sign_in_hands_out_only_the_chosen_users_keys(api: Api) -> None:
    assert api.call("GET", "/demo/users", key=None).json() == {"demo": False, "users": []}
    assert api.call("POST", "/demo/sign-in", key=None,
                    json={"user_id": ANN}).status_code == 404
    api.client.app.state.demo_users = [  # type: ignore[attr-defined]
        DemoUser(id=ANN, name="Ann", title="IT", key="ck_ann", admin_key="ck_ann_admin"),
        DemoUser(id=BOB, name="Bob", title="Sales", key="ck_bob")]
    try:
        listed = api.call("GET", "/demo/users", key=None).json()
        assert listed == {"demo": True, "users": [
            {"id": ANN, "name": "Ann", "title": "IT", "admin": True},
            {"id": BOB, "name": "Bob", "title": "Sales", "admin": False}]}
        bob = api.call("POST", "/demo/sign-in", key=None, json={"user_id": BOB}).json()
        assert bob == {"user": listed["users"][1], "key": "ck_bob", "admin_key": None}
        ann = api.call("POST", "/demo/sign-in", key=None, json={"user_id": ANN}).json()
        assert (ann["key"], ann["admin_key"]) == ("ck_ann", "ck_ann_admin")
        assert api.call("POST", "/demo/sign-in", key=None,
                        json={"user_id": "user:nobody@x.com"}).status_code == 404
    finally:
        api.client.app.state.demo_users = None  # type: ignore[attr-defined]
