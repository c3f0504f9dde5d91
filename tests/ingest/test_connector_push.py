"""Pushed documents become RawDocuments; bad items become failures, never crashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.errors import AclInvalid, InputError
from core.types import Acl
from ingest.connectors import (
    ConnectorFailure,
    PushConnector,
    connector_kinds,
    create_connector,
    push_document,
)


def test_text_is_encoded_utf8_as_plain_text_by_default() -> None:
    doc = push_document(external_id="e1", title="T", text="Grüße", allow=["everyone"])

    assert doc.content == "Grüße".encode()
    assert doc.mime_type == "text/plain"


def test_text_keeps_a_given_mime_type() -> None:
    doc = push_document(external_id="e1", title="T", text="# Hi", mime_type="text/markdown",
                        allow=["everyone"])

    assert doc.mime_type == "text/markdown"


def test_content_bytes_need_a_mime_type() -> None:
    with pytest.raises(InputError, match="mime_type"):
        push_document(external_id="e1", title="T", content=b"%PDF-1.7")


@pytest.mark.parametrize("body", [{}, {"text": "a", "content": b"a"}])
def test_exactly_one_of_text_or_content_is_required(body: dict[str, object]) -> None:
    with pytest.raises(InputError, match="exactly one"):
        push_document(external_id="e1", title="T", **body)  # type: ignore[arg-type]


def test_no_allow_list_means_readable_by_nobody() -> None:
    assert push_document(external_id="e1", title="T", text="x").acl is None
    assert push_document(external_id="e1", title="T", text="x", deny=["user:a@x.test"]).acl is None


def test_principals_are_normalised_and_deny_is_kept() -> None:
    doc = push_document(external_id="e1", title="T", text="x",
                        allow=["user:Alice@Example.COM", "group:eng"], deny=["user:Bob@x.test"])

    assert doc.acl == Acl(allow=frozenset({"user:alice@example.com", "group:eng"}),
                          deny=frozenset({"user:bob@x.test"}))


@pytest.mark.parametrize("allow", [["alice@example.com"], ["user:"], [""], [42]])
def test_principals_without_a_namespace_are_rejected(allow: list[object]) -> None:
    with pytest.raises(AclInvalid) as caught:
        push_document(external_id="e1", title="T", text="x", allow=allow)  # type: ignore[arg-type]

    assert caught.value.code == "acl_invalid"


def test_a_bad_deny_list_is_rejected_even_without_an_allow_list() -> None:
    with pytest.raises(AclInvalid):
        push_document(external_id="e1", title="T", text="x", deny=["bob"])


def test_naive_updated_at_is_taken_as_utc() -> None:
    naive = datetime(2024, 5, 1, 12, 0)
    aware = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    assert push_document(external_id="e", title="T", text="x", updated_at=naive).updated_at == (
        naive.replace(tzinfo=UTC)
    )
    assert push_document(external_id="e", title="T", text="x", updated_at=aware).updated_at == aware


def test_connector_turns_api_shaped_items_into_documents_and_failures() -> None:
    connector = PushConnector(max_bytes=100, items=[
        {"external_id": "ok", "title": "Fine", "text": "hello", "allow": ["everyone"],
         "url": "https://wiki.test/ok", "updated_at": "2024-05-01T10:00:00Z",
         "metadata": {"space": "HR"}},
        {"external_id": "big", "title": "Big", "text": "x" * 101, "allow": ["everyone"]},
        {"external_id": "acl", "title": "Bad ACL", "text": "x", "allow": ["bob"]},
        {"external_id": "typo", "title": "Typo", "txt": "x"},
        {"title": "No id", "text": "x"},
        {"external_id": "when", "title": "T", "text": "x", "updated_at": "yesterday"},
        {"external_id": "num", "title": "T", "text": 5},
    ])

    results = list(connector.documents())

    doc = results[0]
    assert not isinstance(doc, ConnectorFailure)
    assert (doc.external_id, doc.url) == ("ok", "https://wiki.test/ok")
    assert doc.metadata == {"space": "HR"}
    assert doc.updated_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert [(r.external_id, r.code) for r in results[1:] if isinstance(r, ConnectorFailure)] == [
        ("big", "payload_too_large"), ("acl", "acl_invalid"), ("typo", "invalid_input"),
        ("#4", "invalid_input"), ("when", "invalid_input"), ("num", "invalid_input"),
    ]


def test_push_and_filesystem_are_registered_kinds() -> None:
    assert {"push", "filesystem"} <= connector_kinds()
    connector = create_connector("push", {"documents": [{"external_id": "a", "title": "A",
                                                         "text": "x"}]}, max_bytes=10)
    assert isinstance(connector, PushConnector)
    assert [d.external_id for d in connector.documents()] == ["a"]


def test_unknown_connector_kind_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="filesystem"):
        create_connector("sharepoint-typo", {}, max_bytes=10)
