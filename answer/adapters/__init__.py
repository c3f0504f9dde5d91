"""Model adapters: the ``ModelAdapter`` protocol, its registry and the built-in adapters."""

from .base import (
    AdapterFactory,
    AnswerOptions,
    AnswerRequest,
    AnswerResult,
    ContextChunk,
    ModelAdapter,
    Usage,
    adapter_kinds,
    create_adapter,
    register_adapter,
)
from .anthropic import AnthropicAdapter
from .extractive import Assessment, ExtractiveAdapter
from .openai_compat import OpenAIAdapter

register_adapter("extractive", ExtractiveAdapter)
register_adapter("openai", OpenAIAdapter)
register_adapter("anthropic", AnthropicAdapter)

__all__ = [
    "AdapterFactory",
    "AnthropicAdapter",
    "AnswerOptions",
    "AnswerRequest",
    "AnswerResult",
    "Assessment",
    "ContextChunk",
    "ExtractiveAdapter",
    "ModelAdapter",
    "OpenAIAdapter",
    "Usage",
    "adapter_kinds",
    "create_adapter",
    "register_adapter",
]
