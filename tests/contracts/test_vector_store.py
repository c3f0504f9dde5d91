"""The ``VectorStore`` contract: every implementation passes these tests, the same way.

Runs against ``EdgeStore`` (Qdrant Edge in a temp dir) and ``QdrantServerStore`` (the
server code path on qdrant-client's ``:memory:`` mode). The entitlement filter is checked
on every leg: dense only, keyword only and hybrid.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import EVERYONE, Acl, Hit
from index.store import SearchFilters, StoreQuery, VectorStore

from .store_kit import MODES, STORE_KINDS, Mode, ask, caller, doc, doc_id_of, in_tenant, open_store

FILLER = [
    "Expense reports are due by the fifth working day of each month.",
    "The office closes at six in the evening on Fridays during summer.",
    "Laptops are replaced every three years by the IT service desk.",
    "Travel bookings above two thousand euros need a manager's approval.",
    "New starters receive a badge and a welcome pack on their first day.",
    "The cafeteria serves vegetarian options every day of the week.",
    "Parking spaces are allocated by the facilities team each quarter.",
    "Security training is mandatory for all employees once a year.",
    "Holiday requests should be filed at least two weeks in advance.",
    "The quarterly town hall is streamed for remote colleagues.",
]
SECRET_TEXT = "Project Nightingale merger terms: the acquisition price is confidential."


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    with open_store(request.param, tmp_path) as s:
        yield s


def _filler(store: VectorStore, *, tenant: str = "acme") -> None:
    points = []
    for i, text in enumerate(FILLER):
        points += doc(f"filler-{i}", text, tenant=tenant)
    store.upsert(points)


def _doc_ids(hits: list[Hit]) -> set[str]:
    return {h.doc_id for h in hits}


# -- the entitlement filter, on every leg ---------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_reader_in_allow_list_finds_the_document_by_its_words(store: VectorStore,
                                                              mode: Mode) -> None:
    _filler(store)
    store.upsert(doc("secret", SECRET_TEXT, allow=["group:finance"]))
    hits = store.search(ask(SECRET_TEXT, mode), entitlements=caller("user:ann", "group:finance"))
    assert hits and hits[0].doc_id == doc_id_of("secret")


@pytest.mark.parametrize("mode", MODES)
def test_user_outside_allow_list_gets_nothing_from_doc_even_for_its_exact_words(
        store: VectorStore, mode: Mode) -> None:
    _filler(store)
    store.upsert(doc("secret", SECRET_TEXT, "Nightingale board minutes.", allow=["group:finance"]))
    hits = store.search(ask(SECRET_TEXT, mode), entitlements=caller("user:bob", EVERYONE),
                        top_k=50)
    assert doc_id_of("secret") not in _doc_ids(hits)
    assert _doc_ids(hits) <= {doc_id_of(f"filler-{i}") for i in range(len(FILLER))}


@pytest.mark.parametrize("mode", MODES)
def test_deny_beats_allow(store: VectorStore, mode: Mode) -> None:
    store.upsert(doc("secret", SECRET_TEXT, allow=[EVERYONE, "group:finance"],
                     deny=["group:contractors"]))
    contractor = caller("user:carl", EVERYONE, "group:finance", "group:contractors")
    assert store.search(ask(SECRET_TEXT, mode), entitlements=contractor) == []
    employee = caller("user:erin", EVERYONE)
    assert _doc_ids(store.search(ask(SECRET_TEXT, mode), entitlements=employee)) == {
        doc_id_of("secret")}


@pytest.mark.parametrize("mode", MODES)
def test_other_tenant_with_same_principals_gets_nothing(store: VectorStore, mode: Mode) -> None:
    store.upsert(doc("secret", SECRET_TEXT, allow=[EVERYONE, "user:ann"]))
    other = caller("user:ann", EVERYONE, tenant="globex")
    assert store.search(ask(SECRET_TEXT, mode), entitlements=other) == []


@pytest.mark.parametrize("mode", MODES)
def test_empty_entitlements_match_nothing(store: VectorStore, mode: Mode) -> None:
    _filler(store)
    store.upsert(doc("nobody", SECRET_TEXT, allow=[]))
    assert store.search(ask(SECRET_TEXT, mode), entitlements=caller()) == []
    assert doc_id_of("nobody") not in _doc_ids(
        store.search(ask(SECRET_TEXT, mode), entitlements=caller(EVERYONE), top_k=50))


@pytest.mark.parametrize("mode", MODES)
def test_filter_sits_inside_each_leg_not_after_fusion(store: VectorStore, mode: Mode) -> None:
    """Restricted chunks that match best would fill a post-filtered candidate list; the
    one readable chunk must still come back."""
    text = "Quarterly revenue forecast for the northern region"
    restricted = []
    for i in range(12):
        restricted += doc(f"board-{i}", text, allow=["group:board"])
    store.upsert(restricted)
    store.upsert(doc("public", f"{text}, with a summary of the staff questions and answers "
                     "from the quarterly town hall meeting", allow=[EVERYONE]))
    query = ask(text, mode, prefetch_limit=3)
    board_view = store.search(query, entitlements=caller("group:board", EVERYONE), top_k=3)
    assert doc_id_of("public") not in _doc_ids(board_view)  # restricted copies rank higher
    hits = store.search(query, entitlements=caller(EVERYONE), top_k=3)
    assert _doc_ids(hits) == {doc_id_of("public")}


# -- keyword ranking ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize("question", ["QX7731Z", "What is the status of QX7731Z?"])
def test_document_with_unique_code_ranks_first_for_that_code(store: VectorStore, mode: Mode,
                                                             question: str) -> None:
    _filler(store)
    store.upsert(doc("orders", "Order status overview for the warehouse team.",
                     "Shipment QX7731Z left the warehouse on Monday; status: in transit.",
                     "Returns are processed within ten days."))
    hits = store.search(ask(question, mode), entitlements=caller(EVERYONE))
    assert hits[0].doc_id == doc_id_of("orders")
    assert "QX7731Z" in hits[0].text


def test_keyword_scores_ignore_documents_the_caller_cannot_read(store: VectorStore) -> None:
    """IDF is measured over what the caller may read: adding an unreadable document that
    uses the same term must not move the caller's scores (no count leaks through them)."""
    _filler(store)
    store.upsert(doc("memo", "The Nightingale memo describes the parking rota.", allow=[EVERYONE]))
    reader = caller(EVERYONE)
    before = store.search(ask("Nightingale", "keyword"), entitlements=reader)
    store.upsert(doc("secret", SECRET_TEXT, "Nightingale Nightingale", allow=["group:board"]))
    after = store.search(ask("Nightingale", "keyword"), entitlements=reader)
    assert [(h.chunk_id, round(h.score, 5)) for h in after] == [
        (h.chunk_id, round(h.score, 5)) for h in before]


# -- caller filters narrow, never widen ----------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_caller_filters_narrow_results(store: VectorStore, mode: Mode) -> None:
    text = "Onboarding checklist for new engineers"
    store.upsert(doc("a", text, source="wiki", metadata={"space": "eng"}))
    store.upsert(doc("b", text, source="drive", metadata={"space": "eng"}))
    store.upsert(doc("c", text, source="wiki", metadata={"space": "hr"}))
    everyone = caller(EVERYONE)

    def found(filters: SearchFilters) -> set[str]:
        return _doc_ids(store.search(ask(text, mode), entitlements=everyone, filters=filters))

    a, b, c = doc_id_of("a"), doc_id_of("b", "drive"), doc_id_of("c")
    assert found(SearchFilters()) == {a, b, c}
    assert found(SearchFilters(source_ids=frozenset({"drive"}))) == {b}
    assert found(SearchFilters(doc_ids=frozenset({a, c}))) == {a, c}
    assert found(SearchFilters(metadata={"space": "eng"})) == {a, b}
    assert found(SearchFilters(source_ids=frozenset({"wiki"}), metadata={"space": "hr"})) == {c}
    assert found(SearchFilters(source_ids=frozenset())) == set()
    assert found(SearchFilters(doc_ids=frozenset())) == set()


@pytest.mark.parametrize("mode", MODES)
def test_caller_filter_never_bypasses_the_acl(store: VectorStore, mode: Mode) -> None:
    store.upsert(doc("secret", SECRET_TEXT, source="vault", allow=["group:board"],
                     metadata={"space": "board"}))
    bob = caller("user:bob", EVERYONE)
    secret = doc_id_of("secret", "vault")
    for filters in (SearchFilters(doc_ids=frozenset({secret})),
                    SearchFilters(source_ids=frozenset({"vault"})),
                    SearchFilters(metadata={"space": "board"})):
        assert store.search(ask(SECRET_TEXT, mode), entitlements=bob, filters=filters) == []


# -- writes: ACL rewrite, delete, idempotent upsert, count -----------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_set_acl_rewrites_only_that_document_and_search_sees_it_at_once(
        store: VectorStore, mode: Mode) -> None:
    text = "Salary bands for the engineering ladder"
    store.upsert(doc("bands", text, f"{text}, continued"))
    store.upsert(doc("ladder", text))
    store.upsert(in_tenant(doc("bands", text), "globex"))  # same doc id, other tenant
    bob = caller("user:bob", EVERYONE)

    store.set_acl(tenant="acme", doc_id=doc_id_of("bands"), allow=frozenset({"group:hr"}),
                  deny=frozenset(), acl_version=2)

    assert _doc_ids(store.search(ask(text, mode), entitlements=bob)) == {doc_id_of("ladder")}
    hr_hits = store.search(ask(text, mode), entitlements=caller("user:hana", "group:hr"))
    assert _doc_ids(hr_hits) == {doc_id_of("bands")}
    assert len(hr_hits) == 2 and {h.acl_version for h in hr_hits} == {2}
    ladder = store.search(ask(text, mode), entitlements=bob)
    assert {h.acl_version for h in ladder} == {1}
    globex = store.search(ask(text, mode), entitlements=caller(EVERYONE, tenant="globex"))
    assert _doc_ids(globex) == {doc_id_of("bands")}


def test_set_acl_deny_takes_effect_at_once(store: VectorStore) -> None:
    store.upsert(doc("memo", SECRET_TEXT))
    store.set_acl(tenant="acme", doc_id=doc_id_of("memo"), allow=frozenset({EVERYONE}),
                  deny=frozenset({"user:bob"}), acl_version=2)
    for mode in MODES:
        assert store.search(ask(SECRET_TEXT, mode), entitlements=caller("user:bob", EVERYONE)) == []
        assert store.search(ask(SECRET_TEXT, mode), entitlements=caller("user:amy", EVERYONE))


def test_delete_document_removes_all_its_points(store: VectorStore) -> None:
    store.upsert(doc("gone", "first part", "second part", "third part"))
    store.upsert(doc("stays", "first part again"))
    store.upsert(in_tenant(doc("gone", "first part"), "globex"))
    assert store.count(tenant="acme", doc_id=doc_id_of("gone")) == 3

    store.delete_document(tenant="acme", doc_id=doc_id_of("gone"))

    assert store.count(tenant="acme", doc_id=doc_id_of("gone")) == 0
    assert store.count(tenant="acme", doc_id=doc_id_of("stays")) == 1
    assert store.count(tenant="globex", doc_id=doc_id_of("gone")) == 1
    for mode in MODES:
        hits = store.search(ask("first part", mode), entitlements=caller(EVERYONE))
        assert doc_id_of("gone") not in _doc_ids(hits)


def test_delete_document_keeping_one_version_drops_only_the_others(store: VectorStore) -> None:
    store.upsert(doc("policy", "old wording one", "old wording two", "old three", version="v1"))
    store.upsert(doc("policy", "new wording one", "new wording two", version="v2"))
    assert store.count(tenant="acme", doc_id=doc_id_of("policy")) == 5

    store.delete_document(tenant="acme", doc_id=doc_id_of("policy"), keep_content_hash="v2")

    assert store.count(tenant="acme", doc_id=doc_id_of("policy")) == 2
    hits = store.search(ask("wording", "hybrid"), entitlements=caller(EVERYONE), top_k=10)
    assert {h.content_hash for h in hits} == {"v2"}


def test_upserting_the_same_point_twice_is_idempotent(store: VectorStore) -> None:
    points = doc("faq", "How do I reset my password?", "Use the self-service portal.")
    store.upsert(points)
    store.upsert(points)
    assert store.count(tenant="acme") == 2
    retitled = doc("faq", "How do I reset my password?", "Use the self-service portal.",
                   title="FAQ (updated)")
    store.upsert(retitled)
    assert store.count(tenant="acme", doc_id=doc_id_of("faq")) == 2
    hits = store.search(ask("reset password", "keyword"), entitlements=caller(EVERYONE))
    assert {h.title for h in hits} == {"FAQ (updated)"}


def test_count_by_tenant_and_document(store: VectorStore) -> None:
    store.upsert(doc("a", "one", "two") + doc("b", "three"))
    store.upsert(in_tenant(doc("a", "one"), "globex"))
    assert store.count(tenant="acme") == 3
    assert store.count(tenant="acme", doc_id=doc_id_of("a")) == 2
    assert store.count(tenant="globex") == 1
    assert store.count(tenant="initech") == 0
    store.upsert([])
    assert store.count(tenant="acme") == 3


def test_hit_carries_the_chunk_payload(store: VectorStore) -> None:
    points = doc("guide", "Intro to the guide.", "Escalation path for outages.",
                 metadata={"space": "ops"}, title="Ops guide")
    store.upsert(points)
    [hit] = store.search(ask("escalation outages", "keyword"), entitlements=caller(EVERYONE),
                         top_k=1)
    point = points[1]
    assert hit.chunk_id == point.id
    assert (hit.doc_id, hit.source_id, hit.external_id) == (point.doc_id, "wiki", "guide")
    assert (hit.text, hit.title, hit.url) == (point.text, "Ops guide", point.url)
    assert (hit.ordinal, hit.content_hash, hit.acl_version) == (1, "v1", 1)
    assert hit.heading_path == ("Handbook", "guide")
    assert dict(hit.metadata) == {"space": "ops"}
    assert hit.snippet == "" and hit.score > 0


@pytest.mark.parametrize("mode", MODES)
def test_keys_only_hits_rank_alike_and_fill_gives_them_their_payloads(
        store: VectorStore, mode: Mode) -> None:
    _filler(store)
    store.upsert(doc("guide", "Intro to the guide.", "Escalation path for outages.",
                     title="Ops guide"))
    question, who = ask("escalation path outages", mode), caller(EVERYONE)
    full = store.search(question, entitlements=who, top_k=5)
    light = store.search(replace(question, keys_only=True), entitlements=who, top_k=5)
    assert [h.chunk_id for h in light] == [h.chunk_id for h in full]
    assert [h.score for h in light] == pytest.approx([h.score for h in full])
    assert [(h.doc_id, h.content_hash, h.acl_version, h.ordinal) for h in light] == [
        (h.doc_id, h.content_hash, h.acl_version, h.ordinal) for h in full]
    assert 1 in {h.ordinal for h in light}  # the lead bonus must tell a later chunk apart
    assert all(h.text == "" and h.title == "" for h in light)
    assert [replace(h, score=0.0) for h in store.fill(light)] == [
        replace(h, score=0.0) for h in full]
    assert [h.score for h in store.fill(light)] == [h.score for h in light]
    assert store.fill([]) == []


def test_fill_leaves_out_a_point_deleted_since_the_search(store: VectorStore) -> None:
    store.upsert(doc("guide", "Escalation path for outages."))
    store.upsert(doc("runbook", "Escalation steps for outages at night."))
    light = store.search(replace(ask("escalation outages", "keyword"), keys_only=True),
                         entitlements=caller(EVERYONE), top_k=5)
    assert {h.doc_id for h in light} == {doc_id_of("guide"), doc_id_of("runbook")}
    store.delete_document(tenant="acme", doc_id=doc_id_of("guide"))
    assert [h.doc_id for h in store.fill(light)] == [doc_id_of("runbook")]


def test_search_with_no_keyword_terms_returns_nothing_on_the_keyword_leg(
        store: VectorStore) -> None:
    _filler(store)
    assert store.search(ask("the of and", "keyword"), entitlements=caller(EVERYONE)) == []


def test_query_needs_a_vector(store: VectorStore) -> None:
    with pytest.raises(ValueError):
        store.search(StoreQuery(), entitlements=caller(EVERYONE))


# -- property: nothing a caller may not read comes back -------------------------------------

PRINCIPALS = ["user:ann", "user:bob", "group:eng", "group:hr", EVERYONE]
_acls = st.builds(
    Acl,
    allow=st.frozensets(st.sampled_from(PRINCIPALS), max_size=3),
    deny=st.frozensets(st.sampled_from(PRINCIPALS), max_size=2),
)
WORDS = ["budget", "roadmap", "hiring", "QX7731Z", "laptop", "travel", "security", "payroll"]


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_every_hit_is_one_the_caller_may_read(kind: str, tmp_path: Path) -> None:
    """Random ACLs and principal sets: on every leg, each hit satisfies ``Acl.permits``, and
    (dense, top_k past the corpus) every readable document comes back."""
    with open_store(kind, tmp_path) as store:

        @settings(max_examples=25, deadline=None, derandomize=True)
        @given(
            acls=st.lists(_acls, min_size=1, max_size=6),
            principals=st.frozensets(st.sampled_from(PRINCIPALS), max_size=4),
            word=st.sampled_from(WORDS),
        )
        def check(acls: list[Acl], principals: frozenset[str], word: str) -> None:
            # Examples share the store; each writes under its own tenant, so they cannot
            # see each other (tenant isolation is itself under test).
            tenant = uuid.uuid4().hex
            by_doc: dict[str, Acl] = {}
            for i, acl in enumerate(acls):
                points = doc(f"d{i}", f"{word} plan {i} for {WORDS[i % len(WORDS)]}",
                             tenant=tenant, allow=acl.allow, deny=acl.deny)
                by_doc[points[0].doc_id] = acl
                store.upsert(points)
            me = caller(*principals, tenant=tenant)
            readable = {d for d, acl in by_doc.items() if acl.permits(principals)}
            for mode in MODES:
                hits = store.search(ask(f"{word} plan", mode), entitlements=me,
                                    top_k=len(acls) + 5)
                assert all(by_doc[h.doc_id].permits(principals) for h in hits), mode
                if mode == "dense":
                    assert _doc_ids(hits) == readable

        check()
