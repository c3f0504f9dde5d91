"""all-MiniLM-L6-v2 on ONNX Runtime for CPU serving: the bundled weights, exported and
int8-quantized locally on the first ``warm_up()`` and cached (see ``_onnx_export.py``).

On SciFact chunk texts (``bench/embedder.py``, 2 threads, batch 64) it runs ≈2.7x the
PyTorch embedder's passages/s at mean cosine ≈0.995 to its vectors and a dense nDCG@10
within 0.001 of it. Texts are tokenized with the bundled fast tokenizer, sorted by length
and batched, so a batch pads only to its own longest text, and a batch ends early rather
than be more than a quarter padding (``batches``); results come back in the caller's
order. int8 activations are scaled per batch, so a text's vector moves slightly
(cosine ≥0.97, typically >0.99) with the texts it is batched with.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._onnx_export import MODEL_NAME, PRECISIONS, Precision, bundled_model_dir, ensure_model_file

if TYPE_CHECKING:
    import onnxruntime  # type: ignore[import-untyped]
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

MAX_PADDING = 0.25
"""Share of a batch's token slots that may be padding before a new batch starts."""


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, which containers narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class OnnxMiniLMEmbedder:
    kind = "minilm-onnx"
    dimensions = 384
    max_tokens = 256

    def __init__(
        self,
        *,
        cache_dir: Path,
        batch_size: int = 64,
        threads: int | None = None,
        precision: Precision = "int8",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.threads = threads
        self.precision: Precision = precision
        self.device = "unloaded"
        self.model_path: Path | None = None
        self.built_model = False
        """Whether ``warm_up()`` had to export the model (False: it reused the cached file)."""
        self._session: onnxruntime.InferenceSession | None = None
        self._query_session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._counter: Tokenizer | None = None
        self._loading = threading.Lock()

    def warm_up(self) -> None:
        with self._loading:
            if self._session is None:
                self._load()

    def _load(self) -> None:
        started = time.perf_counter()
        self.model_path, self.built_model = ensure_model_file(self.cache_dir, self.precision)
        threads = self.threads or cpu_cores()
        self._tokenizer = self._load_tokenizer(truncate=True)
        # A question is a few tokens: splitting it over threads costs more than it saves
        # (query p50 1.9 ms on one thread, 2.2 ms on two), and concurrent questions each
        # run on their caller's thread instead of queueing for one shared pool.
        self._query_session = self._open_session(1)
        self._session = self._open_session(threads)  # last: it marks the embedder loaded
        self.device = "cpu"
        log.info("embedder loaded", extra={
            "model": MODEL_NAME, "backend": "onnxruntime", "precision": self.precision,
            "device": self.device, "threads": threads, "built_model": self.built_model,
            "load_s": round(time.perf_counter() - started, 2)})

    def _open_session(self, threads: int) -> onnxruntime.InferenceSession:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: on a small machine shared with the API and
        # the workers, spinning steals their CPU (and measured ~15% slower under load).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(str(self.model_path), options,
                                            providers=["CPUExecutionProvider"])

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._embed(texts, query=False)

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], query=True)[0]

    def _embed(self, texts: Sequence[str], *, query: bool) -> list[list[float]]:
        if self._session is None:
            self.warm_up()
        session = self._query_session if query else self._session
        assert session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64,
                              count=len(encodings))
        order = np.argsort(lengths, kind="stable")
        vectors = np.empty((len(encodings), self.dimensions), dtype=np.float32)
        for rows in batches(order, lengths, self.batch_size):
            width = int(lengths[rows].max())
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            attention_mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, index in enumerate(rows):
                ids = encodings[index].ids
                input_ids[row, : len(ids)] = ids
                attention_mask[row, : len(ids)] = 1
            (batch,) = session.run(
                None, {"input_ids": input_ids, "attention_mask": attention_mask}
            )
            vectors[rows] = batch
        result: list[list[float]] = vectors.tolist()
        return result

    def count_tokens(self, text: str) -> int:
        """Tokens including [CLS] and [SEP], never truncated. Loads only the tokenizer."""
        return len(self._counting_tokenizer().encode(text).ids)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the tokens of ``text``, special tokens left out: the
        chunker's fast path (one tokenisation per document instead of one per candidate
        span; on SciFact that was half of ingest's time outside the model)."""
        encoding = self._counting_tokenizer().encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in encoding.offsets]

    def _counting_tokenizer(self) -> Tokenizer:
        if self._counter is None:
            self._counter = self._load_tokenizer(truncate=False)
        return self._counter

    def _load_tokenizer(self, *, truncate: bool) -> Tokenizer:
        """The bundled ``tokenizer.json`` ships truncation *and* padding to 128 switched on:
        both are set here explicitly (padding is done per batch, after sorting)."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(bundled_model_dir() / "tokenizer.json"))
        tokenizer.no_padding()
        if truncate:
            tokenizer.enable_truncation(max_length=self.max_tokens)
        else:
            tokenizer.no_truncation()
        return tokenizer


def batches(order: np.ndarray, lengths: np.ndarray, max_rows: int) -> list[np.ndarray]:
    """``order`` (indices sorted by length) cut into batches of at most ``max_rows``, a new
    one starting early when padding every row to the newest, longest text would make more
    than ``MAX_PADDING`` of the batch padding. Chunks near the size cap fill whole batches
    as before; the ~50 sentences of 7-90 tokens that an extractive answer scores no longer
    all pad to the longest (measured: 320 -> 140 ms per 50 SciFact sentences)."""
    cuts: list[np.ndarray] = []
    start, real = 0, 0
    for end, index in enumerate(order):
        length = int(lengths[index])
        rows = end - start
        if rows and (rows == max_rows or (rows + 1) * length > (real + length) / (1 - MAX_PADDING)):
            cuts.append(order[start:end])
            start, real = end, 0
        real += length
    if start < len(order):
        cuts.append(order[start:])
    return cuts
