"""Permissions at scale, through ``POST /v1/search`` on the Edge store.

1. Selective filters stay full: a caller who may read 1% of a 100k-chunk corpus still gets
   ``top_k`` hits (all readable) whenever that many readable documents match, in about the
   time an unrestricted caller's search takes (target: within 2×).
2. Entitlements at scale: a user in 2,000 groups (400 chains nested five deep) gets exactly
   the results of a user in 5 groups who may read the same documents, and we compare the
   two users' latencies (and the uncached resolution of their entitlements).

The index is built in bulk without the embedder (bench/_synthetic.py): generated text, our
BM25 vectors, jittered unit vectors, matching SQL rows. Queries use the hashing embedder.

    python -m bench.acl_scale [--documents 20000] [--chunks 5] [--queries 200]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from acl import bump_acl_epoch, ensure_tenant, entitlements_for
from api.app import create_app
from bench._data import write_result
from bench._synthetic import TENANT, Corpus, build_corpus, percentiles
from core import Entitlements, Settings
from core.models import Group, Membership
from index.embed import HashingEmbedder
from index.sparse import tokenize
from retrieval import Retriever
from workers.services import Services, build_services

ADMIN_KEY = "ck_bench_acl_scale_admin"
TOP_K = 10
console = Console()


@contextmanager
def _app(data_dir: Path) -> Iterator[tuple[Services, TestClient]]:
    settings = Settings(data_dir=data_dir, embedder="hashing", environment="test",
                        admin_api_key=SecretStr(ADMIN_KEY))
    services = build_services(settings, embedder=HashingEmbedder())
    try:
        with TestClient(create_app(settings, services=services)) as client:
            yield services, client
    finally:
        services.close()


@contextmanager
def _scratch() -> Iterator[Path]:
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="clearance-bench-",
                                     dir=shm if shm.is_dir() else None) as where:
        yield Path(where)


def _search(client: TestClient, user: str, query: str, top_k: int = TOP_K,
            ) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    response = client.post("/v1/search", json={"query": query, "top_k": top_k},
                           headers={"Authorization": f"Bearer {ADMIN_KEY}",
                                    "X-On-Behalf-Of": user})
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"/v1/search failed: {response.status_code} {response.text[:300]}")
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits, elapsed_ms


def _memberships(services: Services, edges: Sequence[tuple[str, str]]) -> None:
    """Groups and memberships written in bulk (``put_group`` checks each one; here the
    shape is known acyclic), with the epoch bumped as any permission change does."""
    groups = sorted({g for g, _ in edges})
    with services.sessions() as session, session.begin():
        ensure_tenant(session, TENANT)
        session.execute(insert(Group), [{"tenant_id": TENANT, "id": g} for g in groups])
        session.execute(insert(Membership), [
            {"tenant_id": TENANT, "group_id": g, "member_id": m} for g, m in edges])
        bump_acl_epoch(session, TENANT)


def _queries(corpus: Corpus, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    common = corpus.vocabulary[:300]
    return [f"{rng.choice(rng.choice(corpus.topics))} {rng.choice(common)}"
            for _ in range(count)]


# -- 1. selective filters --------------------------------------------------------------

FEW, ALL = "user:few@bench.test", "user:all@bench.test"


def selective(*, documents: int, chunks: int, queries: int, say: Callable[[str], None],
              ) -> dict[str, Any]:
    readable = {n for n in range(documents) if n % 100 == 0}  # 1%
    with _scratch() as where, _app(where) as (services, client):
        say(f"building {documents * chunks:,} chunks ({documents:,} documents)…")
        corpus = build_corpus(
            services, documents=documents, chunks_per_document=chunks, say=say,
            acl_of=lambda n: ["group:one-percent"] if n in readable else ["group:the-rest"])
        _memberships(services, [("group:one-percent", FEW), ("group:one-percent", ALL),
                                ("group:the-rest", ALL)])
        say(f"built in {sum(corpus.build_s.values()):.0f} s {corpus.build_s}")
        readable_ids = {corpus.doc_ids[n] for n in readable}
        readable_terms = {n: set().union(*corpus.terms(n)) for n in readable}
        asked = _queries(corpus, queries, seed=11)
        for query in asked[:10]:  # warm up both paths
            _search(client, FEW, query)
            _search(client, ALL, query)

        latency: dict[str, list[float]] = {"few": [], "all": []}
        full = leaked = 0
        for query in asked:
            hits, ms = _search(client, FEW, query)
            latency["few"].append(ms)
            leaked += sum(1 for h in hits if h["doc_id"] not in readable_ids)
            full += len(hits) == min(TOP_K, len(readable))
            _hits, ms = _search(client, ALL, query)
            latency["all"].append(ms)

        # The retriever alone, per leg: is the keyword leg full whenever enough readable
        # documents share a query term, and does any search need a second round?
        retriever = Retriever(store=services.store, embedder=services.embedder,
                              sessions=services.sessions)
        few = _entitlements(services, FEW)
        everyone = _entitlements(services, ALL)
        modes: dict[str, Any] = {}
        modes_run: tuple[Literal["hybrid", "dense", "keyword"], ...] = (
            "hybrid", "dense", "keyword")
        for mode in modes_run:
            samples: dict[str, list[float]] = {"few": [], "all": []}
            rounds, keyword_full, keyword_cases = [], 0, 0
            for query in asked:
                for who, ents in (("few", few), ("all", everyone)):
                    started = time.perf_counter()
                    result = retriever.search(query, entitlements=ents, top_k=TOP_K,
                                              mode=mode)
                    samples[who].append((time.perf_counter() - started) * 1000)
                    if who == "few":
                        rounds.append(result.timings.rounds)
                        leaked += sum(1 for h in result.hits if h.doc_id not in readable_ids)
                        if mode == "keyword":
                            terms = set(tokenize(query))
                            matching = sum(1 for t in readable_terms.values() if t & terms)
                            keyword_cases += 1
                            keyword_full += len(result.hits) == min(TOP_K, matching)
            modes[mode] = {
                "few": percentiles(samples["few"]), "all": percentiles(samples["all"]),
                "ratio_p50": round(percentiles(samples["few"])["p50_ms"]
                                   / percentiles(samples["all"])["p50_ms"], 2),
                "mean_rounds_few": round(statistics.fmean(rounds), 3),
                "max_rounds_few": max(rounds),
            }
            if mode == "keyword":
                modes[mode]["full_when_enough_match"] = f"{keyword_full}/{keyword_cases}"
        api = {"few": percentiles(latency["few"]), "all": percentiles(latency["all"])}
        return {
            "chunks": documents * chunks, "documents": documents,
            "readable_share": len(readable) / documents, "readable_chunks": len(readable) * chunks,
            "top_k": TOP_K, "queries": len(asked), "build_s": corpus.build_s,
            "api_search": api,
            "api_ratio_p50": round(api["few"]["p50_ms"] / api["all"]["p50_ms"], 2),
            "api_full": f"{full}/{len(asked)}", "leaked_hits": leaked,
            "retriever": modes,
        }


def _entitlements(services: Services, user: str) -> Entitlements:
    with services.sessions() as session:
        return entitlements_for(session, tenant=TENANT, user_id=user)


# -- 2. a user in 2,000 groups ---------------------------------------------------------

WIDE, NARROW, OUTSIDER = ("user:wide@bench.test", "user:narrow@bench.test",
                          "user:outsider@bench.test")
CHAINS, DEPTH = 400, 5


def many_groups(*, documents: int, chunks: int, queries: int, say: Callable[[str], None],
                ) -> dict[str, Any]:
    rng = random.Random(5)
    wide_groups = [f"group:l{level}-{chain}" for chain in range(CHAINS)
                   for level in range(1, DEPTH + 1)]
    narrow_groups = [f"group:n{level}" for level in range(1, DEPTH + 1)]
    edges = [(f"group:l1-{c}", WIDE) for c in range(CHAINS)]
    edges += [(f"group:l{lv + 1}-{c}", f"group:l{lv}-{c}")
              for c in range(CHAINS) for lv in range(1, DEPTH)]
    edges += [("group:n1", NARROW)] + [(f"group:n{lv + 1}", f"group:n{lv}")
                                       for lv in range(1, DEPTH)]
    edges += [(f"group:o{j}", OUTSIDER) for j in range(CHAINS)]

    def acl_of(n: int) -> list[str]:  # even documents: wide and narrow; odd: the outsider
        if n % 2 == 0:
            return [rng.choice(wide_groups), rng.choice(narrow_groups)]
        return [f"group:o{rng.randrange(CHAINS)}"]

    with _scratch() as where, _app(where) as (services, client):
        say(f"building {documents * chunks:,} chunks and {len(wide_groups) + 5 + CHAINS:,} "
            "groups…")
        corpus = build_corpus(services, documents=documents, chunks_per_document=chunks,
                              acl_of=acl_of, seed=13, say=say)
        _memberships(services, edges)
        held = {who: len(_entitlements(services, who).principals) - 2
                for who in (WIDE, NARROW)}
        resolve: dict[str, list[float]] = {WIDE: [], NARROW: []}
        for _ in range(30):
            for who in (WIDE, NARROW):
                started = time.perf_counter()
                _entitlements(services, who)
                resolve[who].append((time.perf_counter() - started) * 1000)
        asked = _queries(corpus, queries, seed=17)
        for query in asked[:10]:
            _search(client, WIDE, query)
            _search(client, NARROW, query)
        even = {corpus.doc_ids[n] for n in range(0, documents, 2)}
        latency: dict[str, list[float]] = {WIDE: [], NARROW: []}
        same = wrong = full = 0
        for query in asked:
            wide, ms = _search(client, WIDE, query)
            latency[WIDE].append(ms)
            narrow, ms = _search(client, NARROW, query)
            latency[NARROW].append(ms)
            outsider, _ms = _search(client, OUTSIDER, query)
            same += _same_ranking(wide, narrow)
            full += len(wide) == TOP_K
            wrong += sum(1 for h in wide + narrow if h["doc_id"] not in even)
            wrong += sum(1 for h in outsider if h["doc_id"] in even)
        return {
            "chunks": documents * chunks, "groups_held": held, "nesting_depth": DEPTH,
            "queries": len(asked), "build_s": corpus.build_s,
            "api_search": {"2000_groups": percentiles(latency[WIDE]),
                           "5_groups": percentiles(latency[NARROW])},
            "api_ratio_p50": round(percentiles(latency[WIDE])["p50_ms"]
                                   / percentiles(latency[NARROW])["p50_ms"], 2),
            "resolve_uncached": {"2000_groups": percentiles(resolve[WIDE]),
                                 "5_groups": percentiles(resolve[NARROW])},
            "identical_results": f"{same}/{len(asked)}", "full": f"{full}/{len(asked)}",
            "wrong_hits": wrong,
        }


def _same_ranking(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """The same scores in the same order, and the same documents at every score but the
    lowest (equal RRF scores may come back in either order, and the cut may split them)."""
    if [round(h["score"], 9) for h in a] != [round(h["score"], 9) for h in b]:
        return False
    lowest = round(a[-1]["score"], 9) if a else None

    def by_score(hits: list[dict[str, Any]]) -> set[tuple[float, str]]:
        return {(round(h["score"], 9), h["doc_id"]) for h in hits
                if round(h["score"], 9) != lowest}

    return by_score(a) == by_score(b)


# -- report -----------------------------------------------------------------------------

def _print(result: dict[str, Any]) -> None:
    if "selective" in result:
        sel = result["selective"]
        table = Table(title=f"1% selectivity, {sel['chunks']:,} chunks, top_k={sel['top_k']} "
                            f"(build {sum(sel['build_s'].values()):.0f} s)")
        for column in ("path", "caller", "p50 ms", "p95 ms", "full", "rounds (mean/max)"):
            table.add_column(column)
        api = sel["api_search"]
        table.add_row("/v1/search", "reads 1%", str(api["few"]["p50_ms"]),
                      str(api["few"]["p95_ms"]), sel["api_full"], "")
        table.add_row("/v1/search", "reads 100%", str(api["all"]["p50_ms"]),
                      str(api["all"]["p95_ms"]), "", "")
        for mode, row in sel["retriever"].items():
            table.add_row(f"retriever {mode}", "reads 1%", str(row["few"]["p50_ms"]),
                          str(row["few"]["p95_ms"]), row.get("full_when_enough_match", ""),
                          f"{row['mean_rounds_few']}/{row['max_rounds_few']}")
            table.add_row(f"retriever {mode}", "reads 100%", str(row["all"]["p50_ms"]),
                          str(row["all"]["p95_ms"]), "", "")
        console.print(table)
        console.print(f"1% vs 100% p50 through the API: ×{sel['api_ratio_p50']} "
                      f"(target ≤ 2); hits outside the caller's 1%: {sel['leaked_hits']}")
    if "groups" in result:
        grp = result["groups"]
        table = Table(title=f"User in {grp['groups_held'][WIDE]:,} groups vs "
                            f"{grp['groups_held'][NARROW]} groups, {grp['chunks']:,} chunks")
        for column in ("measure", "2,000 groups", "5 groups"):
            table.add_column(column)
        api, res = grp["api_search"], grp["resolve_uncached"]
        table.add_row("/v1/search p50 ms", str(api["2000_groups"]["p50_ms"]),
                      str(api["5_groups"]["p50_ms"]))
        table.add_row("/v1/search p95 ms", str(api["2000_groups"]["p95_ms"]),
                      str(api["5_groups"]["p95_ms"]))
        table.add_row("entitlements, uncached, p50 ms", str(res["2000_groups"]["p50_ms"]),
                      str(res["5_groups"]["p50_ms"]))
        console.print(table)
        console.print(f"same ranking (ties aside): {grp['identical_results']}, "
                      f"full: {grp['full']}, "
                      f"wrong hits: {grp['wrong_hits']}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.acl_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--chunks", type=int, default=5, help="chunks per document")
    parser.add_argument("--group-documents", type=int, default=4_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--only", choices=("selective", "groups"))
    parser.add_argument("--out", default="acl_scale")
    args = parser.parse_args(argv)
    logging.getLogger("clearance.index_lag").setLevel(logging.WARNING)
    result: dict[str, Any] = {}
    if args.only in (None, "selective"):
        result["selective"] = selective(documents=args.documents, chunks=args.chunks,
                                        queries=args.queries, say=console.print)
    if args.only in (None, "groups"):
        result["groups"] = many_groups(documents=args.group_documents, chunks=args.chunks,
                                       queries=args.queries, say=console.print)
    _print(result)
    console.print(f"wrote {write_result(args.out, result)}")


if __name__ == "__main__":
    main()
