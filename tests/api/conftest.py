"""An app on real stores (SQLite + Qdrant Edge in a temp dir) with the hashing embedder,
driven through HTTP by fastapi's TestClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.contracts.store_kit import fast_dir
from tests.helpers import hashing_services, settings_for

ADMIN_KEY = "ck_test_admin_key_for_the_suite"


class Api:
    """A client plus helpers that read like the contract."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def call(self, method: str, path: str, *, key: str | None = ADMIN_KEY,
             as_user: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if as_user:
            headers["X-On-Behalf-Of"] = as_user
        return self.client.request(method, path, headers=headers, **kwargs)

    def source(self, name: str = "wiki") -> str:
        response = self.call("POST", "/v1/sources", json={"name": name, "kind": "push"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def put_doc(self, source_id: str, external_id: str, text: str, *,
                allow: list[str], deny: list[str] | None = None, title: str = "",
                **extra: Any) -> dict[str, Any]:
        body = {"title": title or external_id, "text": text,
                "acl": {"allow": allow, "deny": deny or []}, **extra}
        response = self.call("PUT", f"/v1/sources/{source_id}/documents/{external_id}",
                             params={"wait": "true"}, json=body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def group(self, name: str, members: list[str]) -> None:
        response = self.call("PUT", f"/v1/groups/{name}", json={"members": members})
        assert response.status_code == 200, response.text

    def search(self, user: str, query: str, **body: Any) -> list[dict[str, Any]]:
        response = self.call("POST", "/v1/search", as_user=user, json={"query": query, **body})
        assert response.status_code == 200, response.text
        hits: list[dict[str, Any]] = response.json()["hits"]
        return hits

    def answer(self, user: str, query: str) -> dict[str, Any]:
        response = self.call("POST", "/v1/answer", as_user=user, json={"query": query})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def key(self, *, scopes: list[str], user_id: str | None = None,
            source_ids: list[str] | None = None, **extra: Any) -> str:
        response = self.call("POST", "/v1/keys", json={
            "name": "k", "scopes": scopes, "user_id": user_id,
            "source_ids": source_ids or [], **extra})
        assert response.status_code == 201, response.text
        return str(response.json()["key"])


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []
    with fast_dir(tmp_path) as where:  # tmpfs: Edge and SQLite fsync (~1 s a shard on disk)
        yield from _make_api(where, clients)


def _make_api(tmp_path: Path, clients: list[TestClient]) -> Iterator[Callable[..., Api]]:
    def build(**overrides: Any) -> Api:
        data_dir = tmp_path / f"data{len(clients)}"
        data_dir.mkdir()
        settings = settings_for(data_dir, admin_api_key=ADMIN_KEY, **overrides)
        services = hashing_services(data_dir, admin_api_key=ADMIN_KEY, **overrides)
        client = TestClient(create_app(settings, services=services))
        client.__enter__()
        clients.append(client)
        client.app.state.test_services = services  # type: ignore[attr-defined]
        return Api(client)

    yield build
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.test_services.close()  # type: ignore[attr-defined]


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
