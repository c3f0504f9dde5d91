"""How fast `clearance ingest` runs next to the embedder alone, on SciFact (5,183 abstracts
written as plain-text files), in one run on this machine.

    python -m bench.ingest_speed [--limit N]

Prints a table and writes bench/results/ingest_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._data import dataset_dir, write_result


def write_corpus(folder: Path, corpus: Path, limit: int | None) -> int:
    (folder / ".acl.json").write_text(json.dumps({"allow": ["everyone"]}))
    count = 0
    with corpus.open() as lines:
        for line in lines:
            doc = json.loads(line)
            text = f"{doc['title']}\n\n{doc['text']}"
            (folder / f"{doc['_id']}.txt").write_text(text, encoding="utf-8")
            count += 1
            if limit and count >= limit:
                break
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N abstracts only")
    args = parser.parse_args()
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")

    from api.cli import _LocalSink, _run
    from core import Settings
    from ingest import (
        ConnectorFailure,
        FilesystemConnector,
        chunk_elements,
        embedding_text,
        parse_document,
    )

    corpus = dataset_dir("scifact") / "corpus.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        folder, data = Path(tmp) / "scifact", Path(tmp) / "data"
        folder.mkdir()
        documents = write_corpus(folder, corpus, args.limit)
        settings = Settings(data_dir=data)
        sink = _LocalSink(settings, source="scifact", tenant="default")
        connector = FilesystemConnector(folder, max_bytes=settings.max_upload_bytes)
        counts, failures, chunks, seconds = _run(connector.documents(), sink)
        embedder = sink.services.embedder
        texts = []
        for raw in FilesystemConnector(folder, max_bytes=settings.max_upload_bytes).documents():
            if isinstance(raw, ConnectorFailure):
                continue
            elements = parse_document(raw, max_bytes=settings.max_upload_bytes)
            for chunk in chunk_elements(elements, doc_id="x", title=raw.title,
                                        count_tokens=embedder.count_tokens,
                                        max_tokens=settings.chunk_max_tokens,
                                        overlap_tokens=settings.chunk_overlap_tokens):
                texts.append(embedding_text(chunk, title=raw.title))
        started = time.perf_counter()
        embedder.embed_documents(texts)
        raw_seconds = time.perf_counter() - started
        device = embedder.device
        sink.close()

    result: dict[str, Any] = {
        "documents": documents, "indexed": counts.get("indexed", 0),
        "failed": counts.get("failed", 0), "chunks": chunks,
        "ingest_seconds": round(seconds, 1), "ingest_chunks_per_s": round(chunks / seconds, 1),
        "embed_only_passages": len(texts), "embed_only_seconds": round(raw_seconds, 1),
        "embed_only_passages_per_s": round(len(texts) / raw_seconds, 1),
        "device": device, "failures": dict(failures),
    }
    result["ingest_vs_embed_only"] = round(
        result["ingest_chunks_per_s"] / result["embed_only_passages_per_s"], 2)
    table = Table(title=f"clearance ingest on SciFact ({device})")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)
    write_result("ingest_speed", result)


if __name__ == "__main__":
    main()
