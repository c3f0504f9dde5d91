"""What the SDK adapters share: the abstention check before any token is spent, the call
timeout within the answer's deadline, and the one-corrective-retry loop."""

from __future__ import annotations

from core.errors import ModelTimeout

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
