"""Retrieval quality on a BEIR dataset (SciFact by default), measured through Clearance's
own ingest and retrieval, next to rank-bm25 over the same documents as an outside reference.

    python -m bench.beir [--dataset scifact | --path DIR] [--split test|train]
                         [--limit-docs N] [--queries N] [--download] [--rebuild]

Each corpus document goes in as a user's document would: ``RawDocument`` (title = the
document's title, text = its text) through ``workers.pipeline.ingest_documents`` with the
real embedder (``Settings(embedder="minilm")``, or ``--embedder hashing`` for tests). Each
query of the split runs through ``retrieval.Retriever.search`` (``top_k=100``, one hit per
document) as a user entitled to everything, for the keyword leg alone, the dense leg alone
and hybrid as served (fusion from ``Settings``: ``CLEARANCE_FUSION`` etc.).

Prints nDCG@10, recall@100 and MRR@10 per system and writes
``bench/results/beir_<dataset>.json`` (``--split train`` adds ``_train``; ``--limit-docs``
or ``--queries`` adds ``_smoke``).

The built index is kept under ``--cache-dir`` (default ``$CLEARANCE_BENCH_CACHE``, else
``~/.cache/clearance-bench``) in a folder named by a hash of the dataset, the settings that
shape the index and the source of the code that writes it, so re-running after a fusion
change reuses it and a tokeniser or chunker change rebuilds it. Every embedding is also
cached there by its text, so a rebuild embeds only texts it has not seen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import sys
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench._data import RESULTS, ROOT, data_root

if TYPE_CHECKING:
    from index.embed import Embedder
    from workers.services import Services

BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{name}.zip"
TENANT = "default"
SOURCE = "beir"
TOP_K = 100
INGEST_BATCH_DOCS = 256
Mode = Literal["keyword", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("keyword", "dense", "hybrid")

PUBLISHED: dict[str, dict[str, float]] = {
    "scifact": {"bm25 (BEIR)": 0.665, "all-MiniLM-L6-v2 (MTEB)": 0.645,
                "hybrid RRF (issue)": 0.714, "convex combination (issue)": 0.734},
}
"""Published nDCG@10 on the test split, shown beside ours for orientation."""

INDEX_CODE = ("ingest", "index/sparse.py", "index/store", "workers/pipeline.py", "core/types.py")
"""Source whose change changes what gets stored: part of the index cache key. (The
embedder's kind is in the key and in every cached vector's key; after changing how an
embedder computes vectors, delete its ``embeddings-<kind>.sqlite``.)"""


# -- the dataset ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BeirData:
    name: str
    corpus: dict[str, tuple[str, str]]
    """doc id → (title, text), in file order."""
    queries: dict[str, str]
    """query id → text, only the queries of the split that have a judged document."""
    qrels: dict[str, dict[str, int]]
    fingerprint: str
    """sha256 of the indexed lines of the corpus file: part of the index cache key."""


def load_beir(path: Path, *, split: str = "test", limit_docs: int | None = None,
              limit_queries: int | None = None) -> BeirData:
    """A BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``).

    With ``limit_docs`` only the first N documents are kept, and only queries with at least
    one judged document among them (their judgements cut to those documents)."""
    corpus_file, queries_file = path / "corpus.jsonl", path / "queries.jsonl"
    qrels_file = path / "qrels" / f"{split}.tsv"
    for needed in (corpus_file, queries_file, qrels_file):
        if not needed.is_file():
            raise SystemExit(f"{needed} is missing: {path} is not a BEIR dataset with a "
                             f"{split!r} split (pass --path to one, or --split).")
    corpus: dict[str, tuple[str, str]] = {}
    digest = hashlib.sha256()
    with corpus_file.open("rb") as raw:
        for record in raw:
            if limit_docs is not None and len(corpus) >= limit_docs:
                break
            digest.update(record)
            if not record.strip():
                continue
            doc = json.loads(record)
            corpus[str(doc["_id"])] = (str(doc.get("title") or ""), str(doc.get("text") or ""))
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate(qrels_file.read_text(encoding="utf-8").splitlines()):
        fields = line.strip().split("\t")
        if len(fields) < 3 or (n == 0 and not fields[2].strip().lstrip("-").isdigit()):
            continue  # the header, or a blank line (SciFact's files end lines with CRLF)
        qid, did, score = fields[0], fields[1], int(fields[2])
        if did in corpus:
            qrels.setdefault(qid, {})[did] = score
    qrels = {q: rels for q, rels in qrels.items() if any(s > 0 for s in rels.values())}
    queries: dict[str, str] = {}
    with queries_file.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                query = json.loads(line)
                if str(query["_id"]) in qrels:
                    queries[str(query["_id"])] = str(query["text"])
    if limit_queries is not None:
        queries = dict(list(queries.items())[:limit_queries])
    qrels = {q: qrels[q] for q in queries}
    return BeirData(name=path.name, corpus=corpus, queries=queries, qrels=qrels,
                    fingerprint=digest.hexdigest())


def locate_dataset(name: str, *, path: Path | None, cache_dir: Path, download: bool) -> Path:
    """``--path``, else ``<eval data>/<name>``, else a copy downloaded earlier, else (with
    ``--download``) fetch it from the BEIR mirror."""
    if path is not None:
        if not path.is_dir():
            raise SystemExit(f"--path {path} is not a folder.")
        return path
    for candidate in (data_root() / name, cache_dir / "datasets" / name):
        if (candidate / "corpus.jsonl").is_file():
            return candidate
    if not download:
        raise SystemExit(f"No BEIR dataset {name!r} under {data_root()} (CLEARANCE_EVAL_DATA) "
                         f"or {cache_dir / 'datasets'}: pass --path DIR, or --download to "
                         "fetch it.")
    return download_dataset(name, cache_dir / "datasets")


def download_dataset(name: str, into: Path) -> Path:
    """Fetch ``<name>.zip`` from the BEIR mirror and unpack it under ``into``."""
    import httpx

    url = BEIR_URL.format(name=name)
    into.mkdir(parents=True, exist_ok=True)
    archive = into / f"{name}.zip.part"
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(10.0, read=60.0),
                          follow_redirects=True) as response:
            if response.status_code == 404:
                raise SystemExit(f"The BEIR mirror has no dataset {name!r} ({url}).")
            response.raise_for_status()
            with archive.open("wb") as out:
                for block in response.iter_bytes(1 << 20):
                    out.write(block)
    except httpx.TransportError as exc:
        archive.unlink(missing_ok=True)
        raise SystemExit(f"No internet connection from this machine ({type(exc).__name__} "
                         f"reaching {url}): copy the dataset there yourself and pass --path DIR."
                         ) from None
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(into)
    archive.unlink()
    if not (into / name / "corpus.jsonl").is_file():
        raise SystemExit(f"{url} did not unpack to {into / name}/corpus.jsonl.")
    return into / name


# -- metrics (as pytrec_eval computes them for BEIR) ----------------------------------------


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """Linear gain (the relevance grade), log2 discount, ideal from the judged grades."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal_gains = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(ideal_gains))
    return dcg / ideal if ideal > 0 else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean nDCG@10, recall@100 and MRR@10 over the judged queries (a missing run scores 0).
    As BEIR does, a document whose id is the query's own id is not counted as retrieved."""
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for qid, relevant in qrels.items():
        ranked = [doc for doc in runs.get(qid, []) if doc != qid]
        totals["ndcg@10"] += ndcg_at(ranked, relevant, 10)
        totals["recall@100"] += recall_at(ranked, relevant, 100)
        totals["mrr@10"] += mrr_at(ranked, relevant, 10)
    n = max(len(qrels), 1)
    return {name: round(value / n, 4) for name, value in totals.items()}


# -- the outside reference: rank-bm25 ------------------------------------------------------

_REFERENCE_WORD = re.compile(r"\w+")
_REFERENCE_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have in is it its of on or that the this to "
    "was were which will with".split())


def reference_tokens(text: str) -> list[str]:
    """rank-bm25's input: lower-cased word runs, a short stopword list, Snowball stems.
    Deliberately independent of ``index.sparse.tokenize``."""
    import Stemmer  # type: ignore[import-not-found]

    stemmer = Stemmer.Stemmer("english")
    words = [w for w in _REFERENCE_WORD.findall(text.lower()) if w not in _REFERENCE_STOPWORDS]
    return [str(s) for s in stemmer.stemWords(words)]


def rank_bm25_runs(data: BeirData, *, top_k: int = TOP_K) -> dict[str, list[str]]:
    """BM25Okapi (k1=1.5, b=0.75) over title + text of every document, top ``top_k``."""
    import numpy as np
    from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]

    ids = list(data.corpus)
    bm25 = BM25Okapi([reference_tokens(f"{t} {x}") for t, x in data.corpus.values()])
    runs: dict[str, list[str]] = {}
    for qid, text in data.queries.items():
        scores = bm25.get_scores(reference_tokens(text))
        best = np.argsort(-scores, kind="stable")[:top_k]
        runs[qid] = [ids[i] for i in best]
    return runs


# -- the index ------------------------------------------------------------------------------


class CachedEmbedder:
    """An ``Embedder`` that keeps every vector it computes in SQLite, keyed by the model and
    the text, so rebuilding an index after a chunker or tokeniser change embeds only new
    texts. Not for serving: a benchmark tool."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.computed = 0
        self.reused = 0

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    @property
    def device(self) -> str:
        return self.inner.device

    def __getattr__(self, name: str) -> Any:
        """Optional capabilities of the wrapped embedder (``token_spans``, which the
        pipeline uses when offered) pass through, so chunking is the same as served."""
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def warm_up(self) -> None:
        self.inner.warm_up()
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors "
                             "(key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, role="document")

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], role="query")[0]

    def _embed(self, texts: Sequence[str], *, role: str) -> list[list[float]]:
        import numpy as np

        if self._db is None:
            self.warm_up()
        db = self._db
        assert db is not None
        prefix = f"{self.kind}\x00{self.dimensions}\x00{self.max_tokens}\x00{role}\x00"
        keys = [hashlib.sha256((prefix + t).encode()).digest() for t in texts]
        found: dict[bytes, list[float]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                rows = db.execute("SELECT key, vector FROM vectors WHERE key IN "
                                  f"({','.join('?' * len(part))})", part).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float64).tolist()
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            index = {k: i for i, k in enumerate(keys)}
            todo = [texts[index[k]] for k in missing]
            vectors = (self.inner.embed_documents(todo) if role == "document"
                       else [self.inner.embed_query(t) for t in todo])
            with self._lock:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                               [(k, np.asarray(v, dtype=np.float64).tobytes())
                                for k, v in zip(missing, vectors, strict=True)])
                db.commit()
            found.update(zip(missing, vectors, strict=True))
        self.computed += len(missing)
        self.reused += len(keys) - len(missing)
        return [list(found[k]) for k in keys]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def code_fingerprint() -> str:
    """sha256 over the source files whose change changes the stored index."""
    digest = hashlib.sha256()
    for entry in INDEX_CODE:
        path = ROOT / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\x00")
            digest.update(file.read_bytes() + b"\x00")
    return digest.hexdigest()


def index_key(data: BeirData, settings: Any) -> str:
    """What the built index depends on: documents, the index-shaping settings, the code."""
    shaping = {"embedder": settings.embedder, "chunk_max_tokens": settings.chunk_max_tokens,
               "chunk_overlap_tokens": settings.chunk_overlap_tokens,
               "documents": len(data.corpus), "corpus": data.fingerprint,
               "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class BuiltIndex:
    services: Services
    embedder: CachedEmbedder
    folder: Path
    cached: bool
    build_s: float
    chunks: int
    failed: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        self.services.close()
        self.embedder.close()


def _raw_documents(data: BeirData) -> Iterator[Any]:
    from core import Acl, RawDocument

    everyone = Acl.of(["everyone"])
    for doc_id, (title, text) in data.corpus.items():
        yield RawDocument(external_id=doc_id, title=title, content=text.encode("utf-8"),
                          mime_type="text/plain", acl=everyone)


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def open_index(data: BeirData, *, cache_dir: Path, embedder_kind: str, rebuild: bool,
               say: Any = print) -> BuiltIndex:
    """The dataset indexed through ``ingest_documents`` under a folder named by
    ``index_key``: reused when complete, else (re)built."""
    from core import Settings
    from index.embed import create_embedder
    from workers.pipeline import ingest_documents
    from workers.services import build_services
    from workers.sources import get_or_create_source

    probe = Settings(data_dir=cache_dir, embedder=embedder_kind)
    folder = cache_dir / "index" / f"{data.name}-{len(data.corpus)}-{index_key(data, probe)}"
    settings = Settings(data_dir=folder, embedder=embedder_kind)
    embedder = CachedEmbedder(create_embedder(settings),
                              cache_dir / f"embeddings-{embedder_kind}.sqlite")
    done = folder / "COMPLETE.json"
    if done.is_file() and not rebuild:
        facts = json.loads(done.read_text())
        services = build_services(settings, embedder=embedder)  # type: ignore[arg-type]
        return BuiltIndex(services, embedder, folder, cached=True, build_s=facts["build_s"],
                          chunks=facts["chunks"], failed=facts.get("failed", {}))
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    services = build_services(settings, embedder=embedder)  # type: ignore[arg-type]
    try:
        with services.sessions() as session, session.begin():
            source_id = get_or_create_source(session, tenant=TENANT, name=SOURCE,
                                             kind="push").id
        chunks, failed, done_docs = 0, {}, 0
        for batch in _batches(_raw_documents(data), INGEST_BATCH_DOCS):
            for outcome in ingest_documents(services, batch, tenant=TENANT,
                                            source_id=source_id):
                chunks += outcome.chunks
                if outcome.status == "failed":
                    failed[outcome.external_id] = outcome.error_code or "failed"
            done_docs += len(batch)
            elapsed = time.perf_counter() - started
            say(f"  indexed {done_docs}/{len(data.corpus)} documents, {chunks} chunks, "
                f"{elapsed:.0f} s ({embedder.computed} embedded, {embedder.reused} cached)")
    except BaseException:
        services.close()
        embedder.close()
        raise
    build_s = round(time.perf_counter() - started, 1)
    done.write_text(json.dumps({"build_s": build_s, "chunks": chunks, "failed": failed,
                                "documents": len(data.corpus)}))
    return BuiltIndex(services, embedder, folder, cached=False, build_s=build_s,
                      chunks=chunks, failed=failed)


# -- running the queries --------------------------------------------------------------------


def clearance_runs(index: BuiltIndex, data: BeirData, mode: Mode, *,
                   top_k: int = TOP_K) -> tuple[dict[str, list[str]], float]:
    """Each query through ``Retriever.search`` as served (fusion from ``Settings``), as a
    user entitled to everything; returns the runs and the mean latency in ms."""
    from core import Entitlements
    from retrieval import FusionConfig, Retriever

    services = index.services
    retriever = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions,
                          fusion=FusionConfig.from_settings(services.settings))
    everything = Entitlements(tenant=TENANT,
                              principals=frozenset({"everyone", "user:bench@example.com"}))
    runs: dict[str, list[str]] = {}
    started = time.perf_counter()
    for qid, text in data.queries.items():
        result = retriever.search(text, entitlements=everything, top_k=top_k,
                                  group_by_document=True, mode=mode)
        runs[qid] = [hit.external_id for hit in result.hits]
    mean_ms = (time.perf_counter() - started) * 1000 / max(len(data.queries), 1)
    return runs, mean_ms


# -- the command ----------------------------------------------------------------------------


def _default_cache_dir() -> Path:
    configured = os.environ.get("CLEARANCE_BENCH_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "clearance-bench"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.beir", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="scifact", help="BEIR dataset name (scifact)")
    parser.add_argument("--path", type=Path, default=None, help="a BEIR folder to use instead")
    parser.add_argument("--split", default="test", help="qrels split to evaluate (test)")
    parser.add_argument("--limit-docs", type=int, default=None,
                        help="index the first N documents only (queries judged on them)")
    parser.add_argument("--queries", type=int, default=None, help="first N queries only")
    parser.add_argument("--download", action="store_true",
                        help="fetch the dataset from the BEIR mirror if it is not here")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="built indexes and embeddings ($CLEARANCE_BENCH_CACHE, "
                             "else ~/.cache/clearance-bench)")
    parser.add_argument("--rebuild", action="store_true", help="ignore a cached index")
    parser.add_argument("--embedder", default="minilm", help="minilm, or hashing (tests)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON result file (bench/results/beir_<dataset>.json)")
    args = parser.parse_args(argv)
    if args.limit_docs is not None and args.limit_docs <= 0:
        parser.error("--limit-docs must be positive")
    if args.queries is not None and args.queries <= 0:
        parser.error("--queries must be positive")
    return args


def run(args: argparse.Namespace, *, say: Any = print) -> dict[str, Any]:
    """Index (or reuse), run every system, return the result (also written as JSON)."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cache_dir = (args.cache_dir or _default_cache_dir()).resolve()
    path = locate_dataset(args.dataset, path=args.path, cache_dir=cache_dir,
                          download=args.download)
    data = load_beir(path, split=args.split, limit_docs=args.limit_docs,
                     limit_queries=args.queries)
    if not data.queries:
        raise SystemExit(f"No {args.split!r} query of {path} has a judged document among the "
                         "indexed ones: raise --limit-docs.")
    say(f"{data.name}: {len(data.corpus)} documents, {len(data.queries)} {args.split} queries")

    started = time.perf_counter()
    reference = rank_bm25_runs(data)
    reference_s = time.perf_counter() - started
    systems: dict[str, dict[str, Any]] = {
        "rank-bm25": {**evaluate(reference, data.qrels),
                      "query_ms": round(reference_s * 1000 / len(data.queries), 2)},
    }
    index = open_index(data, cache_dir=cache_dir, embedder_kind=args.embedder,
                       rebuild=args.rebuild, say=say)
    try:
        say(f"index: {index.chunks} chunks, {'reused' if index.cached else 'built'} "
            f"({index.folder})")
        for mode in MODES:
            runs, mean_ms = clearance_runs(index, data, mode)
            systems[f"clearance {mode}"] = {**evaluate(runs, data.qrels),
                                            "query_ms": round(mean_ms, 2)}
        settings = index.services.settings
        served = {"fusion": settings.fusion, "rrf_k": settings.rrf_k,
                  "dense_weight": settings.dense_weight, "lead_bonus": settings.lead_bonus,
                  "chunk_max_tokens": settings.chunk_max_tokens,
                  "chunk_overlap_tokens": settings.chunk_overlap_tokens,
                  "embedder": settings.embedder, "device": index.embedder.device}
    finally:
        index.close()

    result = {
        "dataset": data.name, "split": args.split, "documents": len(data.corpus),
        "queries": len(data.queries), "chunks": index.chunks,
        "failed_documents": len(index.failed), "index_cached": index.cached,
        "texts_embedded": index.embedder.computed, "texts_from_cache": index.embedder.reused,
        "index_build_s": index.build_s, "served_settings": served, "systems": systems,
        "published_ndcg@10_test": PUBLISHED.get(data.name, {}),
    }
    stem = f"beir_{data.name}" + ("" if args.split == "test" else f"_{args.split}")
    if args.limit_docs is not None or args.queries is not None:
        stem += "_smoke"  # a partial run never overwrites the full result
    out = args.out or RESULTS / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True))
    result["out"] = str(out)
    return result


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"BEIR {result['dataset']} ({result['split']}: {result['queries']} "
                        f"queries, {result['documents']} documents, {result['chunks']} chunks)")
    for column in ("system", "nDCG@10", "recall@100", "MRR@10", "ms/query"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, row in result["systems"].items():
        table.add_row(name, f"{row['ndcg@10']:.4f}", f"{row['recall@100']:.4f}",
                      f"{row['mrr@10']:.4f}", f"{row['query_ms']:.1f}")
    console = Console()
    console.print(table)
    served = result["served_settings"]
    console.print(f"hybrid as served: {served}")
    if result["published_ndcg@10_test"]:
        console.print("published nDCG@10 (test): " + ", ".join(
            f"{k} {v}" for k, v in result["published_ndcg@10_test"].items()))
    console.print(f"index {'reused' if result['index_cached'] else 'built'} "
                  f"(build {result['index_build_s']} s); wrote {result['out']}")


def main(argv: Sequence[str] | None = None) -> None:
    result = run(parse_args(argv), say=lambda line: print(line, file=sys.stderr, flush=True))
    print_table(result)


if __name__ == "__main__":
    main()
