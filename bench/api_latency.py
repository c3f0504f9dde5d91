"""/v1/search and /v1/answer latency over loopback, with SciFact indexed through the API.

Starts `clearance serve` on a throwaway data dir, pushes the corpus (queued, batched by the
server), then asks one at a time: the SciFact test claims through /v1/search, the same
claims through /v1/answer, and other claims (train), search and answer alternating, since a
search that follows an answer finds the CPU caches full of the answer's sentence embedding.
Prints p50/p95/p99 per route and pass.

    python -m bench.api_latency [--limit-docs N] [--queries 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench._data import dataset_dir, write_result
from bench._server import ADMIN_KEY, start_server
from bench._synthetic import percentiles

USER = "reader@bench.test"
ROUTES = ("search", "answer", "search, alternating", "answer, alternating")
"""The passes: each route on its own over the test claims, then both in turn over others."""


def _asked(client: httpx.Client, route: str, query: str) -> float:
    """Milliseconds for one question to ``/v1/<route>``, as the bench user."""
    started = time.perf_counter()
    response = client.post(f"/v1/{route}", json={"query": query},
                           headers={"X-On-Behalf-Of": USER})
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit-docs", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default bench/results/api_latency.json)")
    args = parser.parse_args(argv)
    data = dataset_dir("scifact")
    tested = {line.split("\t")[0] for line in (data / "qrels" / "test.tsv").open()}
    every = [json.loads(line) for line in (data / "queries.jsonl").open()]
    claims = [q["text"] for q in every if q["_id"] in tested][: args.queries]
    others = [q["text"] for q in every if q["_id"] not in tested][: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(args.port, {"CLEARANCE_DATA_DIR": tmp}, wait_s=120)
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
            timings: dict[str, list[float]] = {route: [] for route in ROUTES}
            for route in ("search", "answer"):
                timings[route] = [_asked(client, route, query) for query in claims]
            for query in others:  # other claims: the answers above are cached
                timings["search, alternating"].append(_asked(client, "search", query))
                timings["answer, alternating"].append(_asked(client, "answer", query))
            ready = client.get("/v1/ready").json()
        finally:
            server.terminate()
            server.wait(timeout=60)
    result = {"documents_pushed": pushed, "documents_by_status": counts, "chunks": chunks,
              "index_seconds": round(index_s, 1), "embedder": ready["checks"]["embedder"],
              **{route: percentiles(timings[route]) for route in ROUTES}}
    table = Table(title=f"v1 latency, single client, loopback ({pushed} SciFact docs)")
    for column in ("route", "p50 ms", "p95 ms", "p99 ms", "mean ms", "n"):
        table.add_column(column, justify="right")
    for route in ROUTES:
        r = result[route]
        table.add_row(route, *(str(r[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "n")))
    Console().print(table)
    Console().print(f"indexed through the API in {result['index_seconds']} s: {counts}, "
                    f"{chunks} chunks")
    write_result("api_latency", result, args.out)


if __name__ == "__main__":
    main()
