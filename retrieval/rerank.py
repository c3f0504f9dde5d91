"""Reranking the fused candidates: the ``Reranker`` protocol and a cross-encoder.

Off unless ``CLEARANCE_RERANKER_MODEL`` names a local model directory. ``Retriever.search``
calls a reranker on hits that already passed the ACL filter inside the engine and the SQL
re-check, and takes back only their order and scores: a reranker reorders what the caller
may read and can bring in nothing else.

No trained reranker ships with Clearance and nothing is downloaded: the setting names a
directory saved with ``save_pretrained`` (a sentence-transformers ``CrossEncoder``, or a
Hugging Face sequence-classification model with one label, e.g. a copy of
cross-encoder/ms-marco-MiniLM-L6-v2). The code path is tested on a tiny model built in the
test (tests/retrieval/test_rerank.py); no ranking quality has been measured for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core import Hit, Settings
from core.errors import ConfigurationError
from index.embed import pick_device

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

log = logging.getLogger(__name__)


class Reranker(Protocol):
    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """The same hits, best first by the reranker: those it rescored first, each with
        its score in place of the fused one; any it did not rescore follow in their order
        (and with their fused score)."""
        ...


class CrossEncoderReranker:
    """Scores (question, title + chunk text) pairs with a cross-encoder, in batches, for the
    first ``depth`` hits; the rest keep their order after them. The device is picked as the
    embedder's is (``CLEARANCE_EMBED_DEVICE``, else CUDA when present, else CPU). With one
    label the score is the model's sigmoid, in (0, 1)."""

    kind = "cross-encoder"

    def __init__(self, model_dir: Path, *, depth: int = 30, device: str | None = None,
                 batch_size: int = 32) -> None:
        self.model_dir = Path(model_dir)
        self.depth = depth
        self.batch_size = batch_size
        self._requested_device = device
        self.device = "unloaded"
        self._model: CrossEncoder | None = None

    def warm_up(self) -> None:
        """Load the model from ``model_dir`` only (never the Hub); a directory that is
        missing or holds no single-label model raises ``ConfigurationError``."""
        if self._model is not None:
            return
        setting = f"CLEARANCE_RERANKER_MODEL={self.model_dir}"
        if not self.model_dir.is_dir():
            raise ConfigurationError(
                f"{setting} is not a directory: point it at a local cross-encoder (saved with "
                "save_pretrained; nothing is downloaded) or unset it to turn reranking off")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import transformers
        from sentence_transformers import CrossEncoder

        transformers.logging.disable_progress_bar()
        device = pick_device(self._requested_device)
        try:
            model = CrossEncoder(str(self.model_dir), device=device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"{setting} holds no cross-encoder that loads offline ({exc})") from exc
        if model.num_labels != 1:
            raise ConfigurationError(
                f"{setting} has {model.num_labels} labels; a reranker scores with one")
        self._model, self.device = model, device
        log.info("reranker loaded", extra={"model_dir": str(self.model_dir),
                                           "device": device, "rerank_depth": self.depth})

    @property
    def model(self) -> CrossEncoder:
        if self._model is None:
            self.warm_up()
        assert self._model is not None
        return self._model

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        head, tail = list(hits[:self.depth]), list(hits[self.depth:])
        if not head:
            return tail
        pairs = [(query, "\n".join(part for part in (h.title, h.text) if part)) for h in head]
        scores = self.model.predict(pairs, batch_size=self.batch_size,
                                    show_progress_bar=False, convert_to_numpy=True)
        rescored = [replace(h, score=float(s)) for h, s in zip(head, scores, strict=True)]
        rescored.sort(key=lambda h: -h.score)  # stable: a tie keeps the fused order
        return rescored + tail


def create_reranker(settings: Settings) -> Reranker | None:
    """The reranker ``CLEARANCE_RERANKER_MODEL`` names, loaded now so that a bad path
    fails at start-up; ``None`` (no reranking) when the setting is unset."""
    if settings.reranker_model is None:
        return None
    reranker = CrossEncoderReranker(settings.reranker_model, depth=settings.rerank_depth,
                                    device=settings.embed_device)
    reranker.warm_up()
    return reranker
