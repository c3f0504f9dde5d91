"""A deterministic hashing embedder for unit and property tests: no model, no download.

Each word (and word bigram) is hashed into one of ``dimensions`` buckets with a sign, so
texts sharing words get close vectors. Fast and stable across processes and machines.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    kind = "hashing"

    def __init__(self, dimensions: int = 384, max_tokens: int = 256) -> None:
        self.dimensions = dimensions
        self.max_tokens = max_tokens
        self.device = "cpu"

    def warm_up(self) -> None:
        return None

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def count_tokens(self, text: str) -> int:
        """Roughly what a WordPiece tokenizer gives: words and punctuation, plus CLS/SEP."""
        return len(re.findall(r"\w+|[^\w\s]", text)) + 2

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        words = [w.lower() for w in _WORD.findall(text)]
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimensions
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return [v / norm for v in vector]
