"""A large synthetic index built in bulk, without the embedder: for benchmarks of the
permission filter at scale (bench/acl_scale.py).

Documents get generated text (topic words plus Zipf-distributed common words), BM25 sparse
vectors from our own encoder, and dense vectors jittered around a topic centroid (unit
length, the embedder's dimensions). The SQL ``Document`` rows carry the same content hash
and ACL as the points, so the SQL re-check passes exactly the hits it should. Points are
written with ``store.upsert`` in large batches; nothing is embedded.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert

from acl import ensure_tenant
from core import chunk_id, document_id
from core.models import Document, DocumentStatus, Source
from index.sparse import encode_document, tokenize
from index.store import ChunkPoint
from workers.services import Services

TENANT = "default"
BATCH = 2_048


@dataclass
class Corpus:
    source_id: str
    doc_ids: list[str]
    acls: list[tuple[str, ...]]
    texts: list[list[str]]
    """Chunk texts per document."""
    vocabulary: list[str] = field(default_factory=list)
    topics: list[list[str]] = field(default_factory=list)
    build_s: dict[str, float] = field(default_factory=dict)

    def terms(self, doc: int) -> list[frozenset[str]]:
        """Index terms of each chunk of one document: what the keyword leg can match."""
        return [frozenset(tokenize(text)) for text in self.texts[doc]]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))


def build_corpus(services: Services, *, documents: int, chunks_per_document: int,
                 acl_of: Callable[[int], Sequence[str]], seed: int = 7, topics: int = 50,
                 words_per_chunk: int = 40, say: Callable[[str], None] = print) -> Corpus:
    """Write ``documents`` × ``chunks_per_document`` points and the matching SQL rows."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    vocabulary = sorted({_word(rng) for _ in range(6_000)})[:4_000]
    topic_words = [rng.sample(vocabulary, 30) for _ in range(topics)]
    cumulative = list(itertools.accumulate(1.0 / (rank + 1)  # Zipf
                                           for rank in range(len(vocabulary))))
    dims = services.embedder.dimensions
    centroids = np_rng.normal(size=(topics, dims))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)

    started = time.perf_counter()
    with services.sessions() as session, session.begin():
        ensure_tenant(session, TENANT)
        source = Source(id=uuid.uuid4().hex, tenant_id=TENANT, name=f"synthetic-{seed}",
                        kind="push")
        session.add(source)
    corpus = Corpus(source_id=source.id, doc_ids=[], acls=[], texts=[],
                    vocabulary=vocabulary, topics=topic_words)
    writer = BulkWriter(services, say=say, label="points", report_every=20_000)
    for n in range(documents):
        topic = n % topics
        external_id = f"doc-{n}"
        doc_id = document_id(source.id, external_id)
        version = f"v1-{n}"
        acl = tuple(sorted(acl_of(n)))
        vectors = centroids[topic] + 0.7 * np_rng.normal(size=(chunks_per_document, dims)) \
            / np.sqrt(dims)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        texts, points = [], []
        for ordinal in range(chunks_per_document):
            words = rng.sample(topic_words[topic], words_per_chunk // 2) + \
                rng.choices(vocabulary, cum_weights=cumulative, k=words_per_chunk // 2)
            rng.shuffle(words)
            text = f"Document {n} part {ordinal}. " + " ".join(words) + "."
            texts.append(text)
            points.append(ChunkPoint(
                id=chunk_id(doc_id, version, ordinal), dense=vectors[ordinal].tolist(),
                sparse=encode_document(text), tenant=TENANT, source_id=source.id,
                doc_id=doc_id, external_id=external_id, content_hash=version,
                ordinal=ordinal, text=text, title=f"Document {n}", url=None,
                heading_path=(), acl_allow=frozenset(acl), acl_deny=frozenset(),
                acl_version=1))
        writer.add(points, document_row(doc_id, source_id=source.id, external_id=external_id,
                                        title=f"Document {n}", version=version, acl=acl,
                                        chunks=chunks_per_document))
        corpus.doc_ids.append(doc_id)
        corpus.acls.append(acl)
        corpus.texts.append(texts)
    writer.close()
    corpus.build_s["write"] = time.perf_counter() - started
    optimize = getattr(services.store, "optimize", None)
    if optimize is not None:  # Edge: merge segments and build HNSW, as serve does at start
        started = time.perf_counter()
        optimize()
        corpus.build_s["optimize"] = time.perf_counter() - started
    return corpus


def document_row(doc_id: str, *, source_id: str, external_id: str, title: str,
                 version: str, acl: Sequence[str], chunks: int) -> dict[str, object]:
    """The SQL row of a bulk-written document: indexed at ``version``, readable by ``acl``
    (what the SQL re-check compares each hit with)."""
    return {"id": doc_id, "tenant_id": TENANT, "source_id": source_id,
            "external_id": external_id, "title": title, "mime_type": "text/plain",
            "content_hash": version, "acl_allow": list(acl), "acl_deny": [], "acl_version": 1,
            "status": DocumentStatus.INDEXED, "needs_retry": False, "chunk_count": chunks,
            "doc_metadata": {}}


class BulkWriter:
    """Points and their documents' SQL rows written as a bulk sync writes them: points
    upserted every ``BATCH``, rows inserted together at ``close``; ``say`` reports every
    ``report_every`` points written."""

    def __init__(self, services: Services, *, say: Callable[[str], None], label: str,
                 report_every: int) -> None:
        self.services, self.say, self.label = services, say, label
        self.report_every = self.next_report = report_every
        self.points: list[ChunkPoint] = []
        self.rows: list[dict[str, object]] = []
        self.written = 0
        self.started = time.perf_counter()

    def add(self, points: Sequence[ChunkPoint], row: dict[str, object]) -> None:
        self.points.extend(points)
        self.rows.append(row)
        if len(self.points) >= BATCH:
            self._flush_points()
            if self.written >= self.next_report:
                self.next_report += self.report_every
                self.say(f"  {self.written:,} {self.label} written "
                         f"({time.perf_counter() - self.started:.0f} s)")

    def close(self) -> None:
        if self.points:
            self._flush_points()
        with self.services.sessions() as session, session.begin():
            for start in range(0, len(self.rows), 5_000):
                session.execute(insert(Document), self.rows[start:start + 5_000])

    def _flush_points(self) -> None:
        self.services.store.upsert(self.points)
        self.written += len(self.points)
        self.points = []


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "mean_ms": round(sum(ordered) / len(ordered), 2), "n": len(ordered)}
