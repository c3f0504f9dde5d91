"""``"stream": true`` on /v1/answer, through the real HTTP route: server-sent token events,
then exactly one final event holding the whole (checked) answer, and nothing of a
document the caller may not read in any event."""

from __future__ import annotations

import json
from typing import Any

from core import Entitlements
from core.audit import AuditContext

from .conftest import Api

PUBLIC = ("Employees may book economy class for flights under six hours. "
          "Business class is allowed for flights longer than six hours.")
SECRET = ("The merger codename is BLUEFALCON and the acquisition of Zephyr Dynamics "
          "closes in March. Business class is allowed for the merger team.")


def events_of(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def stream_answer(api: Api, user: str, query: str, **body: Any) -> tuple[str, Any]:
    headers = {"Authorization": "Bearer ck_test_admin_key_for_the_suite",
               "X-On-Behalf-Of": user}
    with api.client.stream("POST", "/v1/answer", headers=headers,
                           json={"query": query, "stream": True, **body}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join(response.iter_text())
    return raw, events_of(raw)


def _setup(api: Api) -> dict[str, str]:
    source = api.source()
    public = api.put_doc(source, "travel", PUBLIC, allow=["everyone"], title="Travel policy")
    secret = api.put_doc(source, "merger", SECRET, allow=["group:corpdev"],
                         title="Project Zephyr merger")
    api.group("corpdev", ["user:carol@x.com"])
    return {"public": public["doc_id"], "secret": secret["doc_id"]}


def test_a_streamed_answer_is_tokens_then_exactly_one_final(api: Api) -> None:
    _setup(api)
    _, events = stream_answer(api, "dave@x.com", "Which class may employees book for "
                                                 "flights under six hours?")
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    assert set(kinds[:-1]) == {"token"} and len(kinds) > 2
    final = events[-1][1]
    assert "".join(data["text"] for kind, data in events[:-1]) == final["answer"]
    assert not final["abstained"] and final["citations"]
    assert final["model"] == "extractive" and final["fallback_from"] is None
    assert final["request_id"]
    non_streamed = api.answer("dave@x.com", "Which class may employees book for flights "
                                            "under six hours?")
    assert non_streamed["answer"] == final["answer"]


def test_a_user_without_access_receives_nothing_of_a_restricted_document_in_any_event(
        api: Api) -> None:
    ids = _setup(api)
    for query in ("What is the merger codename BLUEFALCON?",
                  "When does the acquisition of Zephyr Dynamics close?",
                  "Is business class allowed?"):
        raw, events = stream_answer(api, "dave@x.com", query)
        for needle in ("BLUEFALCON", "Zephyr", "merger", ids["secret"]):
            assert needle not in raw, (query, needle)
        assert events[-1][0] == "final"
    raw, _ = stream_answer(api, "carol@x.com", "What is the merger codename BLUEFALCON?")
    assert "BLUEFALCON" in raw, "the member of the group does get it"


def test_a_failure_while_streaming_is_one_error_event(api: Api) -> None:
    _setup(api)

    class Broken:
        kind = "broken"
        can_stream = False
        supports_schema = False

        def generate(self, request: object) -> object:
            raise RuntimeError("boom: The merger codename is BLUEFALCON")

    api.client.app.state.clearance.answerer.adapter = Broken()  # type: ignore[attr-defined]
    raw, events = stream_answer(api, "carol@x.com", "What is the merger codename?")
    assert [kind for kind, _ in events] == ["error"]
    assert events[0][1]["error"]["code"] == "internal_error"
    assert "BLUEFALCON" not in raw


def test_an_abstention_streams_its_message_and_a_final_with_no_citation(api: Api) -> None:
    _setup(api)
    _, events = stream_answer(api, "dave@x.com", "What is the budget of project QX-7731?")
    final = events[-1][1]
    assert final["abstained"] and final["citations"] == [] and final["reason"]


def test_a_caller_who_leaves_mid_stream_still_leaves_an_audit_row(api: Api) -> None:
    _setup(api)
    answerer = api.client.app.state.clearance.answerer  # type: ignore[attr-defined]
    entitlements = Entitlements(tenant="default", principals=frozenset({"everyone",
                                                                        "user:dave@x.com"}))
    audit = AuditContext(tenant="default", caller="test", user_id="user:dave@x.com",
                         request_id="req-left")
    run = answerer.stream("Which class may employees book for flights under six hours?",
                          entitlements=entitlements, audit=audit)
    assert next(run)
    run.close()
    records = api.call("GET", "/v1/audit", params={"kind": "answer"}).json()["records"]
    left = [r for r in records if r["request_id"] == "req-left"]
    assert len(left) == 1
    assert (left[0]["status_code"], left[0]["reason"]) == (499, "client_closed")
