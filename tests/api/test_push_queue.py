"""Pushed documents without ``wait`` are queued, batched and become searchable."""

from __future__ import annotations

import time

from tests.api.conftest import Api


def test_queued_documents_become_indexed_and_searchable(api: Api) -> None:
    source = api.source()
    for i in range(20):
        body = {"title": f"Note {i}", "text": f"Meeting note number {i} about code ZK{i:03d}.",
                "acl": {"allow": ["everyone"], "deny": []}}
        response = api.call("PUT", f"/v1/sources/{source}/documents/note-{i}", json=body)
        assert response.status_code == 202 and response.json()["status"] == "queued"
    deadline = time.monotonic() + 60
    statuses: set[str] = set()
    while time.monotonic() < deadline:
        statuses = {api.call("GET", f"/v1/sources/{source}/documents/note-{i}").json()["status"]
                    for i in range(20)}
        if statuses == {"indexed"}:
            break
        time.sleep(0.1)
    assert statuses == {"indexed"}
    hits = api.search("anyone@x.com", "ZK007")
    assert hits and hits[0]["external_id"] == "note-7"
