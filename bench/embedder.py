"""The CPU embedder: PyTorch (``minilm``) against ONNX Runtime fp32 and int8
(``minilm-onnx``), on the texts Clearance embeds for SciFact, on this machine.

    python -m bench.embedder [--threads 2] [--batch 64] [--sample 512] [--rounds 5]
                             [--limit-docs N] [--variants pytorch,onnx-fp32,onnx-int8]

Each SciFact abstract goes through the product's own ingest (``parse_document``,
``chunk_elements``, ``embedding_text``; title = the abstract's title), giving the chunk
texts. For every variant:

- speed: ``embed_documents`` on the same random ``--sample`` chunk texts, ``--rounds``
  times, the variants taking turns within each round so that load from other processes
  falls on all alike; best and median passages/s, and the speedup over PyTorch;
- agreement: mean and minimum cosine of its chunk vectors to PyTorch's;
- quality: dense nDCG@10 on the SciFact test queries (embedded one at a time with
  ``embed_query``, as a search does), a document scoring its best chunk's cosine;
- a full pass over all chunk texts, timed (passages/s) as well.

Prints a table and writes bench/results/embedder.json (with the load average before and
after, since other processes on the machine slow every variant).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._data import dataset_dir, write_result
from bench.beir import ndcg_at

VARIANTS = ("pytorch", "onnx-fp32", "onnx-int8")


def scifact_chunks(folder: Path, limit_docs: int | None) -> tuple[list[str], list[str]]:
    """(doc id of each chunk, the chunk's embedding text) for the corpus, via ingest."""
    from core.types import RawDocument
    from ingest import chunk_elements, embedding_text, minilm_token_counter, parse_document

    count_tokens = minilm_token_counter()
    doc_ids: list[str] = []
    texts: list[str] = []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if limit_docs is not None and number >= limit_docs:
                break
            doc = json.loads(line)
            if not doc["text"].strip():
                continue
            raw = RawDocument(external_id=doc["_id"], title=doc["title"],
                              content=doc["text"].encode(), mime_type="text/plain", acl=None)
            elements = parse_document(raw, max_bytes=10 * 1024 * 1024)
            for chunk in chunk_elements(elements, doc_id=doc["_id"], title=doc["title"],
                                        count_tokens=count_tokens):
                doc_ids.append(doc["_id"])
                texts.append(embedding_text(chunk, title=doc["title"]))
    return doc_ids, texts


def scifact_queries(folder: Path, doc_ids: set[str]) -> tuple[list[str], list[str],
                                                               dict[str, dict[str, int]]]:
    """Test queries with at least one judged document in the corpus (ids, texts, qrels)."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8") as lines:
        next(lines)
        for line in lines:  # CRLF endings: split() drops the \r
            query_id, doc_id, grade = line.split()
            if doc_id in doc_ids:
                qrels[query_id][doc_id] = int(grade)
    texts = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            query = json.loads(line)
            if query["_id"] in qrels:
                texts[query["_id"]] = query["text"]
    ids = sorted(texts, key=int)
    return ids, [texts[q] for q in ids], dict(qrels)


def make_embedder(variant: str, *, threads: int, batch: int, cache_dir: Path) -> Any:
    from index.embed import MiniLMEmbedder, OnnxMiniLMEmbedder

    if variant == "pytorch":
        import torch

        torch.set_num_threads(threads)
        return MiniLMEmbedder(device="cpu", batch_size=batch)
    precision = variant.removeprefix("onnx-")
    return OnnxMiniLMEmbedder(cache_dir=cache_dir, batch_size=batch, threads=threads,
                              precision=precision)  # type: ignore[arg-type]


def dense_ndcg(chunk_vectors: Any, chunk_doc_ids: list[str], query_vectors: Any,
               qrels: dict[str, dict[str, int]], query_ids: list[str]) -> float:
    """Mean nDCG@10, each document scored by its best chunk's cosine."""
    import numpy as np

    docs = sorted(set(chunk_doc_ids))
    column = {doc: i for i, doc in enumerate(docs)}
    owner = np.array([column[d] for d in chunk_doc_ids])
    order = np.argsort(owner, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(owner[order])) + 1]
    doc_scores = np.maximum.reduceat((query_vectors @ chunk_vectors.T)[:, order], starts, axis=1)
    names = [docs[i] for i in owner[order][starts]]
    total = 0.0
    for row, query_id in enumerate(query_ids):
        top = np.argsort(-doc_scores[row], kind="stable")[:10]
        total += ndcg_at([names[i] for i in top], qrels[query_id])
    return total / len(query_ids)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.embedder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per variant (2)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (64)")
    parser.add_argument("--sample", type=int, default=512, help="chunk texts per speed round")
    parser.add_argument("--rounds", type=int, default=5, help="speed rounds (5)")
    parser.add_argument("--limit-docs", type=int, default=None, help="first N abstracts only")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, from {','.join(VARIANTS)}")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="ONNX model cache (default: CLEARANCE_EMBED_CACHE_DIR or "
                        "CLEARANCE_DATA_DIR/models)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from core import Settings

    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown or "pytorch" not in variants:
        raise SystemExit(f"--variants takes {','.join(VARIANTS)} and needs pytorch "
                         f"(the reference); got {args.variants!r}")
    variants = ["pytorch", *(v for v in dict.fromkeys(variants) if v != "pytorch")]
    console = Console(width=150)
    folder = dataset_dir("scifact")
    cache_dir = args.cache_dir or Settings().embed_cache_path
    chunk_doc_ids, texts = scifact_chunks(folder, args.limit_docs)
    query_ids, queries, qrels = scifact_queries(folder, set(chunk_doc_ids))
    sample = random.Random(0).sample(texts, min(args.sample, len(texts)))
    console.print(f"SciFact: {len(set(chunk_doc_ids))} abstracts, {len(texts)} chunk texts, "
                  f"{len(query_ids)} test queries; {args.threads} threads, batch {args.batch}")

    embedders = {}
    for variant in variants:
        embedder = make_embedder(variant, threads=args.threads, batch=args.batch,
                                 cache_dir=cache_dir)
        started = time.perf_counter()
        embedder.warm_up()
        embedder.embed_documents(sample[: args.batch])
        console.print(f"  {variant}: ready in {time.perf_counter() - started:.1f} s "
                      f"on {embedder.device}")
        embedders[variant] = embedder

    load_before = os.getloadavg()
    rates: dict[str, list[float]] = {v: [] for v in variants}
    for round_number in range(args.rounds):
        for variant in variants[round_number % len(variants):] + variants[
                : round_number % len(variants)]:
            started = time.perf_counter()
            embedders[variant].embed_documents(sample)
            rates[variant].append(len(sample) / (time.perf_counter() - started))
        console.print(f"  round {round_number + 1}: " + ", ".join(
            f"{v} {rates[v][-1]:.1f}/s" for v in variants))

    results: dict[str, dict[str, Any]] = {}
    reference: Any = None
    for variant in variants:
        embedder = embedders[variant]
        started = time.perf_counter()
        vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        query_vectors = np.asarray([embedder.embed_query(q) for q in queries], dtype=np.float32)
        query_ms = (time.perf_counter() - started) * 1000 / len(queries)
        if variant == "pytorch":
            reference = (vectors, query_vectors)
        cosines = (vectors * reference[0]).sum(axis=1)
        query_cosines = (query_vectors * reference[1]).sum(axis=1)
        results[variant] = {
            "device": embedder.device,
            "passages_per_s_best": round(max(rates[variant]), 1),
            "passages_per_s_median": round(statistics.median(rates[variant]), 1),
            "passages_per_s_rounds": [round(r, 1) for r in rates[variant]],
            "full_pass_passages_per_s": round(len(texts) / full_s, 1),
            "query_ms_mean": round(query_ms, 1),
            "cosine_to_pytorch_mean": round(float(cosines.mean()), 4),
            "cosine_to_pytorch_min": round(float(cosines.min()), 4),
            "query_cosine_to_pytorch_mean": round(float(query_cosines.mean()), 4),
            "dense_ndcg@10": round(dense_ndcg(vectors, chunk_doc_ids, query_vectors, qrels,
                                              query_ids), 4),
        }
        console.print(f"  {variant}: full pass {len(texts) / full_s:.1f}/s, "
                      f"nDCG@10 {results[variant]['dense_ndcg@10']}")
    base = results["pytorch"]
    for row in results.values():
        row["speedup_best"] = round(row["passages_per_s_best"] / base["passages_per_s_best"], 2)
        row["speedup_median"] = round(
            row["passages_per_s_median"] / base["passages_per_s_median"], 2)
        row["ndcg_delta"] = round(row["dense_ndcg@10"] - base["dense_ndcg@10"], 4)

    table = Table(title=f"Embedders on SciFact chunk texts ({args.threads} threads, "
                        f"batch {args.batch}, load {load_before[0]:.1f}→{os.getloadavg()[0]:.1f})")
    columns = [("passages/s best", "passages_per_s_best"),
               ("median", "passages_per_s_median"), ("speedup", "speedup_median"),
               ("full pass/s", "full_pass_passages_per_s"), ("query ms", "query_ms_mean"),
               ("cos mean", "cosine_to_pytorch_mean"), ("cos min", "cosine_to_pytorch_min"),
               ("nDCG@10", "dense_ndcg@10"), ("Δ nDCG", "ndcg_delta")]
    table.add_column("variant")
    for title, _ in columns:
        table.add_column(title, justify="right")
    for variant, row in results.items():
        table.add_row(variant, *(str(row[key]) for _, key in columns))
    console.print(table)
    path = write_result("embedder", {
        "dataset": "scifact", "split": "test", "documents": len(set(chunk_doc_ids)),
        "chunks": len(texts), "queries": len(query_ids), "threads": args.threads,
        "batch": args.batch, "sample": len(sample), "rounds": args.rounds,
        "cpu_cores": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()], "variants": results,
    })
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
