"""Structured output as a contract: the JSON a model must return, its validation, and its
translation into an ``AnswerResult``.

The model cites by context number: ``[n]`` in its answer text is the ``n`` of a
``ContextChunk`` it was given, and each citation names that ``n`` (``source``) with a quote
copied from the chunk. The schema goes to the provider's native structured-output mode
(OpenAI ``response_format`` json_schema, Anthropic a forced tool); whatever comes back is
validated again here with pydantic, because a provider's schema mode is a promise we check.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core import Citation

from .abstain import INSUFFICIENT_EVIDENCE, abstained_result
from .types import AnswerResult, ContextChunk, Usage

__all__ = [
    "ANSWER_SCHEMA",
    "SCHEMA_NAME",
    "AnswerFieldStream",
    "StructuredAnswer",
    "StructuredCitation",
    "corrective_message",
    "parse_structured",
    "to_result",
]

SCHEMA_NAME = "cited_answer"


class StructuredCitation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: int = Field(ge=1, description="The n of the document quoted.")
    quote: str = Field(min_length=1, description="Exact words from that document's text.")


class StructuredAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str
    citations: list[StructuredCitation]
    abstained: bool
    reason: str | None


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string",
                   "description": "The answer; each sentence ends with [n] markers."},
        "citations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "source": {"type": "integer", "description": "The n of the document."},
                    "quote": {"type": "string",
                              "description": "Exact words copied from that document."},
                },
                "required": ["source", "quote"],
                "additionalProperties": False,
            },
        },
        "abstained": {"type": "boolean"},
        "reason": {"type": ["string", "null"]},
    },
    "required": ["answer", "citations", "abstained", "reason"],
    "additionalProperties": False,
}
"""Written for OpenAI's strict mode (every property required, no extras), which Anthropic's
``input_schema`` accepts as well."""


class StructuredOutputError(ValueError):
    """A reply that is not the schema's JSON; its message is fit to send back to the model."""


def parse_structured(raw: str | dict[str, Any] | None) -> StructuredAnswer:
    """Validate a reply (JSON text, or the already-decoded tool input)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise StructuredOutputError("The reply was empty.")
    try:
        if isinstance(raw, str):
            return StructuredAnswer.model_validate_json(raw)
        return StructuredAnswer.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        raise StructuredOutputError(problems) from exc


def corrective_message(error: StructuredOutputError) -> str:
    return (
        f"Your reply did not match the required JSON schema ({error}). Reply again with "
        "exactly one JSON object with the keys answer, citations (a list of objects with "
        "source and quote), abstained and reason, and nothing else."
    )


def to_result(
    parsed: StructuredAnswer,
    context: tuple[ContextChunk, ...],
    *,
    model: str,
    model_version: str | None,
    usage: Usage,
    prompt_version: str | None,
    schema_violations: int = 0,
) -> AnswerResult:
    """The adapter's result; ``answer.service.verified`` checks it like any other.

    A citation to a number that names no context chunk cannot be mapped to a chunk and is
    left out here (its marker is then removed by the check); a second quote for the same
    number is kept only if the first is not in the chunk (the check keeps the first good).
    """
    if parsed.abstained:
        reason = parsed.reason if _STABLE_CODE.fullmatch(parsed.reason or "") else None
        abstained = abstained_result(reason or INSUFFICIENT_EVIDENCE, model=model,
                                     model_version=model_version)
        return replace(abstained, usage=usage, prompt_version=prompt_version,
                       schema_violations=schema_violations)
    by_n = {c.n: c for c in context}
    citations = []
    for item in parsed.citations:
        chunk = by_n.get(item.source)
        if chunk is None:
            continue
        citations.append(Citation(n=item.source, doc_id=chunk.doc_id, chunk_id=chunk.chunk_id,
                                  title=chunk.title, url=chunk.url, quote=item.quote))
    return AnswerResult(answer=parsed.answer.strip(), citations=tuple(citations), model=model,
                        model_version=model_version, usage=usage,
                        prompt_version=prompt_version, schema_violations=schema_violations)


_STABLE_CODE = re.compile(r"[a-z][a-z_]{0,63}")
"""A model's abstention reason is kept only if it reads like a code, never free text."""
_ANSWER_KEY = re.compile(r'"answer"\s*:\s*"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}


class AnswerFieldStream:
    """Feeds on the JSON text of a structured reply as it streams in and gives back the new
    characters of its ``answer`` string, so a caller sees the answer, not the JSON.

    Only ``answer`` is ever emitted; citations arrive in the final event, after they are
    checked."""

    def __init__(self) -> None:
        self._buffer = ""
        self._start: int | None = None
        self._pos = 0
        self._done = False

    def feed(self, fragment: str) -> str:
        self._buffer += fragment
        if self._done:
            return ""
        if self._start is None:
            match = _ANSWER_KEY.search(self._buffer)
            if match is None:
                return ""
            self._start = self._pos = match.end()
        out: list[str] = []
        buf = self._buffer
        i = self._pos
        while i < len(buf):
            ch = buf[i]
            if ch == '"':
                self._done = True
                i += 1
                break
            if ch == "\\":
                if i + 1 >= len(buf):
                    break  # wait for the escaped character
                code = buf[i + 1]
                if code == "u":
                    decoded = _unicode_escape(buf, i)
                    if decoded is None:
                        break  # wait for the rest of the escape (or its low surrogate)
                    text, i = decoded
                    out.append(text)
                    continue
                out.append(_ESCAPES.get(code, code))
                i += 2
                continue
            out.append(ch)
            i += 1
        self._pos = i
        return "".join(out)


def _unicode_escape(buf: str, i: int) -> tuple[str, int] | None:
    """The character of the ``\\uXXXX`` escape at ``i`` (a surrogate pair joined) and the
    index after it; None while the buffer does not hold all of it yet."""
    if i + 6 > len(buf):
        return None
    try:
        code = int(buf[i + 2 : i + 6], 16)
    except ValueError:
        return "", i + 6
    if 0xD800 <= code < 0xDC00:  # a high surrogate: its low half follows as \\uXXXX
        if i + 12 > len(buf):
            return None
        if buf[i + 6 : i + 8] == "\\u":
            try:
                low = int(buf[i + 8 : i + 12], 16)
            except ValueError:
                low = 0
            if 0xDC00 <= low < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), i + 12
    return chr(code), i + 6


def loads_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
