"""Run every benchmark in turn: ``python -m bench`` (what ``make bench`` runs).

Each entry of ``BENCHMARKS`` is a module of this folder whose ``main()`` parses
``sys.argv`` (run here with no options: each benchmark's defaults), prints a table and
writes its JSON to ``bench/results/``. Add a new benchmark by adding its module
name here; tools such as ``fit_abstention`` and ``fit_injection`` (which rewrite
``answer/_calibration.py`` and ``answer/_injection_model.json``) are deliberately left out.

    python -m bench [NAME ...]     # all of them, or only the named ones, in list order
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Sequence

BENCHMARKS: tuple[str, ...] = (
    "abstention",
    "injection",
    "leaks",
    "acl_change",
    "acl_scale",
    "beir",
    "embedder",
    "ingest_speed",
    "celery_sync",
    "api_latency",
    "search_latency",
    "idf_sample",
)
"""Module names under ``bench/``, run in this order."""


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed: list[str] = []
    for name in BENCHMARKS:
        if names and name not in names:
            continue
        print(f"== bench.{name}", flush=True)
        started = time.perf_counter()
        saved, sys.argv = sys.argv, [f"python -m bench.{name}"]
        try:
            importlib.import_module(f"bench.{name}").main()
        except SystemExit as exc:  # a benchmark's own "cannot run" message
            if exc.code not in (None, 0):
                print(f"bench.{name} stopped: {exc.code}", file=sys.stderr)
                failed.append(name)
        finally:
            sys.argv = saved
        print(f"== bench.{name}: {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
