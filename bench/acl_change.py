"""How long an ACL change of a 1,000-chunk document takes, and proof it embeds nothing.

The document is ingested through the real pipeline (hashing embedder), then its ACL is
changed back and forth through ``PUT /v1/sources/{id}/documents/{ext}/acl``. The change
commits to SQL first (new acl_version, tenant epoch bumped), which puts it in force for
the next query (the SQL re-check), then rewrites the payloads of every point of the
document by filter (``set_payload``), then answers. We time the whole request and the
payload rewrite inside it, count embedding calls (must be 0), and check after each change
that the newly allowed user finds the document and the revoked one does not. Both stores.

    python -m bench.acl_change [--chunks 1000] [--repeats 10]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from api.app import create_app
from bench._data import write_result
from core import Entitlements, Hit, Settings
from index.embed import HashingEmbedder
from index.store import SearchFilters, StoreQuery, VectorStore
from workers.services import build_services

ADMIN_KEY = "ck_bench_acl_change_admin"
ANN, BOB = "ann@bench.test", "bob@bench.test"
console = Console()


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts = 0
        self.queries = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts += len(texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return super().embed_query(text)


class TimedStore:
    """Times each ``set_acl`` (the payload rewrite) of the store it wraps."""

    def __init__(self, inner: VectorStore) -> None:
        self.inner = inner
        self.set_acl_ms: list[float] = []

    def set_acl(self, **kwargs: Any) -> None:
        started = time.perf_counter()
        self.inner.set_acl(**kwargs)
        self.set_acl_ms.append((time.perf_counter() - started) * 1000)

    def search(self, query: StoreQuery, *, entitlements: Entitlements,
               filters: SearchFilters | None = None, top_k: int = 10) -> list[Hit]:
        return self.inner.search(query, entitlements=entitlements, filters=filters,
                                 top_k=top_k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _document(chunks: int) -> str:
    """``chunks`` paragraphs of ~180 tokens each: one chunk apiece at 256 tokens."""
    words = ["travel", "expense", "policy", "receipts", "approval", "manager", "budget",
             "office", "lease", "quarter", "review", "contract", "vendor", "invoice",
             "payment", "schedule", "audit"]
    paragraphs = []
    for n in range(chunks):
        body = " ".join(words[(n + i) % len(words)] for i in range(170))
        paragraphs.append(f"Section {n} code PX{n:05d}. {body}.")
    return "\n\n".join(paragraphs)


@contextmanager
def _app(data_dir: Path, store_kind: str) -> Iterator[tuple[TestClient, CountingEmbedder,
                                                             TimedStore]]:
    overrides: dict[str, Any] = {"qdrant_url": ":memory:"} if store_kind == "server" else {}
    settings = Settings(data_dir=data_dir, embedder="hashing", environment="test",
                        admin_api_key=SecretStr(ADMIN_KEY), wait_timeout_s=600, **overrides)
    embedder = CountingEmbedder()
    services = build_services(settings, embedder=embedder)
    store = TimedStore(services.store)
    services.store = store
    try:
        with TestClient(create_app(settings, services=services)) as client:
            yield client, embedder, store
    finally:
        services.close()


def run(store_kind: str, *, chunks: int, repeats: int) -> dict[str, Any]:
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as where, \
            _app(Path(where), store_kind) as (client, embedder, store):
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        source = client.post("/v1/sources", json={"name": "wiki", "kind": "push"},
                             headers=headers).json()["id"]
        path = f"/v1/sources/{source}/documents/handbook"
        started = time.perf_counter()
        put = client.put(path, params={"wait": "true"}, headers=headers, json={
            "title": "Handbook", "text": _document(chunks), "acl": {"allow": [f"user:{ANN}"]}})
        ingest_s = time.perf_counter() - started
        if put.status_code != 200:
            raise SystemExit(f"ingest failed: {put.status_code} {put.text[:300]}")
        indexed = put.json()["chunks"]
        embedded_at_ingest = embedder.texts

        def finds(user: str) -> bool:
            response = client.post("/v1/search", json={"query": "PX00042 travel policy"},
                                   headers={**headers, "X-On-Behalf-Of": user})
            return any(h["external_id"] == "handbook" for h in response.json()["hits"])

        request_ms, correct = [], 0
        for n in range(repeats):
            reader, revoked = (BOB, ANN) if n % 2 == 0 else (ANN, BOB)
            started = time.perf_counter()
            changed = client.put(path + "/acl", headers=headers,
                                 json={"allow": [f"user:{reader}"], "deny": []})
            request_ms.append((time.perf_counter() - started) * 1000)
            if changed.status_code != 200:
                raise SystemExit(f"ACL change failed: {changed.text[:300]}")
            correct += finds(reader) and not finds(revoked)
        return {
            "store": store_kind, "chunks": indexed, "ingest_s": round(ingest_s, 2),
            "acl_change_request_ms": {"p50": round(statistics.median(request_ms), 1),
                                      "max": round(max(request_ms), 1)},
            "payload_rewrite_ms": {"p50": round(statistics.median(store.set_acl_ms), 1),
                                   "max": round(max(store.set_acl_ms), 1)},
            "changes": repeats, "correct_after_change": f"{correct}/{repeats}",
            "embedded_texts_at_ingest": embedded_at_ingest,
            "embedding_calls_during_acl_changes": embedder.texts - embedded_at_ingest,
        }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.acl_change", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--stores", default="edge,server")
    parser.add_argument("--out", default="acl_change")
    args = parser.parse_args(argv)
    logging.getLogger("clearance.index_lag").setLevel(logging.WARNING)
    rows = [run(kind, chunks=args.chunks, repeats=args.repeats)
            for kind in args.stores.split(",")]
    table = Table(title="ACL change of one large document (SQL first, then payloads by filter)")
    for column in ("store", "chunks", "request p50 ms", "payload rewrite p50 ms",
                   "correct next query", "embedding calls"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["store"], str(row["chunks"]), str(row["acl_change_request_ms"]["p50"]),
                      str(row["payload_rewrite_ms"]["p50"]), row["correct_after_change"],
                      str(row["embedding_calls_during_acl_changes"]))
    console.print(table)
    console.print("server = the Qdrant server code path on qdrant-client's in-process "
                  "':memory:' mode (a Python scan), not a real server.")
    console.print(f"wrote {write_result(args.out, {'runs': rows})}")


if __name__ == "__main__":
    main()
