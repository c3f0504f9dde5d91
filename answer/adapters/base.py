"""The ``ModelAdapter`` seam: a question and its permitted context in, a cited answer out.

An adapter only ever sees the chunks the caller may read (retrieval and the ACL re-check
run before it), and may cite only those: the ``[n]`` of a ``ContextChunk`` is the only way
to refer to it. Citation checks and abstention live outside the adapters, so every model,
the extractive one included, is held to the same rules.

Adapters register by ``kind`` in one registry; the built-ins use it exactly like a plugin.
The request and result values live in ``answer.types`` (a leaf module, so the abstention
rules can use them without importing the adapters) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..types import AnswerOptions, AnswerRequest, AnswerResult, ContextChunk, Usage

__all__ = [
    "AdapterFactory",
    "AnswerOptions",
    "AnswerRequest",
    "AnswerResult",
    "ContextChunk",
    "ModelAdapter",
    "Usage",
    "adapter_kinds",
    "create_adapter",
    "register_adapter",
]


class ModelAdapter(Protocol):
    """Anything that turns an ``AnswerRequest`` into an ``AnswerResult``.

    Capabilities are class attributes so callers can check them without a request.
    Constructors only store configuration; clients and weights load lazily.
    """

    kind: str
    """The registry key that builds it."""
    can_stream: bool
    supports_schema: bool
    """Whether the model can be held to a JSON schema (structured output)."""

    def generate(self, request: AnswerRequest) -> AnswerResult: ...


AdapterFactory = Callable[..., ModelAdapter]

_REGISTRY: dict[str, AdapterFactory] = {}


def register_adapter(kind: str, factory: AdapterFactory) -> None:
    """Make ``create_adapter(kind, **config)`` call ``factory(**config)``; last one wins."""
    _REGISTRY[kind] = factory


def adapter_kinds() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def create_adapter(kind: str, **config: Any) -> ModelAdapter:
    """A new adapter of ``kind`` built from ``config`` (the factory's keyword arguments)."""
    try:
        factory = _REGISTRY[kind]
    except KeyError:
        raise ValueError(
            f"Unknown answer model kind {kind!r}; known kinds: {list(adapter_kinds())}. "
            "Register it with answer.register_adapter(kind, factory) first."
        ) from None
    return factory(**config)
