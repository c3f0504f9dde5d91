"""The ONNX Runtime MiniLM embedder: built offline into a cache on first start, reused
after, and close to the PyTorch embedder it replaces on CPU."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import Settings
from index.embed import MiniLMEmbedder, OnnxMiniLMEmbedder, create_embedder
from index.embed.onnx import MAX_PADDING, batches

SENTENCES = [
    "Vitamin D deficiency is associated with an increased risk of fractures.",
    "The quarterly travel policy caps hotel costs at 180 euros a night.",
    "hi",
    "Kinase inhibitors reduce tumour growth in mice " * 40,  # past the 256-token window
    "Über die Grenzen: naïve café résumé — 東京 🚀",
]


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def onnx_embedder(model_cache: Path) -> Iterator[OnnxMiniLMEmbedder]:
    """One export per test session, with the network refused while it runs."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("building the ONNX model tried to open a network connection")

    embedder = OnnxMiniLMEmbedder(cache_dir=model_cache, threads=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        patch.setattr(socket.socket, "connect", refuse)
        embedder.warm_up()
    yield embedder


@pytest.fixture(scope="session")
def torch_embedder() -> MiniLMEmbedder:
    embedder = MiniLMEmbedder(device="cpu")
    embedder.warm_up()
    return embedder


def test_first_warm_up_builds_one_int8_file_in_the_cache_dir(
    onnx_embedder: OnnxMiniLMEmbedder, model_cache: Path
) -> None:
    assert onnx_embedder.built_model
    assert onnx_embedder.device == "cpu"
    assert onnx_embedder.model_path is not None
    assert [p.name for p in model_cache.iterdir()] == [onnx_embedder.model_path.name]
    assert "-int8-" in onnx_embedder.model_path.name


def test_second_warm_up_reuses_the_cached_file(
    onnx_embedder: OnnxMiniLMEmbedder, model_cache: Path
) -> None:
    assert onnx_embedder.model_path is not None
    mtime = onnx_embedder.model_path.stat().st_mtime_ns
    again = OnnxMiniLMEmbedder(cache_dir=model_cache, threads=1)
    again.warm_up()
    assert again.built_model is False
    assert again.model_path == onnx_embedder.model_path
    assert onnx_embedder.model_path.stat().st_mtime_ns == mtime
    assert again.embed_query("hi") == pytest.approx(onnx_embedder.embed_query("hi"), abs=1e-3)


def test_vectors_are_unit_length_with_384_dimensions(onnx_embedder: OnnxMiniLMEmbedder) -> None:
    vectors = onnx_embedder.embed_documents(SENTENCES)
    assert len(vectors) == len(SENTENCES)
    for vector in vectors:
        assert len(vector) == onnx_embedder.dimensions == 384
        assert math.sqrt(sum(v * v for v in vector)) == pytest.approx(1.0, abs=1e-4)
    assert onnx_embedder.embed_documents([]) == []


def test_vectors_stay_within_quantization_noise_of_pytorch(
    onnx_embedder: OnnxMiniLMEmbedder, torch_embedder: MiniLMEmbedder
) -> None:
    ours = onnx_embedder.embed_documents(SENTENCES)
    reference = torch_embedder.embed_documents(SENTENCES)
    for sentence, a, b in zip(SENTENCES, ours, reference, strict=True):
        assert _cosine(a, b) >= 0.98, sentence[:40]


def test_results_come_back_in_the_callers_order_after_length_sorting(
    model_cache: Path, onnx_embedder: OnnxMiniLMEmbedder
) -> None:
    texts = [f"{word} " * length for word, length in
             [("alpha", 30), ("beta", 2), ("gamma", 90), ("delta", 9), ("omega", 1)]]
    small_batches = OnnxMiniLMEmbedder(cache_dir=model_cache, batch_size=2, threads=1)
    together = small_batches.embed_documents(texts)
    alone = [onnx_embedder.embed_query(text) for text in texts]
    for i, vector in enumerate(together):
        similarities = [_cosine(vector, other) for other in alone]
        assert max(range(len(texts)), key=similarities.__getitem__) == i
        # Not 1.0: int8 activations are scaled per batch, so batch-mates move a vector a bit.
        assert similarities[i] >= 0.97


def test_count_tokens_agrees_with_the_pytorch_embedder(
    onnx_embedder: OnnxMiniLMEmbedder, torch_embedder: MiniLMEmbedder
) -> None:
    for text in [*SENTENCES, "", "word " * 300]:
        assert onnx_embedder.count_tokens(text) == torch_embedder.count_tokens(text)
    assert onnx_embedder.count_tokens("word " * 300) == 302  # special tokens, no truncation


def test_count_tokens_needs_no_model(tmp_path: Path) -> None:
    embedder = OnnxMiniLMEmbedder(cache_dir=tmp_path / "never-built")
    assert embedder.count_tokens("hello world") == 4
    assert not (tmp_path / "never-built").exists()


def test_auto_kind_runs_onnx_on_cpu_and_pytorch_on_cuda(tmp_path: Path) -> None:
    on_cpu = create_embedder(Settings(data_dir=tmp_path, embedder="minilm-auto",
                                      embed_device="cpu"))
    on_gpu = create_embedder(Settings(data_dir=tmp_path, embedder="minilm-auto",
                                      embed_device="cuda"))
    assert isinstance(on_cpu, OnnxMiniLMEmbedder)
    assert on_cpu.cache_dir == tmp_path / "models"
    assert isinstance(on_gpu, MiniLMEmbedder)


def test_onnx_kind_on_a_gpu_device_names_the_setting_to_change(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CLEARANCE_EMBEDDER=minilm"):
        create_embedder(Settings(data_dir=tmp_path, embedder="minilm-onnx", embed_device="cuda"))


@given(lengths=st.lists(st.integers(min_value=1, max_value=256), max_size=200),
       max_rows=st.integers(min_value=1, max_value=64))
def test_batches_cover_every_text_once_and_pad_at_most_a_quarter(
        lengths: list[int], max_rows: int) -> None:
    sizes = np.array(lengths, dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    cut = batches(order, sizes, max_rows)
    assert [int(i) for batch in cut for i in batch] == [int(i) for i in order]
    for batch in cut:
        assert 1 <= len(batch) <= max_rows
        slots = len(batch) * int(sizes[batch].max())
        assert len(batch) == 1 or slots - int(sizes[batch].sum()) <= MAX_PADDING * slots + 1e-9


def test_texts_of_one_length_fill_whole_batches() -> None:
    sizes = np.full(130, 250, dtype=np.int64)
    assert [len(b) for b in batches(np.arange(130), sizes, 64)] == [64, 64, 2]


def test_short_and_long_sentences_are_not_padded_together() -> None:
    sizes = np.array([8, 9, 10, 12, 60, 64, 70], dtype=np.int64)
    assert [[int(i) for i in b] for b in batches(np.arange(7), sizes, 64)] == [
        [0, 1, 2, 3], [4, 5, 6]]
