"""``can-read`` answers: the decision Acl.permits makes, and the chain that made it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from acl import AccessExplanation, explain_access, explain_document_access, put_group
from core.db import transaction
from core.errors import NotFound
from core.models import Document, DocumentStatus, Source, Tenant
from core.types import Acl, Entitlements

T = "default"
BOB = "user:bob@x.com"
CHAINS = {
    BOB: (BOB,),
    "group:platform": (BOB, "group:platform"),
    "group:eng": (BOB, "group:platform", "group:eng"),
    "everyone": (BOB, "everyone"),
}
ENTS = Entitlements(tenant=T, principals=frozenset(CHAINS))


def _explain(allow: list[str], deny: list[str] = []) -> AccessExplanation:  # noqa: B006
    return explain_access(Acl.of(allow, deny), entitlements=ENTS, chains=CHAINS)


def test_access_through_nested_groups_names_the_whole_chain() -> None:
    assert _explain(["group:eng", "group:hr"]) == AccessExplanation(
        True, "allowed", (BOB, "group:platform", "group:eng")
    )


def test_the_shortest_granting_chain_is_reported() -> None:
    assert _explain(["group:eng", "group:platform"]).via == (BOB, "group:platform")
    assert _explain(["group:eng", "User:Bob@X.com"]).via == (BOB,)


def test_deny_beats_allow_and_names_the_denying_chain() -> None:
    assert _explain([BOB], deny=["group:eng"]) == AccessExplanation(
        False, "denied", (BOB, "group:platform", "group:eng")
    )
    assert _explain(["everyone"], deny=["everyone"]).reason == "denied"


def test_no_matching_entry_or_an_empty_allow_list_lets_nobody_in() -> None:
    assert _explain(["group:hr"]) == AccessExplanation(False, "not_allowed", ())
    assert _explain([]) == AccessExplanation(False, "not_allowed", ())
    assert _explain([], deny=["group:hr"]).reason == "not_allowed"


def test_everyone_grants_through_the_users_own_membership_of_everyone() -> None:
    assert _explain(["everyone"]).via == (BOB, "everyone")


@pytest.mark.parametrize(
    ("allow", "deny"),
    [([], []), (["group:eng"], []), (["group:eng"], ["user:bob@x.com"]), (["x@y.com"], []),
     (["everyone"], ["group:hr"]), (["group:hr", "group:platform"], ["group:hr"])],
)
def test_the_explanation_always_agrees_with_acl_permits(
    allow: list[str], deny: list[str]
) -> None:
    acl = Acl.of(allow, deny)
    assert _explain(allow, deny).allowed == acl.permits(ENTS.principals)


def _document(sessions: sessionmaker[Session], *, tenant: str, doc_id: str,
              allow: list[str], status: str = DocumentStatus.INDEXED) -> None:
    with transaction(sessions) as s:
        if s.get(Tenant, tenant) is None:
            s.add(Tenant(id=tenant, acl_epoch=0))
            s.flush()
        source_id = f"src-{tenant}"
        if s.get(Source, source_id) is None:
            s.add(Source(id=source_id, tenant_id=tenant, name="wiki", kind="push"))
            s.flush()
        s.add(Document(id=doc_id, tenant_id=tenant, source_id=source_id, external_id=doc_id,
                       acl_allow=allow, acl_deny=[], status=status))


def test_a_stored_document_is_explained_from_sql(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        put_group(s, tenant=T, group_id="platform", members=[BOB])
        put_group(s, tenant=T, group_id="eng", members=["group:platform"])
    _document(sessions, tenant=T, doc_id="d1", allow=["group:eng"])
    with sessions() as s:
        got = explain_document_access(s, tenant=T, user_id="Bob@X.com", doc_id="d1")
        stranger = explain_document_access(s, tenant=T, user_id="eve@x.com", doc_id="d1")
    assert got == AccessExplanation(True, "allowed", (BOB, "group:platform", "group:eng"))
    assert stranger == AccessExplanation(False, "not_allowed", ())


def test_another_tenants_or_a_deleted_document_reads_as_missing(
    sessions: sessionmaker[Session],
) -> None:
    _document(sessions, tenant="acme", doc_id="theirs", allow=["everyone"])
    _document(sessions, tenant=T, doc_id="gone", allow=["everyone"],
              status=DocumentStatus.DELETED)
    with sessions() as s:
        messages = []
        for doc_id in ["theirs", "gone", "never-existed"]:
            with pytest.raises(NotFound) as caught:
                explain_document_access(s, tenant=T, user_id=BOB, doc_id=doc_id)
            messages.append(caught.value.message.replace(doc_id, "<id>"))
    assert len(set(messages)) == 1
