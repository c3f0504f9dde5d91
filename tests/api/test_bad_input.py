"""Bad input gets the right status and a stable code, in the error envelope; never a
stack trace, never FastAPI's default ``{"detail"}``."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from tests.api.conftest import Api

ANN = "ann@x.com"


def _error(response, status: int, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    assert "Traceback" not in response.text


def test_empty_and_overlong_queries_are_refused(api: Api) -> None:
    for query in ("", "   ", "x" * 10_000):
        _error(api.call("POST", "/v1/search", as_user=ANN, json={"query": query}),
               422, "invalid_request")


def test_top_k_outside_1_to_100_is_refused(api: Api) -> None:
    for top_k in (0, 101, 1000):
        _error(api.call("POST", "/v1/search", as_user=ANN,
                        json={"query": "x", "top_k": top_k}), 422, "invalid_request")


def test_malformed_json_is_refused(api: Api) -> None:
    _error(api.call("POST", "/v1/search", as_user=ANN, content=b"{not json",
                    headers={"Content-Type": "application/json"}), 400, "malformed_json")


def test_a_wrong_content_type_is_refused(api: Api) -> None:
    _error(api.call("POST", "/v1/search", as_user=ANN, content=b"query=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"}),
           415, "unsupported_media_type")


def test_unknown_source_ids_in_filters_are_refused(api: Api) -> None:
    _error(api.call("POST", "/v1/search", as_user=ANN,
                    json={"query": "x", "filters": {"source_ids": ["nope"]}}),
           422, "unknown_source")


def test_bad_keys_are_401(api: Api) -> None:
    for header in ("Bearer ck_wrong", "Basic abc", "Bearer "):
        response = api.client.post("/v1/search", json={"query": "x"},
                                   headers={"Authorization": header})
        _error(response, 401, "unauthenticated")


def test_unknown_routes_and_methods_use_the_envelope(api: Api) -> None:
    _error(api.call("GET", "/v1/nothing-here"), 404, "not_found")
    _error(api.call("DELETE", "/v1/search"), 405, "method_not_allowed")


def test_a_body_over_the_limit_is_refused_before_parsing(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(max_upload_bytes=5_000)
    source = api.source()
    body = {"title": "big", "text": "word " * 5_000, "acl": {"allow": ["everyone"]}}
    _error(api.call("PUT", f"/v1/sources/{source}/documents/big?wait=true", json=body),
           413, "payload_too_large")

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "big", "acl": {"allow": ["everyone"]}, "text": "'
        for _ in range(100):
            yield b"word " * 100
        yield b'"}'

    streamed = api.call("PUT", f"/v1/sources/{source}/documents/big2?wait=true",
                        content=chunks(), headers={"Content-Type": "application/json"})
    _error(streamed, 413, "payload_too_large")
    assert api.call("GET", f"/v1/sources/{source}/documents/big2").status_code == 404


def test_an_unparseable_document_gets_422_with_its_code(api: Api) -> None:
    source = api.source()
    body = {"title": "broken", "content_base64": base64.b64encode(b"%PDF-1.4 junk").decode(),
            "mime_type": "application/pdf", "acl": {"allow": ["everyone"]}}
    _error(api.call("PUT", f"/v1/sources/{source}/documents/broken?wait=true", json=body),
           422, "document_unparseable")
    got = api.call("GET", f"/v1/sources/{source}/documents/broken").json()
    assert got["status"] == "failed" and got["error"]["code"] == "document_unparseable"


def test_a_document_needs_text_or_content(api: Api) -> None:
    source = api.source()
    _error(api.call("PUT", f"/v1/sources/{source}/documents/x",
                    json={"title": "x", "acl": {"allow": []}}), 422, "invalid_request")
    _error(api.call("PUT", f"/v1/sources/{source}/documents/x",
                    json={"title": "x", "content_base64": "!!!", "mime_type": "text/plain",
                          "acl": {"allow": []}}), 422, "invalid_request")


def test_a_group_cycle_is_refused(api: Api) -> None:
    api.group("a", [])
    api.group("b", ["group:a"])
    _error(api.call("PUT", "/v1/groups/a", json={"members": ["group:b"]}), 422, "group_cycle")
