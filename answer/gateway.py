"""The answer gateway: a model adapter with graceful degradation in front of it.

A provider that times out, answers 5xx or 429, or breaks the output schema twice never
fails a question: the extractive answer is given instead, marked with ``fallback_from``.
A circuit breaker stops calling a failing provider for a cool-down, and every schema
violation is reported through ``on_violation`` (the API counts them in its metrics; this
package stays free of ``api`` imports).

The gateway is itself a ``ModelAdapter`` (its ``kind`` is the primary's), so the answerer
treats it like any adapter.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Protocol, runtime_checkable

from core.errors import ModelError, ModelOutputInvalid, ModelRateLimited, ModelUnavailable

from .breaker import CircuitBreaker
from .types import AnswerRequest, AnswerResult

__all__ = ["AnswerGateway", "StreamingAdapter", "TokenStream"]

log = logging.getLogger("clearance.answer")

TokenStream = Generator[str, None, AnswerResult]
"""Text deltas of the answer as they arrive; the generator's return value is the result."""


@runtime_checkable
class StreamingAdapter(Protocol):
    """A ``ModelAdapter`` with ``can_stream``: ``generate`` plus a streaming twin."""

    kind: str
    can_stream: bool
    supports_schema: bool

    def generate(self, request: AnswerRequest) -> AnswerResult: ...

    def stream(self, request: AnswerRequest) -> TokenStream: ...


class _Adapter(Protocol):
    kind: str
    can_stream: bool
    supports_schema: bool

    def generate(self, request: AnswerRequest) -> AnswerResult: ...


class AnswerGateway:
    """``primary`` guarded by ``breaker``, falling back to ``fallback`` (extractive)."""

    def __init__(self, primary: _Adapter, *, fallback: _Adapter | None = None,
                 breaker: CircuitBreaker | None = None,
                 on_violation: Callable[[str], None] | None = None,
                 on_fallback: Callable[[str, str], None] | None = None) -> None:
        self.primary = primary
        self.fallback = fallback
        self.breaker = breaker or CircuitBreaker()
        self.on_violation = on_violation
        self.on_fallback = on_fallback
        self.kind = primary.kind
        self.can_stream = primary.can_stream and isinstance(primary, StreamingAdapter)
        self.supports_schema = primary.supports_schema


    def generate(self, request: AnswerRequest) -> AnswerResult:
        if not self.breaker.allow():
            return self._fall_back(request, "circuit_open")
        try:
            result = self.primary.generate(request)
        except ModelError as exc:
            return self._failed(request, exc)
        except Exception as exc:  # an adapter bug must not fail the question either
            return self._failed(request, _unexpected(self.kind, exc))
        finally:
            self.breaker.release_trial()
        return self._succeeded(result)

    def stream(self, request: AnswerRequest) -> TokenStream:
        if not isinstance(self.primary, StreamingAdapter) or not self.primary.can_stream:
            return self.generate(request)
        if not self.breaker.allow():
            return self._fall_back(request, "circuit_open")
        try:
            result = yield from self.primary.stream(request)
        except ModelError as exc:
            return self._failed(request, exc)
        except Exception as exc:  # an adapter bug must not fail the question either
            return self._failed(request, _unexpected(self.kind, exc))
        finally:  # also when the caller goes away mid-stream
            self.breaker.release_trial()
        return self._succeeded(result)

    def _succeeded(self, result: AnswerResult) -> AnswerResult:
        self.breaker.record_success()
        self._count_violations(result.schema_violations)
        return result

    def _failed(self, request: AnswerRequest, exc: ModelError) -> AnswerResult:
        if isinstance(exc, ModelOutputInvalid):
            self._count_violations(exc.violations)
            # the provider is up; its output is the problem: not a breaker failure
            self.breaker.record_success()
        elif isinstance(exc, ModelRateLimited):
            self.breaker.record_failure(retry_after_s=exc.retry_after_s or 0.0)
        else:
            self.breaker.record_failure()
        log.warning("model %s failed (%s); answering extractively", self.kind, exc.code)
        return self._fall_back(request, exc.code)

    def _fall_back(self, request: AnswerRequest, reason: str) -> AnswerResult:
        if self.on_fallback is not None:
            self.on_fallback(self.kind, reason)
        if self.fallback is None:
            raise ModelUnavailable(f"The {self.kind} model failed ({reason}) and no fallback "
                                   "is configured.")
        # the fallback is local and fast; it gets the request as it is, deadline and all
        result = self.fallback.generate(replace(request, deadline=None))
        return replace(result, fallback_from=self.kind, fallback_reason=reason)

    def _count_violations(self, count: int) -> None:
        if self.on_violation is not None:
            for _ in range(count):
                self.on_violation(self.kind)


def _unexpected(kind: str, exc: Exception) -> ModelError:
    # the type only: an exception's text may quote a provider's reply (document text)
    log.error("model adapter %s raised an unexpected %s", kind, type(exc).__name__)
    error = ModelError(f"The {kind} adapter failed unexpectedly: {type(exc).__name__}.")
    error.__cause__ = exc
    return error


def remaining_s(request: AnswerRequest, timeout_s: float) -> float:
    """The timeout for the next provider call: ``timeout_s``, shortened to the deadline."""
    if request.deadline is None:
        return timeout_s
    return min(timeout_s, request.deadline - time.monotonic())
