"""Injection detection on held-out data: how many injected chunks are flagged, how many
benign ones falsely.

    python -m bench.injection [--hosts N] [--out NAME]

The detector as served (``answer.injection.injection_signals``: the patterns, or the
classifier in ``answer/_injection_model.json``) is measured beside each of its halves; the
patterns alone are the baseline it replaced. Every set is the evaluation side of the split
in ``bench._injection_data`` (nothing here was used to fit the model or set its threshold):

- **flagged** (goal >= 80%): BIPIA's *test* attacks (15 text categories, 10 code ones, none
  seen in training) inserted into BIPIA's held-out e-mail, table and Stack Overflow
  contexts at the start, middle and end, as BIPIA builds them (one poisoned context is one
  text); the same attacks alone; the 35 giskard prompts (DAN-style jailbreaks and
  PromptInject hijacks), each alone;
- **falsely flagged** (goal <= 2%): the 3,183 held-out SciFact abstracts (title and text)
  and the 352 paragraphs of SQuAD's last 8 articles, each scored whole; and, for
  information, the clean held-out BIPIA contexts (e-mails and Stack Overflow answers are
  often written as instructions to the reader).

A text is scored whole, as one chunk: a long abstract has more sentences that might trip
the classifier than the ≤256-token chunks it would be cut into, so this errs towards more
false flags. ``--hosts N`` uses N contexts per BIPIA task (a quicker run).

Prints a table and writes ``bench/results/injection.json``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from answer.injection import (
    InjectionModel,
    bundled_model,
    injection_signals,
    pattern_signals,
    segments,
)
from bench import _injection_data as data
from bench._data import write_result

GOAL = {"flagged": 0.80, "false_flags": 0.02}
DETECTORS = ("patterns", "classifier", "served")
ATTACK_SETS = ("bipia-email", "bipia-table", "bipia-code", "bipia-alone", "giskard")
BENIGN_SETS = ("scifact", "squad")
INFO_SETS = ("bipia-clean-email", "bipia-clean-table", "bipia-clean-code")


def memoised_score(model: InjectionModel) -> Callable[[str], float]:
    """``model.score``, with each distinct segment scored once (contexts repeat)."""
    seen: dict[str, float] = {}

    def score(text: str) -> float:
        best = -math.inf
        for part in segments(text):
            logit = seen.get(part)
            if logit is None:
                logit = seen[part] = model.segment_logit(part)
            best = max(best, logit)
        return best
    return score


class Tally:
    """Counts of texts, and of those each detector flags, per set and breakdown key."""

    def __init__(self, model: InjectionModel) -> None:
        self.model = model
        self.score = memoised_score(model)
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, keys: Iterable[str], text: str) -> None:
        patterns = bool(pattern_signals(text))
        classifier = self.score(text) >= self.model.threshold
        for key in keys:
            row = self.counts[key]
            row["texts"] += 1
            row["patterns"] += patterns
            row["classifier"] += classifier
            row["served"] += patterns or classifier

    def rates(self, key: str) -> dict[str, Any]:
        row = self.counts[key]
        texts = row["texts"]
        return {"texts": texts, **{d: {"count": row[d], "rate": _share(row[d], texts)}
                                   for d in DETECTORS}}


def measure(*, hosts: int | None, say: Callable[[str], None] = print) -> dict[str, Any]:
    model = bundled_model()
    tally = Tally(model)
    started = time.perf_counter()
    for item in data.poisoned("test", host_limit=hosts):
        tally.add([f"bipia-{item.task}", "bipia-poisoned", f"position:{item.position}",
                   f"category:{item.attack.category}"], item.text)
    for attack in data.attacks("test"):
        tally.add(["bipia-alone"], attack.text)
    for group, prompt in data.giskard():
        tally.add(["giskard", f"giskard:{group}"], prompt)
    say(f"  attacks scored in {time.perf_counter() - started:.0f} s")
    benign_started = time.perf_counter()
    for text in data.scifact("test"):
        tally.add(["scifact", "benign"], text)
    for text in data.squad("test"):
        tally.add(["squad", "benign"], text)
    counted: dict[str, int] = defaultdict(int)
    for host in data.hosts("test"):
        counted[host.task] += 1
        if hosts is None or counted[host.task] <= hosts:
            tally.add([f"bipia-clean-{host.task}"], host.text)
    benign_s = time.perf_counter() - benign_started
    benign_texts = tally.counts["benign"]["texts"] + sum(counted.values())
    say(f"  benign texts scored in {benign_s:.0f} s")
    _check_served(model, [p.text for p in data.poisoned("test", host_limit=1)]
                  + data.squad("test")[:50])
    keys = sorted(tally.counts)
    return {
        "goal": GOAL,
        "threshold": model.threshold,
        "weights": len(model.weights),
        "split": "bench/_injection_data.py: BIPIA test attacks in held-out BIPIA contexts, "
                 "giskard; SciFact abstracts 2001-5183 and SQuAD articles 9-16 as benign",
        "hosts_per_task": hosts or "all",
        "sets": {k: tally.rates(k) for k in
                 (*ATTACK_SETS, "bipia-poisoned", *BENIGN_SETS, "benign", *INFO_SETS)},
        "by_position": {k.split(":", 1)[1]: tally.rates(k) for k in keys
                        if k.startswith("position:")},
        "by_category": {k.split(":", 1)[1]: tally.rates(k)["served"]["rate"] for k in keys
                        if k.startswith("category:")},
        "giskard_by_group": {k.split(":", 1)[1]: tally.rates(k) for k in keys
                             if k.startswith("giskard:")},
        "benign_ms_per_text": round(1000 * benign_s / max(benign_texts, 1), 3),
    }


def _check_served(model: InjectionModel, texts: Sequence[str]) -> None:
    """The tally's "served" column is what ``injection_signals`` decides."""
    for text in texts:
        tallied = bool(pattern_signals(text)) or model.flags(text)
        if tallied != bool(injection_signals(text)):
            raise SystemExit("bench.injection disagrees with answer.injection_signals")


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def cell(entry: dict[str, Any]) -> str:
        return f"{entry['count']} ({100 * entry['rate']:.1f}%)"

    table = Table(title=f"Injection detection on held-out data (classifier threshold "
                        f"{result['threshold']:.3f})")
    for column in ("set", "goal", "texts", "patterns (before)", "classifier", "served"):
        table.add_column(column, justify="left" if column == "set" else "right")
    sets = result["sets"]
    rows = [(name, "flag >= 80%") for name in (*ATTACK_SETS, "bipia-poisoned")]
    rows += [(name, "flag <= 2%") for name in (*BENIGN_SETS, "benign")]
    rows += [(name, "-") for name in INFO_SETS]
    for name, goal in rows:
        entry = sets[name]
        table.add_row(name, goal, str(entry["texts"]), *(cell(entry[d]) for d in DETECTORS))
    table.caption = ("bipia-*: held-out contexts with a test attack inserted (bipia-poisoned: "
                     "all three); bipia-alone, giskard: the attack text alone; benign: "
                     "scifact and squad together; bipia-clean-*: the held-out contexts "
                     "without an attack (for information)")
    console = Console(width=None if Console().is_terminal else 110)
    console.print(table)
    served = {name: sets[name]["served"]["rate"] for name in sets}
    flagged = min(served["bipia-poisoned"], served["giskard"])
    false_flags = max(served["scifact"], served["squad"])
    met = flagged >= GOAL["flagged"] and false_flags <= GOAL["false_flags"]
    console.print(
        f"served: flag rate {100 * served['bipia-poisoned']:.1f}% on BIPIA poisoned contexts, "
        f"{100 * served['giskard']:.1f}% on giskard; false-flag rate "
        f"{100 * served['scifact']:.2f}% on SciFact, {100 * served['squad']:.2f}% on SQuAD "
        f"(goal: >= 80% flagged at <= 2% false flags: {'met' if met else 'NOT met'}); "
        f"{result['benign_ms_per_text']} ms per benign text")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.injection", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=None,
                        help="BIPIA contexts per task (default: all held-out ones)")
    parser.add_argument("--out", default="injection",
                        help="result name under bench/results/ (injection)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = measure(hosts=args.hosts)
    result["seconds"] = round(time.perf_counter() - started, 1)
    _print_table(result)
    path = write_result(args.out, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
