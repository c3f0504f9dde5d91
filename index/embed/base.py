"""The ``Embedder`` seam: texts in, L2-normalised dense vectors out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from core import Settings


class Embedder(Protocol):
    kind: str
    dimensions: int
    max_tokens: int
    """The model's input window in tokens (what the chunker must respect)."""
    device: str
    """Where it runs (``cpu``, ``cuda``, ``cuda:0``…), known after ``warm_up()``."""

    def warm_up(self) -> None:
        """Load weights. Constructors only store configuration."""

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included, before truncation."""


_REGISTRY: dict[str, Callable[[Settings], Embedder]] = {}


def register_embedder(kind: str, factory: Callable[[Settings], Embedder]) -> None:
    _REGISTRY[kind] = factory


def create_embedder(settings: Settings) -> Embedder:
    """The embedder ``CLEARANCE_EMBEDDER`` names, not yet warmed up."""
    try:
        factory = _REGISTRY[settings.embedder]
    except KeyError:
        raise ValueError(
            f"Unknown CLEARANCE_EMBEDDER={settings.embedder!r}; known: {sorted(_REGISTRY)}"
        ) from None
    return factory(settings)
