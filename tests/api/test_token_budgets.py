"""Daily token budgets through the real /v1/answer route, with the OpenAI adapter talking to
a fake provider (50 input + 20 output tokens a reply): once a user's or the tenant's
tokens of the UTC day reach a budget, questions get 429 ``token_budget_exceeded`` with
``Retry-After`` until the next UTC midnight; the extractive adapter is never refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from answer import DailyTokenQuota
from answer.quota import Spent
from tests.answer.fake_providers import FakeServer, openai_json

from .conftest import Api
from .test_answer_gateway_api import GOOD, QUESTION, _audit, _with_model
from .test_streaming import SECRET

QUESTIONS = [
    QUESTION,
    "Is business class allowed for flights longer than six hours?",
    "Which class may employees book on flights longer than six hours?",
    "May employees book business class for a flight of seven hours?",
]
TOKENS_PER_ANSWER = 70


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _budgeted(make_api: Callable[..., Api], *, clock: Clock | None = None,
              **budgets: Any) -> tuple[Api, FakeServer]:
    server = FakeServer([openai_json(GOOD)])
    api = _with_model(make_api, "openai", server, **budgets)
    if clock is not None:
        _quota(api).clock = clock
    return api, server


def _quota(api: Api) -> DailyTokenQuota:
    quota = api.client.app.state.clearance.answerer.quota  # type: ignore[attr-defined]
    assert isinstance(quota, DailyTokenQuota)
    return quota


def _spent(api: Api, user: str) -> Spent:
    state = api.client.app.state.clearance  # type: ignore[attr-defined]
    with state.services.sessions() as session:
        spent: Spent = _quota(api).spent(session, tenant="default", user_id=f"user:{user}")
    return spent


def _ask(api: Api, user: str, query: str, **body: Any) -> Any:
    return api.call("POST", "/v1/answer", as_user=user, json={"query": query, **body})


def _spend(api: Api, user: str, answers: int, *, start: int = 0) -> None:
    for query in QUESTIONS[start:start + answers]:
        body = api.answer(user, query)
        assert body["model"] == "openai", body
        assert body["usage"]["input_tokens"] + body["usage"]["output_tokens"] == \
            TOKENS_PER_ANSWER


def test_a_spent_user_budget_answers_429_with_retry_after_until_utc_midnight(
        make_api: Callable[..., Api]) -> None:
    clock = Clock(datetime(2026, 11, 1, 23, 0, tzinfo=UTC))
    api, server = _budgeted(make_api, clock=clock, user_daily_token_budget=100)
    _spend(api, "dave@x.com", 2)  # 70 < 100 lets the second in: 140 spent
    response = _ask(api, "dave@x.com", QUESTIONS[2])
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    error = response.json()["error"]
    assert error["code"] == "token_budget_exceeded"
    assert "user's daily budget of 100 model tokens" in error["message"]
    assert "CLEARANCE_USER_DAILY_TOKEN_BUDGET" in error["message"]
    assert "2026-11-02T00:00:00Z" in error["message"] and "tenant" not in error["message"]
    assert len(server.requests) == 2, "a refused question never reaches the provider"
    record = _audit(api)[0]
    assert (record["status_code"], record["reason"]) == (429, "token_budget_exceeded")
    assert record["chunk_ids"] == [] and record["detail"]["token_budgets"] == ["user"]


def test_a_spent_budget_refuses_a_streamed_question_with_the_same_429(
        make_api: Callable[..., Api]) -> None:
    api, server = _budgeted(make_api, user_daily_token_budget=50)
    _spend(api, "dave@x.com", 1)
    response = _ask(api, "dave@x.com", QUESTIONS[1], stream=True)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "token_budget_exceeded"
    assert len(server.requests) == 1


def test_one_users_spent_budget_does_not_refuse_another_user(
        make_api: Callable[..., Api]) -> None:
    api, _ = _budgeted(make_api, user_daily_token_budget=100)
    _spend(api, "dave@x.com", 2)
    assert _ask(api, "dave@x.com", QUESTIONS[2]).status_code == 429
    _spend(api, "erin@x.com", 2)
    assert _spent(api, "erin@x.com").user_tokens == 2 * TOKENS_PER_ANSWER


def test_a_spent_tenant_budget_refuses_every_user_of_the_tenant(
        make_api: Callable[..., Api]) -> None:
    api, server = _budgeted(make_api, tenant_daily_token_budget=100,
                            user_daily_token_budget=1000)
    _spend(api, "dave@x.com", 1)
    _spend(api, "erin@x.com", 1, start=1)  # 140 for the tenant, 70 each
    for user in ("dave@x.com", "erin@x.com", "frank@x.com"):  # frank never asked
        response = _ask(api, user, QUESTIONS[3])
        assert response.status_code == 429, user
        error = response.json()["error"]
        assert error["code"] == "token_budget_exceeded"
        assert "tenant's daily budget of 100 model tokens" in error["message"]
        assert "user's" not in error["message"]
    assert len(server.requests) == 2


def test_a_new_utc_day_resets_both_budgets(make_api: Callable[..., Api]) -> None:
    clock = Clock(datetime(2026, 11, 1, 22, 30, tzinfo=UTC))
    api, _ = _budgeted(make_api, clock=clock, user_daily_token_budget=100,
                       tenant_daily_token_budget=100)
    _spend(api, "dave@x.com", 2)
    refused = _ask(api, "dave@x.com", QUESTIONS[2])
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "5400"
    assert "user's" in refused.json()["error"]["message"]
    assert "tenant's" in refused.json()["error"]["message"]
    clock.now = datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC)
    assert _ask(api, "dave@x.com", QUESTIONS[2]).headers["Retry-After"] == "1"
    clock.now = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    assert _ask(api, "dave@x.com", QUESTIONS[2]).status_code == 200
    assert _spent(api, "dave@x.com") == Spent(user_tokens=70, tenant_tokens=70)


def test_usage_accumulates_per_user_and_tenant_and_a_cached_answer_costs_nothing(
        make_api: Callable[..., Api]) -> None:
    api, server = _budgeted(make_api)  # no budgets: usage is counted all the same
    _spend(api, "dave@x.com", 2)
    again = api.answer("dave@x.com", QUESTIONS[0])  # from the cache: no model, no tokens
    assert again["usage"] == {"input_tokens": 0, "output_tokens": 0}
    _spend(api, "erin@x.com", 1, start=2)
    assert len(server.requests) == 3
    assert _spent(api, "dave@x.com") == Spent(user_tokens=140, tenant_tokens=210)
    assert _spent(api, "erin@x.com").user_tokens == 70


def test_a_failing_provider_spends_nothing_of_the_budget(make_api: Callable[..., Api]) -> None:
    from tests.answer.fake_providers import status

    server = FakeServer([status(503)])
    api = _with_model(make_api, "openai", server, user_daily_token_budget=1)
    body = api.answer("dave@x.com", QUESTION)
    assert body["fallback_from"] == "openai"
    assert _spent(api, "dave@x.com") == Spent(user_tokens=0, tenant_tokens=0)
    assert _ask(api, "dave@x.com", QUESTIONS[1]).status_code == 200


def test_a_refusal_names_nothing_of_a_document_the_user_may_not_read(
        make_api: Callable[..., Api]) -> None:
    api, server = _budgeted(make_api, user_daily_token_budget=50)
    source = api.source("restricted")
    secret = api.put_doc(source, "merger", SECRET, allow=["group:corpdev"],
                         title="Project Zephyr merger")
    api.group("corpdev", ["user:carol@x.com"])
    _spend(api, "dave@x.com", 1)
    seen = len(server.requests)
    for stream in (False, True):
        response = _ask(api, "dave@x.com", "What is the merger codename BLUEFALCON of "
                        "Project Zephyr?", stream=stream)
        assert response.status_code == 429
        text = response.text + str(dict(response.headers))
        for secret_part in ("Zephyr Dynamics", "merger codename is", "Project Zephyr merger",
                            secret["doc_id"], "corpdev", "March"):
            assert secret_part not in text
    assert len(server.requests) == seen
    assert all(r["chunk_ids"] == [] for r in _audit(api)[:2])


def test_the_extractive_adapter_is_never_refused(make_api: Callable[..., Api]) -> None:
    api = make_api(user_daily_token_budget=1, tenant_daily_token_budget=1)
    source = api.source()
    api.put_doc(source, "travel", GOOD["answer"], allow=["everyone"])
    assert api.client.app.state.clearance.answerer.quota is None  # type: ignore[attr-defined]
    for query in QUESTIONS:
        assert _ask(api, "dave@x.com", query).status_code == 200


def test_the_openapi_document_lists_the_429_of_answer(api: Api) -> None:
    schema = api.call("GET", "/openapi.json").json()
    spent = schema["paths"]["/v1/answer"]["post"]["responses"]["429"]
    assert "token_budget_exceeded" in spent["description"]
    assert "Retry-After" in spent["headers"]
    codes = schema["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
        "code"]["enum"]
    assert "token_budget_exceeded" in codes

