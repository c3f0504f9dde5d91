"""The IDF-sample bench runs on a 50-document synthetic BEIR folder: exact IDF, then
random samples, a row per size that is smaller than the corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench import idf_sample
from tests.bench.test_beir import write_dataset


def test_idf_sample_bench_scores_exact_and_sampled_idf(tmp_path: Path) -> None:
    write_dataset(tmp_path / "beir")
    out = tmp_path / "idf.json"
    args = idf_sample.parse_args(["--path", str(tmp_path / "beir"), "--corpus", "50,400",
                                  "--samples", "100,200,400", "--draws", "2",
                                  "--out", str(out)])
    result = idf_sample.run(args, say=lambda _line: None)
    # without filler, each query's two words belong to its document alone: found first
    assert result["corpus"]["50"]["exact"] == 1.0
    corpus = result["corpus"]["400"]  # filler repeats the documents' words
    assert corpus["points"] == 400 and 0 < corpus["exact"] < 1
    assert set(corpus["samples"]) == {"100", "200"}  # a sample as large as the corpus is no sample
    assert all(len(row["draws"]) == 2 and 0 <= row["min"] <= row["mean"] <= 1
               for row in corpus["samples"].values())
    assert json.loads(out.read_text())["corpus"]["400"]["points"] == 400


def test_idf_is_the_engines_formula_over_the_sample() -> None:
    import numpy as np

    postings = idf_sample.Postings(
        terms={7: (np.array([0, 2]), np.array([1.0, 1.0], dtype=np.float32))},
        doc_of=["a", "b", "c", "d"])
    assert idf_sample.idf(postings, 7, None) == math.log(1 + (4 - 2 + 0.5) / (2 + 0.5))
    half = np.array([True, True, False, False])
    assert idf_sample.idf(postings, 7, half) == math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
