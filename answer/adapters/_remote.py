"""What the SDK adapters share: their settings and lazily built client, the abstention check
before any token is spent, the budget and redaction before a call, the call timeout within
the answer's deadline, and the translation of SDK errors into ours."""

from __future__ import annotations

import importlib
from typing import Any

from core.errors import ModelError, ModelRateLimited, ModelTimeout, ModelUnavailable

from ..abstain import abstained_result, abstention_reason
from ..budget import estimate_tokens, fit_to_budget
from ..gateway import remaining_s
from ..prompts import Prompt, answer_prompt
from ..redact import Redaction, redact_request
from ..types import AnswerRequest, AnswerResult

MIN_CALL_S = 0.05
"""Under this much time left, a provider call is not worth starting."""


class RemoteAdapter:
    """The part of an SDK adapter that does not depend on the provider. A subclass sets
    ``kind`` and gives ``_new_client`` (the SDK client, built on first use), ``_messages``
    (the conversation for a request) and ``_complete`` (the call and its corrective retry)."""

    kind: str
    can_stream = True
    supports_schema = True

    def __init__(self, *, model: str, api_key: str | None = None, base_url: str | None = None,
                 timeout_s: float = 10.0, min_evidence: float = 0.0,
                 max_input_tokens: int = 6000, redact_pii: bool = True,
                 http_client: Any = None, prompt: Prompt | None = None) -> None:
        if not model:
            raise ValueError(f"The {self.kind} adapter needs a model name "
                             "(CLEARANCE_MODEL_NAME).")
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.min_evidence = min_evidence
        self.max_input_tokens = max_input_tokens
        self.redact_pii = redact_pii
        self.http_client = http_client
        self.prompt = prompt or answer_prompt()
        self._client: Any = None

    def _new_client(self) -> Any:
        raise NotImplementedError

    def _messages(self, request: AnswerRequest) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _complete(self, request: AnswerRequest, messages: list[dict[str, Any]], *,
                  violations: int) -> AnswerResult:
        raise NotImplementedError

    def warm_up(self) -> None:
        if self._client is None:
            self._client = self._new_client()

    @property
    def client(self) -> Any:
        self.warm_up()
        return self._client

    def generate(self, request: AnswerRequest) -> AnswerResult:
        abstained = abstain_first(request, kind=self.kind, min_evidence=self.min_evidence)
        if abstained is not None:
            return abstained
        request, redaction = self._prepared(request)
        result = self._complete(request, self._messages(request), violations=0)
        return redaction.restore_result(result)

    def _prepared(self, request: AnswerRequest) -> tuple[AnswerRequest, Redaction]:
        """Within the token budget, and with PII replaced when ``redact_pii`` is on."""
        request = fit_to_budget(request, max_input_tokens=self.max_input_tokens,
                                fixed_tokens=estimate_tokens(self.prompt.system))
        if not self.redact_pii:
            return request, Redaction()
        return redact_request(request)


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
