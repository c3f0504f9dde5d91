"""Documents pushed through the API, turned into ``RawDocument``s.

Given ``text``, the bytes are its UTF-8 encoding and the type is ``text/plain`` unless a
``mime_type`` says otherwise (``text/markdown``, ``text/html``). Given ``content`` bytes,
a ``mime_type`` is required. With no ``allow`` list the ACL is None: readable by nobody
until one is set (fail closed). A naive ``updated_at`` is taken as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.errors import ClearanceError, DocumentTooLarge, InputError
from core.types import RawDocument

from ._acl import acl_of
from .base import ConnectorFailure

_FIELDS = frozenset({"external_id", "title", "text", "content", "mime_type", "url",
                     "allow", "deny", "updated_at", "metadata"})


def push_document(
    *,
    external_id: str,
    title: str,
    text: str | None = None,
    content: bytes | None = None,
    mime_type: str | None = None,
    url: str | None = None,
    allow: Sequence[str] | None = None,
    deny: Sequence[str] = (),
    updated_at: datetime | None = None,
    metadata: Mapping[str, str] | None = None,
) -> RawDocument:
    if not external_id.strip():
        raise InputError("external_id must not be blank")
    body, mime = _body(text, content, mime_type)
    acl = acl_of(allow, deny) if allow is not None else None
    if allow is None:
        acl_of([], deny)  # a deny list given alone is still checked
    if updated_at is not None and updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    return RawDocument(
        external_id=external_id, title=title, content=body, mime_type=mime, acl=acl,
        url=url, updated_at=updated_at, metadata=dict(metadata or {}),
    )


def _body(text: str | None, content: bytes | None, mime_type: str | None) -> tuple[bytes, str]:
    if (text is None) == (content is None):
        raise InputError("give exactly one of 'text' or 'content'")
    if text is not None:
        return text.encode("utf-8"), mime_type or "text/plain"
    if not mime_type:
        raise InputError("'content' needs a 'mime_type'")
    assert content is not None
    return bytes(content), mime_type


@dataclass(frozen=True)
class PushConnector:
    """Pushed items as API-shaped mappings (the keyword arguments of ``push_document``;
    ``updated_at`` may be an ISO 8601 string). A bad item becomes a failure, not a crash."""

    items: Sequence[Mapping[str, Any]]
    max_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, max_bytes: int) -> PushConnector:
        return cls(items=list(config.get("documents", [])), max_bytes=max_bytes)

    def documents(self) -> Iterator[RawDocument | ConnectorFailure]:
        for index, item in enumerate(self.items):
            external_id = str(item.get("external_id") or f"#{index}")
            try:
                yield self._document(item)
            except ClearanceError as exc:
                yield ConnectorFailure.of(external_id, exc)

    def _document(self, item: Mapping[str, Any]) -> RawDocument:
        unknown = sorted(set(item) - _FIELDS)
        if unknown:
            raise InputError(f"unknown fields: {', '.join(unknown)}")
        _check_types(item)
        fields = dict(item)
        if isinstance(fields.get("updated_at"), str):
            fields["updated_at"] = _timestamp(fields["updated_at"])
        try:
            document = push_document(**fields)
        except TypeError as exc:
            raise InputError(f"malformed item ({exc})") from exc
        if len(document.content) > self.max_bytes:
            raise DocumentTooLarge(f"document is {len(document.content)} bytes; "
                                   f"the limit is {self.max_bytes}")
        return document


def _timestamp(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError("updated_at is not an ISO 8601 timestamp") from None


def _check_types(item: Mapping[str, Any]) -> None:
    for name in ("external_id", "title", "text", "mime_type", "url"):
        if item.get(name) is not None and not isinstance(item[name], str):
            raise InputError(f"{name!r} must be a string")
    if item.get("content") is not None and not isinstance(item["content"], (bytes, bytearray)):
        raise InputError("'content' must be bytes")
    metadata = item.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise InputError("'metadata' must map strings to strings")
