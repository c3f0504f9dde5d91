"""The latency bench runs end to end on a 50-document synthetic BEIR folder with the hashing
embedder: index plus filler, a real server on loopback, every client count, the step split."""

from __future__ import annotations

import json
from pathlib import Path

from bench import search_latency
from tests.bench.test_beir import write_dataset
from tests.helpers import free_port


def test_latency_bench_measures_every_client_count_and_step(tmp_path: Path) -> None:
    write_dataset(tmp_path / "beir")
    out = tmp_path / "latency.json"
    args = search_latency.parse_args([
        "--path", str(tmp_path / "beir"), "--embedder", "hashing", "--sizes", "300",
        "--queries", "12", "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
        "--port", str(free_port())])
    result = search_latency.run(args, say=lambda _line: None)
    facts = result["sizes"]["300"]
    assert facts["chunks"] == 300 and facts["filler_chunks"] == 300 - facts["scifact_chunks"]
    assert set(facts["clients"]) == {"1", "4", "16"}
    steps = facts["clients"]["1"]["steps_p50_ms"]
    assert set(search_latency.STEPS) <= set(steps) and steps["app"] > 0
    assert all(run["n"] == 12 for run in facts["clients"].values())
    assert json.loads(out.read_text())["sizes"]["300"]["chunks"] == 300
