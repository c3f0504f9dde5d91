"""Answering: model adapters, extractive answers with verbatim citations, and abstention.

Adapters see only the context chunks the caller may read and cite them by ``[n]``;
``abstention_reason`` decides, before any model is called, whether the context can ground
an answer at all.
"""

from .abstain import (
    ABSTAIN_MESSAGE,
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_MIN_EVIDENCE_WITH_EMBED,
    INSUFFICIENT_EVIDENCE,
    NO_RELEVANT_DOCUMENTS,
    abstained_result,
    abstention_reason,
    answerability_score,
    distinctive_terms,
    hard_rule,
    missing_terms,
)
from .adapters import (
    AdapterFactory,
    AnswerOptions,
    AnswerRequest,
    AnswerResult,
    AnthropicAdapter,
    Assessment,
    ContextChunk,
    ExtractiveAdapter,
    OpenAIAdapter,
    ModelAdapter,
    Usage,
    adapter_kinds,
    create_adapter,
    register_adapter,
)
from .answerability import FEATURES, SIGNS, Model
from .answerability import features as answerability_features
from .answerability import probability as answerability_probability
from .breaker import CircuitBreaker
from .cache import AnswerCache
from .gateway import AnswerGateway, StreamingAdapter, TokenStream
from .prompts import ANSWER_PROMPT_VERSION, Prompt, answer_prompt
from .quota import DailyTokenQuota
from .scoring import Embed, ScoredSentence, evidence_score, score_sentences
from .text import split_sentences

__all__ = [
    "ABSTAIN_MESSAGE",
    "ANSWER_PROMPT_VERSION",
    "AnswerCache",
    "AnswerGateway",
    "AnthropicAdapter",
    "CircuitBreaker",
    "DailyTokenQuota",
    "OpenAIAdapter",
    "Prompt",
    "StreamingAdapter",
    "TokenStream",
    "answer_prompt",
    "DEFAULT_MIN_EVIDENCE",
    "DEFAULT_MIN_EVIDENCE_WITH_EMBED",
    "FEATURES",
    "INSUFFICIENT_EVIDENCE",
    "NO_RELEVANT_DOCUMENTS",
    "SIGNS",
    "AdapterFactory",
    "AnswerOptions",
    "AnswerRequest",
    "AnswerResult",
    "Assessment",
    "ContextChunk",
    "Embed",
    "ExtractiveAdapter",
    "Model",
    "ModelAdapter",
    "ScoredSentence",
    "Usage",
    "abstained_result",
    "abstention_reason",
    "adapter_kinds",
    "answerability_features",
    "answerability_probability",
    "answerability_score",
    "create_adapter",
    "distinctive_terms",
    "evidence_score",
    "hard_rule",
    "missing_terms",
    "register_adapter",
    "score_sentences",
    "split_sentences",
]
