"""The BEIR bench runs end to end on a 50-document synthetic dataset with the hashing
embedder: it indexes through the real pipeline, scores every system, reuses its index."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bench import beir

FILLER = ("cells protein expression patients study results increased levels treatment "
          "response analysis model data observed significant effect group risk").split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(4))


def write_dataset(folder: Path, *, documents: int = 50, seed: int = 7) -> dict[str, str]:
    """A BEIR folder: each document has two words no other document has; each query asks
    for them (split ``test``: even documents, ``train``: odd ones). Returns query → doc."""
    rng = random.Random(seed)
    (folder / "qrels").mkdir(parents=True)
    corpus, queries, answers = [], [], {}
    for n in range(documents):
        own = [_word(rng), _word(rng)]
        text = " ".join(rng.choice(FILLER) for _ in range(60))
        corpus.append({"_id": f"d{n}", "title": f"On {own[0]} and related findings",
                       "text": f"{text} The {own[1]} pathway matters. {text}", "metadata": {}})
        queries.append({"_id": f"q{n}", "text": f"Does {own[0]} act through {own[1]}?",
                        "metadata": {}})
        answers[f"q{n}"] = f"d{n}"
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    for split, parity in (("test", 0), ("train", 1)):
        rows = [f"{q}\t{d}\t1" for q, d in answers.items() if int(d[1:]) % 2 == parity]
        (folder / "qrels" / f"{split}.tsv").write_text(
            "query-id\tcorpus-id\tscore\r\n" + "\r\n".join(rows) + "\r\n")
    return answers


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "synthetic"
    write_dataset(folder)
    return folder


def _args(dataset: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["--path", str(dataset), "--embedder", "hashing",
            "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out.json"), *extra]


def test_bench_scores_every_system_and_writes_json(dataset: Path, tmp_path: Path) -> None:
    result = beir.run(beir.parse_args(_args(dataset, tmp_path)), say=lambda _line: None)
    assert result["documents"] == 50 and result["queries"] == 25
    assert set(result["systems"]) == {"rank-bm25", "clearance keyword", "clearance dense",
                                      "clearance hybrid"}
    for row in result["systems"].values():
        assert 0.0 <= row["ndcg@10"] <= 1.0 and 0.0 <= row["recall@100"] <= 1.0
    # every query names words only its document has: exact-term systems find it first,
    # and fusing in the (here, hashing) dense leg keeps it in the top ten
    systems = result["systems"]
    assert systems["rank-bm25"]["mrr@10"] == 1.0
    assert systems["clearance keyword"]["mrr@10"] == 1.0
    assert systems["clearance hybrid"]["recall@100"] == 1.0
    assert systems["clearance hybrid"]["ndcg@10"] > systems["clearance dense"]["ndcg@10"]
    written = json.loads((tmp_path / "out.json").read_text())
    assert written["systems"] == result["systems"]
    assert written["served_settings"]["fusion"]


def test_second_run_reuses_the_index_and_embeds_nothing_new(dataset: Path,
                                                            tmp_path: Path) -> None:
    first = beir.run(beir.parse_args(_args(dataset, tmp_path)), say=lambda _line: None)
    second = beir.run(beir.parse_args(_args(dataset, tmp_path)), say=lambda _line: None)
    assert not first["index_cached"] and second["index_cached"]
    assert first["texts_embedded"] > 0 and second["texts_embedded"] == 0
    assert second["systems"] == {name: {**row, "query_ms": second["systems"][name]["query_ms"]}
                                 for name, row in first["systems"].items()}


def test_limit_docs_and_queries_make_a_smaller_run_that_keeps_the_full_result(
        dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beir, "RESULTS", tmp_path / "results")
    args = beir.parse_args(["--path", str(dataset), "--embedder", "hashing",
                            "--cache-dir", str(tmp_path / "cache"), "--limit-docs", "20",
                            "--queries", "3", "--split", "train"])
    result = beir.run(args, say=lambda _line: None)
    assert result["documents"] == 20 and result["queries"] == 3
    assert result["split"] == "train"
    assert result["out"] == str(tmp_path / "results" / "beir_synthetic_train_smoke.json")


def test_no_internet_gives_one_clear_line(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beir, "BEIR_URL", "http://127.0.0.1:9/{name}.zip")  # nothing listens
    with pytest.raises(SystemExit) as stopped:
        beir.locate_dataset("nfcorpus", path=None, cache_dir=tmp_path, download=True)
    message = str(stopped.value)
    assert message.startswith("No internet connection") and "--path" in message
    assert "\n" not in message


def test_missing_dataset_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_EVAL_DATA", str(tmp_path / "nothing"))
    with pytest.raises(SystemExit, match="--download"):
        beir.locate_dataset("nfcorpus", path=None, cache_dir=tmp_path, download=False)


def test_metrics_match_their_definitions() -> None:
    relevant = {"a": 1, "b": 1}
    assert beir.ndcg_at(["a", "b", "x"], relevant) == pytest.approx(1.0)
    assert beir.ndcg_at(["x", "a"], {"a": 1}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert beir.ndcg_at([f"x{i}" for i in range(10)] + ["a"], {"a": 1}) == 0.0
    assert beir.recall_at(["a", "x"], relevant, 100) == 0.5
    assert beir.mrr_at(["x", "y", "b"], relevant) == pytest.approx(1 / 3)
    assert beir.mrr_at(["x"] * 10 + ["a"], relevant) == 0.0
    runs = {"q1": ["a"], "q2": ["q2", "c"]}  # a document that is the query itself is skipped
    scores = beir.evaluate(runs, {"q1": {"a": 1}, "q2": {"c": 1}})
    assert scores["mrr@10"] == 1.0
