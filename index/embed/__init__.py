"""Embedders: the ``Embedder`` protocol, the bundled MiniLM and a hashing one for tests.

Kinds (``CLEARANCE_EMBEDDER``):

- ``minilm-auto`` (the default): on CPU, ``minilm-onnx``; on CUDA (``CLEARANCE_EMBED_DEVICE``
  names one, or none is named and torch sees a GPU), ``minilm``. The int8 ONNX path is a
  CPU path; on a GPU PyTorch is faster and exact.
- ``minilm-onnx``: all-MiniLM-L6-v2 on ONNX Runtime, int8, CPU only (``onnx.py``).
- ``minilm``: all-MiniLM-L6-v2 on PyTorch through sentence-transformers, any device.
- ``hashing``: deterministic, no model; tests only.
"""

from core import Settings

from .base import Embedder, create_embedder, register_embedder
from .hashing import HashingEmbedder
from .minilm import MiniLMEmbedder, pick_device
from .onnx import OnnxMiniLMEmbedder, cpu_cores


def _torch_minilm(settings: Settings) -> MiniLMEmbedder:
    return MiniLMEmbedder(device=settings.embed_device, batch_size=settings.embed_batch_size)


def _onnx_minilm(settings: Settings) -> OnnxMiniLMEmbedder:
    if settings.embed_device not in (None, "cpu"):
        raise ValueError(
            f"CLEARANCE_EMBEDDER=minilm-onnx runs on the CPU only, but CLEARANCE_EMBED_DEVICE="
            f"{settings.embed_device!r}: use CLEARANCE_EMBEDDER=minilm (or minilm-auto) for it"
        )
    return OnnxMiniLMEmbedder(cache_dir=settings.embed_cache_path,
                              batch_size=settings.embed_batch_size)


def _auto_minilm(settings: Settings) -> Embedder:
    """ONNX Runtime when the device is the CPU, else PyTorch (CUDA and anything else torch
    knows). Deciding may import torch to ask whether a GPU is present; no weights load."""
    if pick_device(settings.embed_device) == "cpu":
        return _onnx_minilm(settings)
    return _torch_minilm(settings)


register_embedder("minilm-auto", _auto_minilm)
register_embedder("minilm-onnx", _onnx_minilm)
register_embedder("minilm", _torch_minilm)
register_embedder("hashing", lambda s: HashingEmbedder())

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "OnnxMiniLMEmbedder",
    "cpu_cores",
    "create_embedder",
    "pick_device",
    "register_embedder",
]
