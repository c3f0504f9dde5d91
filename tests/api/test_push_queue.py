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


def test_pushing_the_same_content_again_embeds_nothing_and_its_acl_change_holds(
        api: Api) -> None:
    """A push source that re-sends everything nightly must not re-embed everything: the
    same content is found unchanged, and only a changed ACL is applied (and enforced)."""
    services = api.client.app.state.test_services  # type: ignore[attr-defined]
    embedded: list[int] = []
    embed = services.embedder.embed_documents

    def counting(texts: list[str]) -> list[list[float]]:
        embedded.append(len(texts))
        return list(embed(texts))

    services.embedder.embed_documents = counting
    source = api.source()
    text = "Bonus plan QP5521: paid every March to the sales team."
    api.put_doc(source, "bonus", text, allow=["everyone"])
    assert embedded == [1]
    api.put_doc(source, "bonus", text, allow=["everyone"])
    assert embedded == [1]  # unchanged: nothing embedded again
    assert api.search("ann@x.com", "bonus plan QP5521")

    api.put_doc(source, "bonus", text, allow=["user:carol@x.com"])  # the ACL alone changes
    assert embedded == [1]
    assert api.search("ann@x.com", "bonus plan QP5521") == []
    assert [h["external_id"] for h in api.search("carol@x.com", "bonus plan QP5521")] == [
        "bonus"]
    document = api.call("GET", f"/v1/sources/{source}/documents/bonus").json()
    assert (document["status"], document["acl"]["allow"]) == ("indexed", ["user:carol@x.com"])
