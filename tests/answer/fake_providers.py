"""Fake model servers speaking the providers' wire formats, for the official SDKs.

Each is an ``httpx2.MockTransport`` handler (the SDKs use httpx2; both accept an
``http_client``), so the SDK runs unmodified and only the network is fake. A fake is
scripted with a list of replies, one per request; what it received is kept in
``requests``.

Formats: OpenAI chat completions and their ``data: {chunk}`` / ``data: [DONE]`` stream
(https://platform.openai.com/docs/api-reference/chat); Anthropic messages with a
``tool_use`` block and the ``message_start`` / ``content_block_delta`` (``input_json_delta``)
/ ``message_delta`` / ``message_stop`` stream
(https://platform.claude.com/docs/build-with-claude/streaming).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

OPENAI_VERSION = "gpt-test-2026-01-01"
ANTHROPIC_VERSION = "claude-test-2026-01-01"

Reply = Callable[[httpx2.Request], httpx2.Response]


def cited(answer: str, *citations: tuple[int, str], abstained: bool = False,
          reason: str | None = None) -> dict[str, Any]:
    """The structured answer object a well-behaved model returns."""
    return {"answer": answer, "citations": [{"source": n, "quote": q} for n, q in citations],
            "abstained": abstained, "reason": reason}


def status(code: int, *, headers: dict[str, str] | None = None) -> Reply:
    def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(code, headers=headers or {},
                               json={"error": {"type": "error", "message": f"HTTP {code}"}})
    return reply


def timeout() -> Reply:
    def reply(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)
    return reply


# --- OpenAI -----------------------------------------------------------------------------

def openai_json(content: str | dict[str, Any]) -> Reply:
    text = content if isinstance(content, str) else json.dumps(content)

    def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1,
            "model": OPENAI_VERSION,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        })
    return reply


def openai_stream(content: str | dict[str, Any], *, pieces: int = 7) -> Reply:
    text = content if isinstance(content, str) else json.dumps(content)
    size = max(1, len(text) // pieces)
    deltas = [text[i:i + size] for i in range(0, len(text), size)]

    def chunk(delta: dict[str, Any], finish: str | None = None,
              usage: dict[str, int] | None = None) -> str:
        body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": OPENAI_VERSION,
                "choices": [] if usage else [{"index": 0, "delta": delta,
                                              "finish_reason": finish}]}
        if usage:
            body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n"

    def reply(request: httpx2.Request) -> httpx2.Response:
        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": d}) for d in deltas]
        events.append(chunk({}, "stop"))
        events.append(chunk({}, usage={"prompt_tokens": 50, "completion_tokens": 20,
                                       "total_tokens": 70}))
        events.append("data: [DONE]\n\n")
        return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                               content="".join(events).encode())
    return reply


# --- Anthropic --------------------------------------------------------------------------

def anthropic_tool(tool_input: dict[str, Any] | None, *, text: str | None = None) -> Reply:
    def reply(request: httpx2.Request) -> httpx2.Response:
        content: list[dict[str, Any]] = []
        if text is not None:
            content.append({"type": "text", "text": text})
        if tool_input is not None:
            content.append({"type": "tool_use", "id": "toolu_1", "name": "cited_answer",
                            "input": tool_input})
        return httpx2.Response(200, json={
            "id": "msg_1", "type": "message", "role": "assistant",
            "model": ANTHROPIC_VERSION, "content": content, "stop_reason": "tool_use",
            "stop_sequence": None, "usage": {"input_tokens": 50, "output_tokens": 20},
        })
    return reply


def anthropic_stream(tool_input: dict[str, Any] | str, *, pieces: int = 7) -> Reply:
    text = tool_input if isinstance(tool_input, str) else json.dumps(tool_input)
    size = max(1, len(text) // pieces)

    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

    def reply(request: httpx2.Request) -> httpx2.Response:
        events = [event("message_start", {"message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": ANTHROPIC_VERSION,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 50, "output_tokens": 1}}}),
            event("content_block_start", {"index": 0, "content_block": {
                "type": "tool_use", "id": "toolu_1", "name": "cited_answer", "input": {}}})]
        events += [event("content_block_delta", {"index": 0, "delta": {
            "type": "input_json_delta", "partial_json": text[i:i + size]}})
            for i in range(0, len(text), size)]
        events += [event("content_block_stop", {"index": 0}),
                   event("message_delta", {"delta": {"stop_reason": "tool_use",
                                                     "stop_sequence": None},
                                           "usage": {"output_tokens": 20}}),
                   event("message_stop", {})]
        return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                               content="".join(events).encode())
    return reply


# --- the server -------------------------------------------------------------------------

@dataclass
class FakeServer:
    """Replies in order; the last one repeats. ``requests`` holds the JSON bodies seen."""

    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content or b"{}"))
        reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
        return reply(request)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self.handler))
