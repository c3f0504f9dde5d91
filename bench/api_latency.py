"""/v1/search and /v1/answer latency over loopback, with SciFact indexed through the API.

Starts `clearance serve` on a throwaway data dir, pushes the corpus (queued, batched by the
server), asks the SciFact test claims one at a time, and prints p50/p95/p99.

    python -m bench.api_latency [--limit-docs N] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench._data import dataset_dir, write_result

ADMIN_KEY = "bench-admin-key"
USER = "reader@bench.test"


def _start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLEARANCE_DATA_DIR": str(data_dir),
           "CLEARANCE_ADMIN_API_KEY": ADMIN_KEY, "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    _, stderr = server.communicate()
    raise SystemExit("the server did not become ready: " + stderr.decode()[-2000:])


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)
    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "mean_ms": round(statistics.fmean(ordered), 1), "n": len(ordered)}


def _push_corpus(client: httpx.Client, source: str, corpus: Path, limit: int | None) -> int:
    count = 0
    with corpus.open() as lines:
        for line in lines:
            doc = json.loads(line)
            body = {"title": doc["title"], "text": doc["text"],
                    "acl": {"allow": ["everyone"], "deny": []}}
            response = client.put(f"/v1/sources/{source}/documents/{doc['_id']}", json=body)
            response.raise_for_status()
            count += 1
            if limit and count >= limit:
                break
    return count


def _wait_indexed(client: httpx.Client, source: str) -> dict[str, int]:
    while True:
        counts = client.get(f"/v1/sources/{source}").json()["documents"]
        if not counts.get("queued") and not counts.get("indexing"):
            return dict(counts)
        time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit-docs", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    data = dataset_dir("scifact")
    queries = [json.loads(line)["text"] for line in (data / "queries.jsonl").open()]
    with tempfile.TemporaryDirectory() as tmp:
        server = _start_server(Path(tmp), args.port)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=600,
                                  headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            source = client.post("/v1/sources", json={"name": "scifact", "kind": "push"}
                                 ).json()["id"]
            started = time.perf_counter()
            pushed = _push_corpus(client, source, data / "corpus.jsonl", args.limit_docs)
            counts = _wait_indexed(client, source)
            index_s = time.perf_counter() - started
            chunks = client.get(f"/v1/sources/{source}").json()["chunks"]
            ask = {"X-On-Behalf-Of": USER}
            timings: dict[str, list[float]] = {"search": [], "answer": []}
            for query in queries[: args.queries]:
                for route in ("search", "answer"):
                    t0 = time.perf_counter()
                    response = client.post(f"/v1/{route}", json={"query": query}, headers=ask)
                    timings[route].append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
            ready = client.get("/v1/ready").json()
        finally:
            server.terminate()
            server.wait(timeout=60)
    result = {"documents_pushed": pushed, "documents_by_status": counts, "chunks": chunks,
              "index_seconds": round(index_s, 1), "embedder": ready["checks"]["embedder"],
              "search": _percentiles(timings["search"]),
              "answer": _percentiles(timings["answer"])}
    table = Table(title=f"v1 latency, single client, loopback ({pushed} SciFact docs)")
    for column in ("route", "p50 ms", "p95 ms", "p99 ms", "mean ms", "n"):
        table.add_column(column, justify="right")
    for route in ("search", "answer"):
        r = result[route]
        table.add_row(route, *(str(r[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "n")))
    Console().print(table)
    Console().print(f"indexed through the API in {result['index_seconds']} s: {counts}, "
                    f"{chunks} chunks")
    write_result("api_latency", result)


if __name__ == "__main__":
    main()
