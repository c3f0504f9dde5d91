"""What a user may not read never reaches them: not as a hit, a snippet, a citation, a
quote or a word of an answer. Every permission change is effective for the next query."""

from __future__ import annotations

import json

from tests.api.conftest import Api

SECRET = ("Project QX7731Z merger memo. The acquisition price for Halvorsen Robotics is "
          "forty-two million euros, to be announced on the ninth of March.")
PUBLIC = "Cafeteria menu. Lunch is served from noon until two in the afternoon."
ALICE, BOB, CAROL = "alice@x.com", "bob@x.com", "carol@x.com"


def _world(api: Api) -> str:
    api.group("board", [f"user:{ALICE}"])
    source = api.source()
    api.put_doc(source, "memo", SECRET, allow=["group:board"], title="Merger memo")
    api.put_doc(source, "menu", PUBLIC, allow=["everyone"], title="Cafeteria")
    return source


def _leaks(payload: object) -> bool:
    text = json.dumps(payload).lower()
    return any(word in text for word in ("qx7731z", "halvorsen", "forty-two", "merger"))


def test_user_outside_group_gets_no_hit_snippet_or_citation_from_restricted_doc(api: Api) -> None:
    _world(api)
    for query in ("QX7731Z", "acquisition price Halvorsen Robotics", "merger memo"):
        hits = api.search(BOB, query, top_k=100)
        assert not _leaks(hits), query
        answer = api.answer(BOB, f"What is the {query}?")
        assert answer["abstained"] and answer["citations"] == []
        assert not _leaks(answer)


def test_group_member_finds_and_gets_a_cited_answer_from_restricted_doc(api: Api) -> None:
    _world(api)
    hits = api.search(ALICE, "QX7731Z")
    assert hits and hits[0]["title"] == "Merger memo"
    answer = api.answer(ALICE, "What is the acquisition price for Halvorsen Robotics?")
    assert not answer["abstained"]
    assert any("forty-two million" in c["quote"] for c in answer["citations"])


def test_deny_beats_allow(api: Api) -> None:
    api.group("staff", [f"user:{ALICE}", f"user:{BOB}"])
    source = api.source()
    api.put_doc(source, "plan", SECRET, allow=["group:staff"], deny=[f"user:{BOB}"])
    assert api.search(ALICE, "QX7731Z")
    assert not _leaks(api.search(BOB, "QX7731Z"))


def test_nested_group_membership_grants_access(api: Api) -> None:
    api.group("platform", [f"user:{CAROL}"])
    api.group("engineering", ["group:platform"])
    api.group("company", ["group:engineering"])
    source = api.source()
    api.put_doc(source, "memo", SECRET, allow=["group:company"])
    assert api.search(CAROL, "QX7731Z")
    assert not api.search(BOB, "QX7731Z")


def test_removing_a_member_is_effective_for_the_next_query(api: Api) -> None:
    _world(api)
    assert api.search(ALICE, "QX7731Z")
    api.group("board", [f"user:{CAROL}"])
    assert not _leaks(api.search(ALICE, "QX7731Z"))
    assert api.search(CAROL, "QX7731Z")


def test_changing_a_documents_acl_is_effective_for_the_next_query(api: Api) -> None:
    source = _world(api)
    response = api.call("PUT", f"/v1/sources/{source}/documents/memo/acl",
                        json={"allow": [f"user:{BOB}"], "deny": []})
    assert response.status_code == 200, response.text
    assert not _leaks(api.search(ALICE, "QX7731Z"))
    assert api.search(BOB, "QX7731Z")


def test_deleting_a_document_is_effective_for_the_next_query(api: Api) -> None:
    source = _world(api)
    assert api.call("DELETE", f"/v1/sources/{source}/documents/memo").status_code == 200
    assert not _leaks(api.search(ALICE, "QX7731Z"))
    got = api.call("GET", f"/v1/sources/{source}/documents/memo").json()
    assert got["status"] == "deleted"


def test_abstains_on_off_topic_questions(api: Api) -> None:
    _world(api)
    answer = api.answer(ALICE, "What is the capital of Peru?")
    assert answer["abstained"] and answer["reason"] == "no_relevant_documents"
    assert answer["citations"] == []


def test_abstains_when_the_only_answer_is_restricted(api: Api) -> None:
    _world(api)
    answer = api.answer(BOB, "What is the acquisition price for Halvorsen Robotics?")
    assert answer["abstained"] and answer["reason"] == "no_relevant_documents"
    assert not _leaks(answer)


def test_unknown_users_see_only_what_everyone_sees(api: Api) -> None:
    _world(api)
    titles = {h["title"] for h in api.search("nobody@else.com", "lunch menu merger memo")}
    assert titles <= {"Cafeteria"}


def test_tenants_never_see_each_other(api: Api) -> None:
    _world(api)
    other = api.key(scopes=["act_as"], tenant="acme")
    response = api.call("POST", "/v1/search", key=other, as_user=ALICE,
                        json={"query": "QX7731Z cafeteria lunch"})
    assert response.status_code == 200
    assert response.json()["hits"] == []


def test_history_shows_only_the_callers_own_questions(api: Api) -> None:
    _world(api)
    api.answer(ALICE, "What is QX7731Z?")
    api.answer(BOB, "When is lunch served?")
    bob_key = api.key(scopes=["query"], user_id=BOB)
    items = api.call("GET", "/v1/me/history", key=bob_key).json()["items"]
    assert [i["query"] for i in items] == ["When is lunch served?"]


def test_an_answer_giving_several_figures_gives_none_from_a_restricted_document(
        api: Api) -> None:
    api.group("rotterdam", [f"user:{ALICE}"])
    source = api.source()
    api.put_doc(source, "pto", "All full-time US employees receive 20 vacation days per year. "
                "Part-time employees receive 12 vacation days per year.",
                allow=["everyone"], title="PTO policy")
    api.put_doc(source, "nl", "Rotterdam employees receive 25 vacation days per year.",
                allow=["group:rotterdam"], title="Dutch addendum")
    outsider = api.answer(BOB, "How many vacation days do employees receive per year?")
    assert not outsider["abstained"], outsider
    assert "20" in outsider["answer"] and "12" in outsider["answer"]
    text = json.dumps(outsider).lower()
    assert "25 vacation" not in text and "rotterdam" not in text and "dutch" not in text
    member = api.answer(ALICE, "How many vacation days do employees receive per year?")
    assert any("25 vacation days" in c["quote"] for c in member["citations"])
