"""What travels through Redis between the API and the workers: a pushed document in a
task message (its content inline, or the id of a copy staged in SQL: ``workers.staging``),
and the outcomes a worker sends back to an API call that waits for them (``workers.push``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis

from core import Acl, RawDocument

from .pipeline import IngestOutcome

REPLY_TTL_S = 3600
"""A reply nobody read is dropped after an hour."""


def raw_to_message(raw: RawDocument, *, content_ref: str | None = None) -> dict[str, Any]:
    """A RawDocument as JSON for the broker (ACL as lists); the content base64, or only
    ``content_ref`` when it was staged in SQL (``workers.staging``)."""
    content = ({"content_ref": content_ref} if content_ref is not None
               else {"content_b64": base64.b64encode(raw.content).decode()})
    return {
        "external_id": raw.external_id, "title": raw.title, **content,
        "mime_type": raw.mime_type,
        "acl": None if raw.acl is None else {"allow": sorted(raw.acl.allow),
                                             "deny": sorted(raw.acl.deny)},
        "url": raw.url, "updated_at": raw.updated_at.isoformat() if raw.updated_at else None,
        "metadata": dict(raw.metadata),
    }


def content_ref(message: dict[str, Any]) -> str | None:
    """The staged content's id, when the message carries one instead of the content."""
    ref = message.get("content_ref")
    return None if ref is None else str(ref)


def raw_from_message(message: dict[str, Any], *, staged: bytes | None = None) -> RawDocument:
    """The RawDocument back; ``staged``: the content read for a ``content_ref``."""
    acl = message.get("acl")
    updated = message.get("updated_at")
    if content_ref(message) is not None:
        if staged is None:
            raise ValueError("a staged document needs its staged content")
        content = staged
    else:
        content = base64.b64decode(message["content_b64"])
    return RawDocument(
        external_id=message["external_id"], title=message.get("title", ""),
        content=content, mime_type=message["mime_type"],
        acl=None if acl is None else Acl.of(acl.get("allow", []), acl.get("deny", [])),
        url=message.get("url"),
        updated_at=datetime.fromisoformat(updated) if updated else None,
        metadata=dict(message.get("metadata") or {}),
    )


def outcome_message(outcome: IngestOutcome) -> dict[str, Any]:
    return {"doc_id": outcome.doc_id, "external_id": outcome.external_id,
            "status": outcome.status, "chunks": outcome.chunks,
            "error_code": outcome.error_code, "error_message": outcome.error_message}


def send_reply(client: redis.Redis, key: str, outcomes: Sequence[IngestOutcome]) -> None:
    """The outcomes of one task, for the API call waiting on ``key`` (a Redis list)."""
    with client.pipeline() as pipe:
        pipe.rpush(key, json.dumps([outcome_message(o) for o in outcomes]))
        pipe.expire(key, REPLY_TTL_S)
        pipe.execute()


def outcomes_from_reply(payload: bytes | str) -> list[IngestOutcome]:
    return [IngestOutcome(**message) for message in json.loads(payload)]
