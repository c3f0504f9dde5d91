"""The embedder bench's quality measure: a document scores its best chunk, nDCG@10 as
pytrec_eval computes it."""

from __future__ import annotations

import numpy as np
import pytest

from bench.embedder import dense_ndcg


def test_a_document_scores_its_best_chunk_not_its_first() -> None:
    # doc "near" has one far chunk and one chunk equal to the query; doc "mid" is between.
    chunks = np.array([[0.0, 1.0], [1.0, 0.0], [0.8, 0.6]], dtype=np.float32)
    owners = ["near", "near", "mid"]
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    assert dense_ndcg(chunks, owners, query, {"q": {"near": 1}}, ["q"]) == pytest.approx(1.0)
    assert dense_ndcg(chunks, owners, query, {"q": {"mid": 1}}, ["q"]) == pytest.approx(
        1 / np.log2(3))
