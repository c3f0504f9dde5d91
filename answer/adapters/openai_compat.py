"""Any OpenAI-compatible chat completions server (OpenAI, Azure, vLLM, Ollama), through the
official ``openai`` SDK.

Structured output uses ``response_format={"type": "json_schema", ...}`` (strict), see
https://platform.openai.com/docs/guides/structured-outputs. Streaming uses ``stream=True``:
server-sent ``data: {chat.completion.chunk}`` events whose ``choices[0].delta.content``
carries the next text, ended by ``data: [DONE]``
(https://platform.openai.com/docs/api-reference/chat-streaming). The version the server
reports (``model`` of the completion or chunk) goes into the audit row.

The SDK's own retries are off (``max_retries=0``): retries are ours, and they must fit the
answer's deadline. SDK errors are translated here, at the edge, into ``core.errors``.
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
    parse_structured,
    to_result,
)
from ..types import AnswerRequest, AnswerResult, Usage
from ._remote import RemoteAdapter, TranslatedErrors, abstain_first, call_timeout_s

if TYPE_CHECKING:  # importing is free: the SDK loads in warm_up()
    import openai

__all__ = ["OpenAIAdapter"]


class OpenAIAdapter(RemoteAdapter):
    kind = "openai"

    def _new_client(self) -> openai.OpenAI:
        import openai

        return openai.OpenAI(
            api_key=self.api_key or "not-needed", base_url=self.base_url,
            timeout=self.timeout_s, max_retries=0, http_client=self.http_client)

    # --- the adapter --------------------------------------------------------------

    def stream(self, request: AnswerRequest) -> TokenStream:
        """Yields the answer text as it arrives; returns the validated result."""
        abstained = abstain_first(request, kind=self.kind, min_evidence=self.min_evidence)
        if abstained is not None:
            return abstained
        request, redaction = self._prepared(request)
        restoring = RestoringStream(redaction)
        messages = self._messages(request)
        content: list[str] = []
        version: str | None = None
        usage = Usage()
        answer_text = AnswerFieldStream()
        with _translated():
            chunks = self.client.chat.completions.create(
                **self._params(request, messages), stream=True,
                stream_options={"include_usage": True},
                timeout=call_timeout_s(request, self.timeout_s))
            try:
                for chunk in chunks:
                    call_timeout_s(request, self.timeout_s)  # the deadline holds mid-stream
                    version = chunk.model or version
                    if chunk.usage is not None:
                        usage = Usage(input_tokens=chunk.usage.prompt_tokens or 0,
                                      output_tokens=chunk.usage.completion_tokens or 0)
                    if chunk.choices and chunk.choices[0].delta.content:
                        delta = chunk.choices[0].delta.content
                        content.append(delta)
                        if text := restoring.feed(answer_text.feed(delta)):
                            yield text
            finally:
                chunks.close()
        raw = "".join(content)
        try:
            parsed = parse_structured(raw)
        except StructuredOutputError as exc:
            retry = [*messages, {"role": "assistant", "content": raw},
                     {"role": "user", "content": corrective_message(exc)}]
            return redaction.restore_result(
                self._complete(request, retry, violations=1, usage=usage))
        if rest := restoring.flush():
            yield rest
        return redaction.restore_result(to_result(
            parsed, request.context, model=self.kind, model_version=version, usage=usage,
            prompt_version=self.prompt.version))

    # --- helpers ------------------------------------------------------------------

    def _messages(self, request: AnswerRequest) -> list[dict[str, Any]]:
        return [{"role": "system", "content": self.prompt.system},
                {"role": "user", "content": self.prompt.user_message(request)}]

    def _params(self, request: AnswerRequest, messages: list[dict[str, Any]],
                ) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "temperature": request.options.temperature,
            "max_tokens": request.options.max_output_tokens,
            "response_format": {"type": "json_schema", "json_schema": {
                "name": SCHEMA_NAME, "strict": True, "schema": ANSWER_SCHEMA}},
        }

    def _complete(self, request: AnswerRequest, messages: list[dict[str, Any]], *,
                  violations: int, usage: Usage | None = None) -> AnswerResult:
        """Ask without streaming; a reply that breaks the schema gets one corrective turn
        (counting the violations so far), a second one raises ``ModelOutputInvalid``."""
        usage = usage or Usage()
        while True:
            with _translated():
                completion = self.client.chat.completions.create(
                    **self._params(request, messages),
                    timeout=call_timeout_s(request, self.timeout_s))
            if completion.usage is not None:
                usage = Usage(
                    input_tokens=usage.input_tokens + (completion.usage.prompt_tokens or 0),
                    output_tokens=usage.output_tokens
                    + (completion.usage.completion_tokens or 0))
            raw = completion.choices[0].message.content if completion.choices else None
            try:
                parsed = parse_structured(raw)
            except StructuredOutputError as exc:
                violations += 1
                if violations >= 2:
                    raise ModelOutputInvalid(
                        f"The {self.kind} model broke the answer schema twice ({exc}).",
                        violations=violations) from exc
                messages = [*messages, {"role": "assistant", "content": raw or ""},
                            {"role": "user", "content": corrective_message(exc)}]
                continue
            return to_result(parsed, request.context, model=self.kind,
                             model_version=completion.model, usage=usage,
                             prompt_version=self.prompt.version,
                             schema_violations=violations)


def _translated() -> TranslatedErrors:
    return TranslatedErrors("openai", sdk="openai", base_error="OpenAIError",
                            unreachable="The openai model server cannot be reached")
