"""Source syncs through the HTTP API in embedded mode: POST /sync, GET /runs, last run in
the source list, secrets encrypted at rest and never returned."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.models import Source
from tests.api.conftest import Api, make_api  # noqa: F401 - the fixture
from workers.secrets import decrypt_secrets

USER = "user:ann@x.com"


def wait_for_runs(api: Api, source_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs: list[dict[str, Any]] = api.call("GET", f"/v1/sources/{source_id}/runs").json()[
            "runs"]
        done = [r for r in runs if r["finished_at"]]
        if len(done) >= count:
            return runs
        time.sleep(0.05)
    raise AssertionError("the sync did not finish")


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    root.mkdir()
    (root / ".acl.json").write_text(json.dumps({"allow": ["everyone"]}))
    (root / "travel.md").write_text("# Travel\n\nBook economy class for flights.")
    (root / "laptops.md").write_text("# Laptops\n\nEvery engineer gets a laptop refresh.")
    return root


def test_sync_through_the_api_records_runs_and_removes_a_deleted_file(
        make_api: Callable[..., Api], tmp_path: Path) -> None:  # noqa: F811
    api = make_api()
    root = folder(tmp_path)
    created = api.call("POST", "/v1/sources", json={
        "name": "handbook", "kind": "filesystem", "config": {"root": str(root)}})
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]
    assert created.json()["status"] == "idle" and created.json()["last_run"] is None

    accepted = api.call("POST", f"/v1/sources/{source_id}/sync")
    assert accepted.status_code == 202
    assert accepted.json() == {"source_id": source_id, "status": "queued"}
    run = wait_for_runs(api, source_id, 1)[0]
    assert (run["status"], run["new"], run["seen"], run["error"]) == ("succeeded", 2, 2, None)
    assert {h["external_id"] for h in api.search(USER, "laptop refresh")} >= {"laptops.md"}

    listed = api.call("GET", "/v1/sources").json()["sources"]
    assert listed[0]["status"] == "ok" and listed[0]["last_run"]["id"] == run["id"]

    (root / "laptops.md").unlink()
    assert api.call("POST", f"/v1/sources/{source_id}/sync").status_code == 202
    newest = wait_for_runs(api, source_id, 2)[0]
    assert (newest["deleted"], newest["unchanged"]) == (1, 1)
    assert "laptops.md" not in {h["external_id"] for h in api.search(USER, "laptop refresh")}


def test_unknown_source_sync_and_runs_answer_404(make_api: Callable[..., Api]) -> None:  # noqa: F811
    api = make_api()
    assert api.call("POST", "/v1/sources/nope/sync").status_code == 404
    assert api.call("GET", "/v1/sources/nope/runs").status_code == 404


def test_connector_secrets_are_encrypted_at_rest_and_never_returned(
        make_api: Callable[..., Api]) -> None:  # noqa: F811
    api = make_api()
    token = "ATATT3xFfGF0-very-secret-token"
    created = api.call("POST", "/v1/sources", json={
        "name": "wiki", "kind": "confluence",
        "config": {"base_url": "https://acme.atlassian.net", "email": "bot@acme.com",
                   "api_token": token, "spaces": ["HR"]}})
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]
    for response in (created, api.call("GET", f"/v1/sources/{source_id}"),
                     api.call("GET", "/v1/sources")):
        assert token not in response.text

    services = api.client.app.state.test_services  # type: ignore[attr-defined]
    with services.sessions() as session:
        row = session.get(Source, source_id)
        assert row is not None and token not in json.dumps(row.config)
        assert row.secrets_encrypted and token not in row.secrets_encrypted
        assert decrypt_secrets(services.settings, row.secrets_encrypted)["api_token"] == token

    # a patch that echoes the redacted form back keeps the stored secret
    patched = api.call("PATCH", f"/v1/sources/{source_id}", json={
        "config": {"base_url": "https://acme.atlassian.net", "api_token": "***",
                   "spaces": ["HR", "ENG"]}})
    assert patched.status_code == 200 and token not in patched.text
    with services.sessions() as session:
        row = session.get(Source, source_id)
        assert row is not None and row.secrets_encrypted
        assert decrypt_secrets(services.settings, row.secrets_encrypted)["api_token"] == token
