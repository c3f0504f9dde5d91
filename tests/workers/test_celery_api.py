"""The API in Celery mode (``CLEARANCE_TASK_QUEUE=celery``), on PostgreSQL and Redis, with a
real worker: a pushed document is embedded and written by the worker, never by the API
process, and is searchable by its readers only; ``?wait=true`` waits for the worker's
outcome; "Sync now" hands the sync to the workers."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from api.app import create_app
from core import Settings
from core.models import StagedContent
from index.embed import HashingEmbedder
from tests.api.conftest import ADMIN_KEY, Api
from tests.helpers import wait_for
from workers.services import Services, build_services
from workers.staging import INLINE_BYTES

pytestmark = pytest.mark.postgres

FINANCE = "user:fay@example.com"
OUTSIDER = "user:otto@example.com"
MEMO = "Quarterly budget memo: the Lisbon offsite budget is 40,000 euros."


class QueryOnlyEmbedder(HashingEmbedder):
    """The API's embedder: counts the documents it is asked to embed (there must be none)."""

    documents_embedded = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.documents_embedded += len(texts)
        return super().embed_documents(texts)


def api_settings(worker_settings: Settings, *, wait_timeout_s: float = 20.0) -> Settings:
    return worker_settings.model_copy(update={
        "task_queue": "celery", "admin_api_key": SecretStr(ADMIN_KEY),
        "wait_timeout_s": wait_timeout_s})


@pytest.fixture
def celery_api(make_worker: Callable[..., tuple[Celery, Services]],
               worker_settings: Settings) -> Iterator[tuple[Api, QueryOnlyEmbedder]]:
    _, worker_services = make_worker()
    settings = api_settings(worker_settings)
    embedder = QueryOnlyEmbedder()
    # the worker's database and store, the API's own embedder
    services = dataclasses.replace(worker_services, settings=settings, embedder=embedder)
    with TestClient(create_app(settings, services=services)) as client:
        api = Api(client)
        api.group("finance", [FINANCE])
        yield api, embedder


def put(api: Api, source_id: str, external_id: str, *, wait: bool,
        **body: Any) -> Any:
    return api.call("PUT", f"/v1/sources/{source_id}/documents/{external_id}",
                    params={"wait": str(wait).lower()}, json=body)


def test_a_pushed_document_is_indexed_by_a_worker_and_found_by_its_readers_only(
        celery_api: tuple[Api, QueryOnlyEmbedder]) -> None:
    api, embedder = celery_api
    source_id = api.source()
    response = put(api, source_id, "memo", wait=False, title="Budget memo", text=MEMO,
                   acl={"allow": ["group:finance"], "deny": []})
    assert response.status_code == 202 and response.json()["status"] == "queued"
    state = api.client.app.state.clearance  # type: ignore[attr-defined]
    assert state.ingest_queue.repair_interval_s is None  # beat's tick repairs, not the API

    wait_for(lambda: api.call("GET", f"/v1/sources/{source_id}/documents/memo"
                              ).json()["status"] == "indexed")
    assert [h["external_id"] for h in api.search(FINANCE, "Lisbon offsite budget")] == ["memo"]
    assert embedder.documents_embedded == 0  # the worker embedded it

    assert api.search(OUTSIDER, "Lisbon offsite budget") == []
    answer = api.answer(OUTSIDER, "What is the Lisbon offsite budget?")
    assert answer["abstained"] and answer["citations"] == []
    assert "40,000" not in str(answer)


def test_waiting_returns_the_workers_outcome(celery_api: tuple[Api, QueryOnlyEmbedder]) -> None:
    api, embedder = celery_api
    source_id = api.source()
    response = put(api, source_id, "memo", wait=True, title="Budget memo", text=MEMO,
                   acl={"allow": ["group:finance"], "deny": []})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "indexed" and response.json()["chunks"] >= 1
    assert [h["external_id"] for h in api.search(FINANCE, "Lisbon offsite")] == ["memo"]

    again = put(api, source_id, "memo", wait=True, title="Budget memo", text=MEMO,
                acl={"allow": ["group:finance"], "deny": []})
    assert again.status_code == 200 and again.json()["status"] == "indexed"

    broken = put(api, source_id, "scan.pdf", wait=True, title="Scan",
                 mime_type="application/pdf",
                 content_base64=base64.b64encode(b"%PDF-1.7 not really").decode(),
                 acl={"allow": ["everyone"], "deny": []})
    assert broken.status_code == 422, broken.text
    assert broken.json()["error"]["code"]  # the parser's code, from the worker
    assert api.call("GET", f"/v1/sources/{source_id}/documents/scan.pdf"
                    ).json()["status"] == "failed"
    assert embedder.documents_embedded == 0


def test_a_large_document_travels_through_sql_not_through_the_broker(
        celery_api: tuple[Api, QueryOnlyEmbedder]) -> None:
    api, _ = celery_api
    state = api.client.app.state.clearance  # type: ignore[attr-defined]
    sent: list[str] = []
    send_task = state.celery.send_task

    def recording(name: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(json.dumps([args, kwargs]))
        return send_task(name, *args, **kwargs)

    state.celery.send_task = recording
    filler = " ".join(f"Section {i} lists the standard travel allowances." for i in range(6000))
    text = f"{MEMO}\n\n{filler}"
    assert len(text) > INLINE_BYTES
    source_id = api.source()
    response = put(api, source_id, "handbook", wait=True, title="Travel handbook", text=text,
                   acl={"allow": ["group:finance"], "deny": []})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "indexed"
    assert len(sent) == 1 and len(sent[0]) < 4096  # the id of the staged copy, not the text
    assert "Lisbon" not in sent[0]
    assert [h["external_id"] for h in api.search(FINANCE, "Lisbon offsite budget")] == [
        "handbook"]
    assert api.search(OUTSIDER, "Lisbon offsite budget") == []
    with state.services.sessions() as session:  # dropped once ingested
        assert session.scalar(select(func.count()).select_from(StagedContent)) == 0


def test_a_wait_that_runs_out_answers_504_and_a_worker_started_later_still_indexes_it(
        make_worker: Callable[..., tuple[Celery, Services]], worker_settings: Settings) -> None:
    settings = api_settings(worker_settings, wait_timeout_s=0.5)
    services = build_services(settings, embedder=QueryOnlyEmbedder())
    try:
        with TestClient(create_app(settings, services=services)) as client:
            api = Api(client)
            source_id = api.source()
            response = put(api, source_id, "memo", wait=True, title="Budget memo", text=MEMO,
                           acl={"allow": ["everyone"], "deny": []})
            assert response.status_code == 504, response.text
            assert response.json()["error"]["code"] == "wait_timeout"

            def status() -> str:
                return str(api.call("GET", f"/v1/sources/{source_id}/documents/memo"
                                    ).json()["status"])

            assert status() == "queued" and api.search(FINANCE, "Lisbon offsite") == []
            make_worker(wrap=lambda _: services.store)  # the worker writes the API's store
            wait_for(lambda: status() == "indexed")
            assert [h["external_id"] for h in api.search(FINANCE, "Lisbon offsite")] == ["memo"]
    finally:
        services.close()


def test_sync_now_hands_the_sync_to_the_workers(celery_api: tuple[Api, QueryOnlyEmbedder],
                                                tmp_path: Path) -> None:
    api, embedder = celery_api
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / ".acl.json").write_text('{"allow": ["everyone"]}')
    (folder / "leave.md").write_text("# Leave\n\nEveryone gets twenty-six days of leave.")
    created = api.call("POST", "/v1/sources", json={
        "name": "share", "kind": "filesystem", "config": {"root": str(folder)}})
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]

    started = api.call("POST", f"/v1/sources/{source_id}/sync")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    wait_for(lambda: api.search(FINANCE, "days of leave"), timeout_s=30)
    assert embedder.documents_embedded == 0
