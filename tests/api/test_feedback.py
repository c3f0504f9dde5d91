"""POST /v1/feedback: a caller rates their own answers, and only their own."""

from __future__ import annotations

from typing import Any

from .conftest import Api
from .test_streaming import PUBLIC

QUESTION = "Which class may employees book for flights under six hours?"


def _feedback(api: Api, user: str, **body: Any) -> Any:
    return api.call("POST", "/v1/feedback", as_user=user, json=body)


def _asked(api: Api, user: str) -> str:
    source = api.source()
    api.put_doc(source, "travel", PUBLIC, allow=["everyone"])
    return str(api.answer(user, QUESTION)["request_id"])


def test_a_user_rates_their_own_answer(api: Api) -> None:
    request_id = _asked(api, "dave@x.com")
    response = _feedback(api, "dave@x.com", request_id=request_id, rating=1,
                         comment="spot on")
    assert response.status_code == 201, response.text
    assert response.json()["rating"] == 1 and response.json()["request_id"] == request_id
    again = _feedback(api, "dave@x.com", request_id=request_id, rating=-1)
    assert again.status_code == 201 and again.json()["id"] == response.json()["id"]
    records = api.call("GET", "/v1/audit", params={"kind": "feedback"}).json()["records"]
    assert [r["target"] for r in records] == [request_id, request_id]


def test_rating_someone_elses_or_an_unknown_request_is_not_found(api: Api) -> None:
    request_id = _asked(api, "dave@x.com")
    for user, rid in (("erin@x.com", request_id), ("dave@x.com", "no-such-request")):
        response = _feedback(api, user, request_id=rid, rating=1)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_rating_other_than_plus_or_minus_one_is_refused(api: Api) -> None:
    request_id = _asked(api, "dave@x.com")
    for rating in (0, 2, "good"):
        response = _feedback(api, "dave@x.com", request_id=request_id, rating=rating)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_request"


def test_a_user_key_rates_its_own_answers_without_on_behalf_of(api: Api) -> None:
    key = api.key(scopes=["query"], user_id="user:dave@x.com")
    source = api.source()
    api.put_doc(source, "travel", PUBLIC, allow=["everyone"])
    asked = api.call("POST", "/v1/answer", key=key, json={"query": QUESTION})
    assert asked.status_code == 200
    response = api.call("POST", "/v1/feedback", key=key,
                        json={"request_id": asked.json()["request_id"], "rating": -1})
    assert response.status_code == 201, response.text
