"""What the SDK adapters share: the abstention check before any token is spent, the call
timeout within the answer's deadline, and the translation of SDK errors into ours."""

from __future__ import annotations

import importlib
from typing import Any

from core.errors import ModelError, ModelRateLimited, ModelTimeout, ModelUnavailable

from ..abstain import abstained_result, abstention_reason
from ..gateway import remaining_s
from ..types import AnswerRequest, AnswerResult

MIN_CALL_S = 0.05
"""Under this much time left, a provider call is not worth starting."""


def abstain_first(request: AnswerRequest, *, kind: str, min_evidence: float,
                  ) -> AnswerResult | None:
    """The abstention rules of ``answer.abstain`` (no context, a distinctive term missing,
    evidence under ``min_evidence``), run before a model is called."""
    reason = abstention_reason(request.question, request.context, min_evidence=min_evidence)
    if reason is None:
        return None
    return abstained_result(reason, model=kind)


def call_timeout_s(request: AnswerRequest, timeout_s: float) -> float:
    left = remaining_s(request, timeout_s)
    if left < MIN_CALL_S:
        raise ModelTimeout("The answer deadline (CLEARANCE_ANSWER_DEADLINE_S) has passed.")
    return left


class TranslatedErrors:
    """Turns an SDK's errors into ours (``raise ... from``), at the edge. The openai and
    anthropic SDKs are generated alike: the same exception classes under the same names,
    below a base class (``base_error``) of their own. The SDK is imported only when an
    error needs translating."""

    def __init__(self, kind: str, *, sdk: str, base_error: str, unreachable: str) -> None:
        self.kind = kind
        self.sdk = sdk
        self.base_error = base_error
        self.unreachable = unreachable

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, ModelError):
            return
        sdk = importlib.import_module(self.sdk)
        kind = self.kind
        if isinstance(exc, sdk.APITimeoutError):
            raise ModelTimeout(f"The {kind} model did not reply in time "
                               "(CLEARANCE_MODEL_TIMEOUT_S).") from exc
        if isinstance(exc, sdk.RateLimitError):
            raise ModelRateLimited(f"The {kind} model is rate limited.",
                                   retry_after_s=retry_after_s(exc.response)) from exc
        if isinstance(exc, sdk.APIStatusError):
            raise ModelUnavailable(f"The {kind} model answered HTTP {exc.status_code}."
                                   ) from exc
        if isinstance(exc, sdk.APIConnectionError):
            raise ModelUnavailable(f"{self.unreachable} (CLEARANCE_MODEL_BASE_URL).") from exc
        if isinstance(exc, getattr(sdk, self.base_error)):
            raise ModelError(f"The {kind} model failed: {type(exc).__name__}.") from exc


def retry_after_s(response: Any) -> float | None:
    """A reply's ``Retry-After`` in seconds, when it gives one as a number."""
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
