"""The long leak campaign: the property-based leak suite (tests/leaks) run on many more,
larger random worlds, on both stores, counting checks and leaks instead of stopping.

Every check is one response through the HTTP API: a search (its hits must be exactly the
documents the caller may see, so counts cannot leak), an answer (text, citations, quotes),
the caller's own history, or an error for another tenant's source. A leak is anything of a
document the caller may not read in any of them; "wrong" counts disagreements with the
model that are not leaks (a grant not in force, an unexpected status).

    python -m bench.leaks [--checks 10000] [--stores edge,server] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from rich.console import Console
from rich.table import Table

from bench._data import write_result
from tests.leaks.harness import LeakHarness, leak_harness
from tests.leaks.world import World, worlds

console = Console()
BATCH = 20
"""Worlds per hypothesis run; runs repeat with new seeds until the checks are done."""


def campaign(kind: str, *, checks: int, first_seed: int, max_docs: int,
             min_steps: int, max_steps: int) -> dict[str, Any]:
    """Run worlds on one store until ``checks`` search+answer checks were made."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, \
            leak_harness(kind, Path(scratch), strict=False) as harness:
        run = 0
        while _query_checks(harness) < checks:
            _run_batch(harness, seed_value=first_seed + run, max_docs=max_docs,
                       min_steps=min_steps, max_steps=max_steps)
            run += 1
            console.print(f"  {kind}: {harness.worlds} worlds, "
                          f"{_query_checks(harness):,} query checks, "
                          f"{len(harness.leaks)} leaks", highlight=False)
        return {
            "store": kind, "worlds": harness.worlds, "checks": dict(harness.checks),
            "query_checks": _query_checks(harness), "all_checks": harness.query_checks,
            "leaks": len(harness.leaks), "wrong_state": len(harness.wrong),
            "leak_examples": harness.leaks[:5], "wrong_examples": harness.wrong[:5],
            "seconds": round(time.perf_counter() - started, 1),
        }


def _query_checks(harness: LeakHarness) -> int:
    return harness.checks["search"] + harness.checks["answer"]


def _run_batch(harness: LeakHarness, *, seed_value: int, max_docs: int,
               min_steps: int, max_steps: int) -> None:
    @seed(seed_value)
    @settings(max_examples=BATCH, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(world=worlds(max_docs=max_docs, min_steps=min_steps, max_steps=max_steps))
    def check(world: World) -> None:
        harness.run(world)

    check()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.leaks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=10_000,
                        help="search + answer checks, in all (split over the stores)")
    parser.add_argument("--stores", default="edge,server")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-docs", type=int, default=6)
    parser.add_argument("--min-steps", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=32)
    parser.add_argument("--out", default="leaks")
    args = parser.parse_args(argv)
    for name in ("workers.pipeline", "workers.repair", "clearance.index_lag"):
        logging.getLogger(name).setLevel(logging.ERROR)  # injected store failures
    kinds = args.stores.split(",")
    share = -(-args.checks // len(kinds))
    runs = [campaign(kind, checks=share, first_seed=args.seed, max_docs=args.max_docs,
                     min_steps=args.min_steps, max_steps=args.max_steps) for kind in kinds]

    table = Table(title="Leak campaign: random worlds through the HTTP API")
    for column in ("store", "worlds", "search", "answer", "history", "error", "leaks",
                   "wrong state", "s"):
        table.add_column(column)
    for r in runs:
        c = r["checks"]
        table.add_row(r["store"], str(r["worlds"]), f"{c.get('search', 0):,}",
                      f"{c.get('answer', 0):,}", f"{c.get('history', 0):,}",
                      f"{c.get('error', 0):,}", str(r["leaks"]), str(r["wrong_state"]),
                      str(r["seconds"]))
    console.print(table)
    total = sum(r["query_checks"] for r in runs)
    leaks = sum(r["leaks"] for r in runs)
    console.print(f"query checks (search + answer): {total:,}; all checks: "
                  f"{sum(r['all_checks'] for r in runs):,}; leaks: {leaks}")
    for r in runs:
        for example in r["leak_examples"] + r["wrong_examples"]:
            console.print(f"  {r['store']}: {example}", highlight=False)
    path = write_result(args.out, {"runs": runs, "query_checks": total, "leaks": leaks,
                                   "wrong_state": sum(r["wrong_state"] for r in runs)})
    console.print(f"wrote {path}")
    if leaks:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
