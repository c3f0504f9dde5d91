"""Pushed documents in Celery mode: the API hands each one to the ``embed`` queue, and a
call that asked to wait (``?wait=true``) waits for the worker's reply.

The API marks the document's row ``queued`` (SQL) and sends the raw document in the task
message (``workers.messages``), its content staged in SQL when larger than
``workers.staging.INLINE_BYTES``; a worker parses, chunks, embeds and writes it as it does
for a sync, so the API process never embeds a pushed document. The reply travels on a
Redis list of its own: the worker pushes the outcome there and the API blocks on it with
BLPOP for at most the caller's wait. No Celery result backend is involved, and a reply
nobody waits for expires (``workers.messages.REPLY_TTL_S``).

A task retried because the store was down replies when it finally succeeds; a caller
whose wait ran out meanwhile got ``504 wait_timeout`` and polls the document instead.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from core import RawDocument

from .messages import outcomes_from_reply, raw_to_message
from .pipeline import IngestOutcome
from .staging import INLINE_BYTES, stage
from .tasks import TASK_NAMES


class WorkerReply:
    """One pushed document's outcome, once a worker has sent it."""

    def __init__(self, client: redis.Redis, key: str, external_id: str) -> None:
        self._client, self._key, self._external_id = client, key, external_id

    def result(self, timeout: float | None = None) -> IngestOutcome:
        """Block for the outcome; ``TimeoutError`` if it takes longer than ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        popped = None
        while popped is None:
            left = 0.0 if deadline is None else deadline - time.monotonic()
            if deadline is not None and left <= 0:
                raise TimeoutError(f"no reply for {self._external_id} within {timeout} s")
            popped = self._client.blpop([self._key], timeout=left)  # 0: no time limit
        for outcome in outcomes_from_reply(popped[1]):
            if outcome.external_id == self._external_id:
                return outcome
        raise RuntimeError(f"the worker's reply does not mention {self._external_id}")


class WorkerPushes:
    """``submit`` sends one pushed document to the workers; ``app`` is a Celery client
    built by ``workers.create_worker`` (it only sends); ``sessions`` stage large content."""

    def __init__(self, app: Any, sessions: sessionmaker[Session]) -> None:
        self._app = app
        self._runtime = app.clearance_runtime
        self._sessions = sessions

    def submit(self, raw: RawDocument, *, tenant: str, source_id: str) -> WorkerReply:
        key = self._runtime.key(f"reply:{uuid.uuid4().hex}")
        ref = (stage(self._sessions, tenant=tenant, content=raw.content)
               if len(raw.content) > INLINE_BYTES else None)
        self._app.send_task(TASK_NAMES["ingest_documents"],
                            args=[tenant, source_id, [raw_to_message(raw, content_ref=ref)]],
                            kwargs={"reply_key": key})
        return WorkerReply(self._runtime.redis, key, raw.external_id)
