"""/v1/search end to end on loopback at 10k, 100k and 1M chunks, with an ACL filter, for
1, 4 and 16 concurrent clients, and where the time goes.

The index of each size: SciFact (5,183 abstracts) through Clearance's own ingest (chunker,
embedder, stores; vectors cached across runs by ``bench.beir.CachedEmbedder``), then filler
up to the size, written in bulk without the embedder: text made of the words of a real
chunk, its vector a jittered copy of that chunk's vector (so the dense leg sees neighbours
of real queries), SQL rows matching the points (the SQL re-check passes them). Every
document allows one of four groups; the asking user reaches two of them (one through a
nested group), so half the corpus is readable and the filter does real work.

The server is ``clearance serve`` (one uvicorn worker, embedded Qdrant Edge) with
``CLEARANCE_SERVER_TIMING`` on; the user asks with a query key of its own. Queries are the
SciFact test claims. Per-step times come from the Server-Timing header (api/timing.py);
``client`` is what the client saw beyond the server's own ``app`` time (HTTP on loopback).

    python -m bench.search_latency [--sizes 10000,100000,1000000] [--queries 300] [--keep DIR]

``--keep DIR`` builds each size once under DIR and measures it again on later runs.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from bench._data import dataset_dir, write_result
from bench._server import ADMIN_KEY, start_server
from bench._synthetic import BulkWriter, document_row, percentiles

USER = "reader@bench.test"
TENANT = "default"
GROUPS = ("lab-0", "lab-1", "lab-2", "lab-3")
"""Each document allows one of these; the user is in lab-0, and in lab-1 through team."""
CLIENTS = (1, 4, 16)
FILLER_CHUNKS_PER_DOC = 10
JITTER = 0.35
"""Noise norm relative to the unit vector it is added to (cosine ≈ 0.94 to the original)."""
STEPS = ("auth", "entitlements", "queue", "embed", "engine", "recheck", "rerank", "snippet",
         "audit", "http")


class RecordingEmbedder:
    """Passes everything to ``inner`` and keeps each document text's vector: the real
    vectors the filler is jittered from."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.vectors: list[list[float]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.inner.embed_documents(texts)
        self.texts.extend(texts)
        self.vectors.extend(vectors)
        return vectors


# -- building an index of one size ------------------------------------------------------------

def build_index(folder: Path, size: int, *, corpus: dict[str, tuple[str, str]],
                cache_dir: Path, embedder_kind: str, say: Callable[[str], None]) -> dict[str, Any]:
    """SciFact through ingest, then filler up to ``size`` chunks; returns build facts."""
    from bench.beir import CachedEmbedder
    from core import Acl, RawDocument, Settings
    from index.embed import create_embedder
    from workers.pipeline import ingest_documents
    from workers.services import build_services
    from workers.sources import get_or_create_source

    settings = Settings(data_dir=folder, embedder=embedder_kind,
                        embed_cache_dir=cache_dir / "models")
    embedder = RecordingEmbedder(CachedEmbedder(
        create_embedder(settings), cache_dir / f"embeddings-{embedder_kind}.sqlite"))
    services = build_services(settings, embedder=embedder)
    started = time.perf_counter()
    try:
        with services.sessions() as session, session.begin():
            source_id = get_or_create_source(session, tenant=TENANT, name="scifact",
                                             kind="push").id
        documents = [RawDocument(external_id=doc_id, title=title, content=text.encode(),
                                 mime_type="text/plain",
                                 acl=Acl.of([f"group:{GROUPS[n % len(GROUPS)]}"]))
                     for n, (doc_id, (title, text)) in enumerate(corpus.items())]
        real = 0
        for start in range(0, len(documents), 256):
            for outcome in ingest_documents(services, documents[start:start + 256],
                                            tenant=TENANT, source_id=source_id):
                real += outcome.chunks
        ingest_s = time.perf_counter() - started
        say(f"  {real:,} SciFact chunks ingested ({ingest_s:.0f} s)")
        filler = max(0, size - real)
        t0 = time.perf_counter()
        _write_filler(services, filler, np.asarray(embedder.vectors, dtype=np.float32),
                      embedder.texts, say=say)
        filler_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        optimize = getattr(services.store, "optimize", None)
        if optimize is not None:  # Edge: merge segments, build HNSW, as serve does at start
            optimize()
        optimize_s = time.perf_counter() - t0
    finally:
        services.close()
        embedder.inner.close()
    return {"chunks": real + filler, "scifact_chunks": real, "filler_chunks": filler,
            "ingest_s": round(ingest_s, 1), "filler_s": round(filler_s, 1),
            "optimize_s": round(optimize_s, 1)}


def _write_filler(services: Any, chunks: int, vectors: np.ndarray, texts: list[str], *,
                  say: Callable[[str], None], seed: int = 11) -> None:
    from core import chunk_id, document_id
    from core.models import Source
    from index.sparse import encode_document
    from index.store import ChunkPoint

    if chunks == 0:
        return
    rng = np.random.default_rng(seed)
    with services.sessions() as session, session.begin():
        source = Source(id=uuid.uuid4().hex, tenant_id=TENANT, name="filler", kind="push")
        session.add(source)
        source_id = source.id
    words = [text.split() for text in texts]
    dims = vectors.shape[1]
    writer = BulkWriter(services, say=say, label="filler chunks", report_every=100_000)
    for n in range((chunks + FILLER_CHUNKS_PER_DOC - 1) // FILLER_CHUNKS_PER_DOC):
        count = min(FILLER_CHUNKS_PER_DOC, chunks - n * FILLER_CHUNKS_PER_DOC)
        external_id, version = f"filler-{n}", f"f1-{n}"
        doc_id = document_id(source_id, external_id)
        acl = [f"group:{GROUPS[int(rng.integers(len(GROUPS)))]}"]
        originals = rng.integers(len(texts), size=count)
        noise = rng.normal(size=(count, dims)).astype(np.float32)
        noise *= JITTER / np.linalg.norm(noise, axis=1, keepdims=True)
        jittered = vectors[originals] + noise
        jittered /= np.linalg.norm(jittered, axis=1, keepdims=True)
        points = []
        for ordinal, (original, vector) in enumerate(zip(originals, jittered, strict=True)):
            source_words = words[int(original)]
            picked = rng.choice(len(source_words), size=min(60, len(source_words)),
                                replace=False)
            text = " ".join(source_words[i] for i in sorted(picked))
            points.append(ChunkPoint(
                id=chunk_id(doc_id, version, ordinal), dense=vector.tolist(),
                sparse=encode_document(text), tenant=TENANT, source_id=source_id,
                doc_id=doc_id, external_id=external_id, content_hash=version,
                ordinal=ordinal, text=text, title=f"Filler {n}", url=None, heading_path=(),
                acl_allow=frozenset(acl), acl_deny=frozenset(), acl_version=1))
        writer.add(points, document_row(doc_id, source_id=source_id, external_id=external_id,
                                        title=f"Filler {n}", version=version, acl=acl,
                                        chunks=count))
    writer.close()


# -- asking ----------------------------------------------------------------------------------

def _user_key(base: str) -> str:
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                         timeout=60)
    for group, members in (("lab-0", [USER]), ("team", [USER]), ("lab-1", ["group:team"])):
        admin.put(f"/v1/groups/{group}", json={"members": members}).raise_for_status()
    response = admin.post("/v1/keys", json={"name": "bench", "scopes": ["query"],
                                            "user_id": USER})
    response.raise_for_status()
    return str(response.json()["key"])


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return round(int(match.group(1)) / 1024, 1) if match else float("nan")


def _ask_all(base: str, key: str, queries: list[str], clients: int,
             ) -> tuple[list[float], list[dict[str, float]], float, int]:
    """Every query once, spread over ``clients`` threads with a connection each."""
    local = threading.local()
    empty = {"n": 0}
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=60,
                                        headers={"Authorization": f"Bearer {key}"})
        return local.client  # type: ignore[no-any-return]

    def ask(query: str) -> tuple[float, dict[str, float]]:
        t0 = time.perf_counter()
        response = client().post("/v1/search", json={"query": query, "top_k": 10})
        elapsed = (time.perf_counter() - t0) * 1000
        response.raise_for_status()
        if not response.json()["hits"]:
            with lock:
                empty["n"] += 1
        steps = {name: float(ms) for name, ms in
                 re.findall(r"(\w+);dur=([\d.]+)", response.headers.get("server-timing", ""))}
        steps["client"] = max(0.0, elapsed - steps.get("app", elapsed))
        return elapsed, steps

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(ask, queries))
    wall = time.perf_counter() - started
    return [r[0] for r in results], [r[1] for r in results], wall, empty["n"]


def measure(folder: Path, *, queries: list[str], warm_up: list[str], port: int,
            cache_dir: Path, embedder_kind: str, say: Callable[[str], None],
            ) -> dict[str, Any]:
    """``warm_up`` (other queries than the measured ones) is asked first, uncounted: it
    pages the shard's memory-mapped segments in, as a server in service has them."""
    server = start_server(port, {
        "CLEARANCE_DATA_DIR": str(folder), "CLEARANCE_SERVER_TIMING": "true",
        "CLEARANCE_EMBEDDER": embedder_kind,
        "CLEARANCE_EMBED_CACHE_DIR": str(cache_dir / "models")})
    base = f"http://127.0.0.1:{port}"
    try:
        key = _user_key(base)
        _ask_all(base, key, warm_up, 1)
        runs: dict[str, Any] = {}
        for clients in CLIENTS:
            latencies, steps, wall, empty = _ask_all(base, key, queries, clients)
            run: dict[str, Any] = {**percentiles(latencies), "qps": round(len(latencies) / wall, 1),
                   "queries_without_hits": empty}
            if clients == 1:
                run["steps_p50_ms"] = {name: round(float(np.median([s.get(name, 0.0)
                                                                     for s in steps])), 2)
                                       for name in (*STEPS, "app", "client")}
            runs[str(clients)] = run
            say(f"  {clients:>2} client(s): p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, "
                f"{run['qps']} q/s")
        ready = httpx.get(f"{base}/v1/ready").json()
        return {"clients": runs, "server_rss_mb": _rss_mb(server.pid),
                "embedder": ready.get("checks", {}).get("embedder")}
    finally:
        server.terminate()
        server.wait(timeout=120)


# -- the command -----------------------------------------------------------------------------

def _load_scifact(path: Path | None, limit_docs: int | None,
                  ) -> tuple[dict[str, tuple[str, str]], list[str], list[str]]:
    """The corpus, the test queries (measured) and the train queries (the warm-up)."""
    data = path or dataset_dir("scifact")
    corpus: dict[str, tuple[str, str]] = {}
    with (data / "corpus.jsonl").open() as lines:
        for line in lines:
            doc = json.loads(line)
            corpus[doc["_id"]] = (doc.get("title", ""), doc["text"])
            if limit_docs and len(corpus) >= limit_docs:
                break
    tested = {line.split("\t")[0] for line in (data / "qrels" / "test.tsv").open()}
    every = [(q["_id"], q["text"]) for q in map(json.loads, (data / "queries.jsonl").open())]
    queries = [text for qid, text in every if qid in tested]
    return corpus, queries, [text for qid, text in every if qid not in tested]


@contextmanager
def _scratch(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="clearance-latency-") as tmp:
        yield Path(tmp)


def run(args: argparse.Namespace, say: Callable[[str], None] = print) -> dict[str, Any]:
    from bench.beir import _default_cache_dir

    cache_dir = (args.cache_dir or _default_cache_dir()).resolve()
    corpus, queries, warm_up = _load_scifact(args.path, args.limit_docs)
    warm_up = (warm_up or queries)[:max(30, args.queries)]
    queries = (queries * (1 + args.queries // max(1, len(queries))))[:args.queries]
    sizes: dict[str, Any] = {}
    with _scratch(args.keep) as scratch:
        for size in args.sizes:
            folder = scratch / f"n{size}"
            built = folder / "BUILT.json"
            if built.is_file() and not args.rebuild:  # --keep: measure what was built
                say(f"{size:,} chunks: reusing {folder}")
                facts = json.loads(built.read_text())
            else:
                say(f"{size:,} chunks: building in {folder}")
                if folder.exists():
                    shutil.rmtree(folder)
                facts = build_index(folder, size, corpus=corpus, cache_dir=cache_dir,
                                    embedder_kind=args.embedder, say=say)
                facts["data_dir_mb"] = round(sum(f.stat().st_size for f in folder.rglob("*")
                                                 if f.is_file()) / 2**20, 1)
                built.write_text(json.dumps(facts))
            if args.build_only:
                sizes[str(size)] = facts
                continue
            facts.update(measure(folder, queries=queries, warm_up=warm_up, port=args.port,
                                 cache_dir=cache_dir,
                                 embedder_kind=args.embedder, say=say))
            sizes[str(size)] = facts
            if args.keep is None:
                shutil.rmtree(folder)
    if args.build_only:
        return {"sizes": sizes}
    result = {"queries": len(queries), "acl": "user reads 2 of 4 groups (one nested)",
              "sizes": sizes}
    write_result("search_latency", result, args.out)
    return result


def print_tables(result: dict[str, Any]) -> None:
    console = Console(width=150)
    table = Table(title=f"/v1/search on loopback, ACL filter, {result['queries']} queries")
    for column in ("chunks", "clients", "p50 ms", "p95 ms", "p99 ms", "q/s", "server RSS MB",
                   "build s"):
        table.add_column(column, justify="right")
    for size, facts in result["sizes"].items():
        build_s = facts["ingest_s"] + facts["filler_s"] + facts["optimize_s"]
        for clients, run_ in facts["clients"].items():
            table.add_row(f"{int(size):,}", clients, str(run_["p50_ms"]), str(run_["p95_ms"]),
                          str(run_["p99_ms"]), str(run_["qps"]), str(facts["server_rss_mb"]),
                          f"{build_s:.0f}")
    console.print(table)
    steps = Table(title="Where the time goes: median ms per step, one client (Server-Timing)")
    steps.add_column("chunks", justify="right")
    names = (*STEPS, "client", "app")
    for name in names:
        steps.add_column(name, justify="right")
    for size, facts in result["sizes"].items():
        split = facts["clients"]["1"]["steps_p50_ms"]
        steps.add_row(f"{int(size):,}", *(str(split[name]) for name in names))
    console.print(steps)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda v: [int(s) for s in v.split(",")],
                        default=[10_000, 100_000],
                        help="index sizes in chunks (default 10000,100000; add 1000000 for the "
                        "large run: its build takes ~25 min on 2 cores)")
    parser.add_argument("--queries", type=int, default=300, help="queries per client count")
    parser.add_argument("--limit-docs", type=int, default=None, help="first N SciFact docs")
    parser.add_argument("--path", type=Path, default=None,
                        help="a BEIR folder instead of SciFact under CLEARANCE_EVAL_DATA")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default bench/results/search_latency.json)")
    parser.add_argument("--embedder", default="minilm-auto", help="as CLEARANCE_EMBEDDER")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="vector and model cache (as bench.beir's)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the indexes here and keep them (default: a temp dir)")
    parser.add_argument("--rebuild", action="store_true", help="with --keep: build anew")
    parser.add_argument("--build-only", action="store_true", help="with --keep: build, no asking")
    parser.add_argument("--port", type=int, default=8797)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    result = run(parse_args(argv))
    if "queries" in result:
        print_tables(result)


if __name__ == "__main__":
    main()
