"""End to end with the real MiniLM: the demo company loads as `clearance serve --demo`
loads it, and every row of the demo question table is asked through the v1 API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import demo_loader
from api.app import create_app
from core import Settings, document_id
from workers.services import build_services

pytestmark = pytest.mark.e2e

QUESTIONS: list[dict[str, Any]] = json.loads(
    (demo_loader.DEMO_DIR / "questions.json").read_text())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    data_dir = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir, embedder="minilm", environment="test")
    services = build_services(settings)
    assert demo_loader.is_empty(services, "default")
    loaded = demo_loader.load_company(services)
    users, _admin = demo_loader.mint_demo_keys(services, settings)
    with services.sessions() as session:
        from sqlalchemy import select

        from core.models import Source

        source_id = session.scalars(select(Source.id).where(
            Source.name == demo_loader.DEMO_SOURCE)).one()
    assert loaded >= 40
    app = create_app(settings, services=services)
    with TestClient(app) as client:
        yield client, {u.id: u.key for u in users}, source_id
    services.close()


@pytest.mark.parametrize("row", QUESTIONS, ids=[f"{i}-{r['user'].split('@')[0][5:]}"
                                                for i, r in enumerate(QUESTIONS, start=1)])
def test_demo_question_gets_the_expected_answer_or_abstention(
        demo: tuple[TestClient, dict[str, str], str], row: dict[str, Any]) -> None:
    client, keys, source_id = demo
    response = client.post("/v1/answer", json={"query": row["question"]},
                           headers={"Authorization": f"Bearer {keys[row['user']]}"})
    assert response.status_code == 200, response.text
    answer = response.json()
    if row["expect"] is None:
        assert answer["abstained"], (row["why"], answer["answer"])
        assert answer["citations"] == []
    else:
        expected = document_id(source_id, row["expect"])
        assert not answer["abstained"], (row["why"], answer)
        assert expected in {c["doc_id"] for c in answer["citations"]}, (row["why"], answer)


def test_demo_reload_reuses_the_data_dir(demo: tuple[TestClient, dict[str, str], str]) -> None:
    client, keys, _ = demo
    services = client.app.state.clearance.services  # type: ignore[attr-defined]
    assert not demo_loader.is_empty(services, "default")


def test_demo_page_and_users_are_served(demo: tuple[TestClient, dict[str, str], str]) -> None:
    client, _, _ = demo
    assert "Clearance" in client.get("/").text
    assert client.get("/demo/users").json() == {"demo": False, "users": []}
