"""Anthropic's Messages API, through the official ``anthropic`` SDK.

Structured output is a forced tool: ``tools=[{"name": "cited_answer", "input_schema": ...}]``
with ``tool_choice={"type": "tool", "name": "cited_answer"}``, so the reply is a
``tool_use`` content block whose ``input`` is the answer object
(https://docs.anthropic.com/en/docs/build-with-claude/tool-use). Streaming uses
``stream=True``: ``message_start`` (model, input tokens), ``content_block_start``,
``content_block_delta`` with ``input_json_delta.partial_json`` fragments of the tool input,
``content_block_stop``, ``message_delta`` (output tokens), ``message_stop``
(https://platform.claude.com/docs/build-with-claude/streaming). The version the API reports
(``message.model``) goes into the audit row.

Prompt-prefix caching: the system block carries ``cache_control: {"type": "ephemeral"}``,
which caches the prefix up to it (tools, then system: the same on every call) for five
minutes (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching). A prefix
under the model's minimum (1,024-4,096 tokens by model) is simply not cached. Cache writes
and reads are reported apart from ``input_tokens``; all three count as input here, so
budgets and cost see every prompt token.

The SDK's own retries are off (``max_retries=0``); SDK errors are translated here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import (
    ModelOutputInvalid,
)

from ..gateway import TokenStream
from ..redact import RestoringStream
from ..structured import (
    ANSWER_SCHEMA,
    SCHEMA_NAME,
    AnswerFieldStream,
    StructuredOutputError,
    corrective_message,
    loads_or_none,
    parse_structured,
    to_result,
)
from ..types import AnswerRequest, AnswerResult, Usage
from ._remote import RemoteAdapter, TranslatedErrors, abstain_first, call_timeout_s

if TYPE_CHECKING:  # importing is free: the SDK loads in warm_up()
    import anthropic

__all__ = ["AnthropicAdapter"]

_TOOL = {"name": SCHEMA_NAME,
         "description": "Give the cited answer to the question (or abstain).",
         "input_schema": ANSWER_SCHEMA}
_TOOL_CHOICE = {"type": "tool", "name": SCHEMA_NAME}


class AnthropicAdapter(RemoteAdapter):
    kind = "anthropic"

    def _new_client(self) -> anthropic.Anthropic:
        import anthropic

        return anthropic.Anthropic(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout_s,
            max_retries=0, http_client=self.http_client)

    # --- the adapter --------------------------------------------------------------

    def stream(self, request: AnswerRequest) -> TokenStream:
        """Yields the answer text as the tool input streams in; returns the checked result."""
        abstained = abstain_first(request, kind=self.kind, min_evidence=self.min_evidence)
        if abstained is not None:
            return abstained
        request, redaction = self._prepared(request)
        restoring = RestoringStream(redaction)
        messages = self._messages(request)
        partial: list[str] = []
        version: str | None = None
        input_tokens = output_tokens = 0
        answer_text = AnswerFieldStream()
        with _translated():
            events = self.client.messages.create(
                **self._params(request, messages), stream=True,
                timeout=call_timeout_s(request, self.timeout_s))
            try:
                for event in events:
                    call_timeout_s(request, self.timeout_s)  # the deadline holds mid-stream
                    if event.type == "message_start":
                        version = event.message.model
                        input_tokens = _input_tokens(event.message.usage)
                    elif event.type == "content_block_delta" and (
                        event.delta.type == "input_json_delta"
                    ):
                        partial.append(event.delta.partial_json)
                        if text := restoring.feed(answer_text.feed(event.delta.partial_json)):
                            yield text
                    elif event.type == "message_delta":
                        output_tokens = event.usage.output_tokens or output_tokens
            finally:
                events.close()
        raw = "".join(partial)
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        try:
            parsed = parse_structured(raw)
        except StructuredOutputError as exc:
            tool_input = loads_or_none(raw)
            retry = [*messages, *_correction("streamed", tool_input, exc)]
            return redaction.restore_result(
                self._complete(request, retry, violations=1, usage=usage))
        if rest := restoring.flush():
            yield rest
        return redaction.restore_result(to_result(
            parsed, request.context, model=self.kind, model_version=version, usage=usage,
            prompt_version=self.prompt.version))

    # --- helpers ------------------------------------------------------------------

    def _messages(self, request: AnswerRequest) -> list[dict[str, Any]]:
        return [{"role": "user", "content": self.prompt.user_message(request)}]

    def _params(self, request: AnswerRequest, messages: list[dict[str, Any]],
                ) -> dict[str, Any]:
        return {
            "model": self.model,
            "system": [{"type": "text", "text": self.prompt.system,
                        "cache_control": {"type": "ephemeral"}}],
            "messages": messages,
            "max_tokens": request.options.max_output_tokens,
            # this SDK version takes no temperature: the forced tool keeps the shape
            "tools": [_TOOL],
            "tool_choice": _TOOL_CHOICE,
        }

    def _complete(self, request: AnswerRequest, messages: list[dict[str, Any]], *,
                  violations: int, usage: Usage | None = None) -> AnswerResult:
        input_tokens = usage.input_tokens if usage else 0
        output_tokens = usage.output_tokens if usage else 0
        while True:
            with _translated():
                message = self.client.messages.create(
                    **self._params(request, messages),
                    timeout=call_timeout_s(request, self.timeout_s))
            input_tokens += _input_tokens(message.usage)
            output_tokens += message.usage.output_tokens or 0
            tool_use = next((b for b in message.content
                             if b.type == "tool_use" and b.name == SCHEMA_NAME), None)
            try:
                if tool_use is None:
                    raise StructuredOutputError(f"No call of the {SCHEMA_NAME} tool.")
                parsed = parse_structured(_as_dict(tool_use.input))
            except StructuredOutputError as exc:
                violations += 1
                if violations >= 2:
                    raise ModelOutputInvalid(
                        f"The {self.kind} model broke the answer schema twice ({exc}).",
                        violations=violations) from exc
                tool_id = tool_use.id if tool_use is not None else None
                tool_input = _as_dict(tool_use.input) if tool_use is not None else None
                messages = [*messages, *_correction(tool_id, tool_input, exc)]
                continue
            return to_result(parsed, request.context, model=self.kind,
                             model_version=message.model,
                             usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
                             prompt_version=self.prompt.version,
                             schema_violations=violations)


def _as_dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _correction(tool_id: str | None, tool_input: Any, error: StructuredOutputError,
                ) -> list[dict[str, Any]]:
    """The corrective turn: the bad tool call answered by an error ``tool_result``."""
    if tool_id is None or not isinstance(tool_input, dict):
        return [{"role": "assistant", "content": "(no valid answer)"},
                {"role": "user", "content": corrective_message(error)}]
    return [
        {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id,
                                           "name": SCHEMA_NAME, "input": tool_input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id,
                                      "is_error": True,
                                      "content": corrective_message(error)}]},
    ]


def _translated() -> TranslatedErrors:
    return TranslatedErrors("anthropic", sdk="anthropic", base_error="AnthropicError",
                            unreachable="The anthropic API cannot be reached")


def _input_tokens(usage: Any) -> int:
    """Prompt tokens of a reply: uncached, written to the cache and read from it."""
    return sum(getattr(usage, name, None) or 0 for name in
               ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
