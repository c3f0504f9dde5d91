"""The API latency bench runs end to end on a few SciFact documents with the hashing
embedder: a real server, documents pushed through the API, every pass of questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import api_latency
from tests.helpers import free_port


def test_api_latency_bench_times_every_route_and_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_EMBEDDER", "hashing")  # the server inherits it
    out = tmp_path / "api.json"
    api_latency.main(["--limit-docs", "20", "--queries", "3", "--port", str(free_port()),
                      "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["documents_pushed"] == 20 and result["chunks"] >= 20
    assert result["documents_by_status"] == {"indexed": 20}
    for route in api_latency.ROUTES:
        assert result[route]["n"] == 3 and result[route]["p50_ms"] > 0
