"""BM25 keyword vectors: tokenisation, stable term indices, document and query values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from index.sparse import (
    AVG_DOC_TERMS,
    K1,
    B,
    Bm25Encoder,
    encode_document,
    encode_query,
    term_index,
    tokenize,
)


def test_codes_and_numbers_stay_whole_and_lower_cased() -> None:
    assert tokenize("Ticket QX7731Z, release v2.13.0, price 1,000 or 3.5%") == [
        "ticket", "qx7731z", "releas", "v2.13.0", "price", "1,000", "3.5"]


def test_codes_are_not_stemmed_so_distinct_codes_stay_distinct() -> None:
    assert tokenize("AB12S AB12") == ["ab12s", "ab12"]


def test_stopwords_are_dropped_and_words_stemmed() -> None:
    assert tokenize("What is the policy for running connections?") == ["polici", "run", "connect"]
    assert tokenize("Ask IT about it") == ["ask", "it", "it"]
    assert tokenize("connected connection connects") == ["connect"] * 3


def test_unicode_is_normalised_before_splitting() -> None:
    assert tokenize("ﬁle Straße ÉTÉ") == ["file", "strass", "été"]
    assert tokenize("snake_case") == ["snake", "case"]


def test_overlong_tokens_are_dropped() -> None:
    assert tokenize("a" * 65 + " ok") == ["ok"]
    assert tokenize("f" * 64) == ["f" * 64]


def test_term_index_is_pinned_so_stored_vectors_stay_valid() -> None:
    """Changing the hash silently breaks every stored vector: this pin makes it loud."""
    assert term_index("qx7731z") == 3558651986
    assert term_index("polici") == 2274017168


def test_term_index_is_the_same_in_another_process() -> None:
    code = "from index.sparse import term_index; print(term_index('qx7731z'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123", "PATH": ""},
                         cwd=Path(__file__).resolve().parents[2])
    assert int(out.stdout) == term_index("qx7731z")


def test_query_vector_weights_each_distinct_term_once() -> None:
    vector = encode_query("Policy policies POLICY and QX7731Z")
    assert len(vector.indices) == 2
    assert vector.values == (1.0, 1.0)
    assert list(vector.indices) == sorted(vector.indices)


def test_document_values_follow_bm25_saturation() -> None:
    text = "alpha alpha beta"  # dl = 3
    vector = encode_document(text)
    norm = K1 * (1 - B + B * 3 / AVG_DOC_TERMS)
    expected = {term_index("alpha"): 2 * (K1 + 1) / (2 + norm),
                term_index("beta"): 1 * (K1 + 1) / (1 + norm)}
    assert dict(zip(vector.indices, vector.values, strict=True)) == pytest.approx(expected)


def test_repeats_saturate_and_long_chunks_weigh_less() -> None:
    def weight(text: str, term: str = "alpha") -> float:
        vector = encode_document(text)
        return dict(zip(vector.indices, vector.values, strict=True))[term_index(term)]

    once, twice, many = weight("alpha"), weight("alpha alpha"), weight("alpha " * 50)
    assert once < twice < many < K1 + 1
    assert weight("alpha " + "filler " * 300) < weight("alpha filler")


def test_indices_are_sorted_unique_unsigned_32_bit() -> None:
    vector = encode_document("the quick brown fox jumps over the lazy dog " * 3)
    assert list(vector.indices) == sorted(set(vector.indices))
    assert all(0 <= i < 2**32 for i in vector.indices)
    assert len(vector.indices) == len(vector.values)


def test_text_without_terms_gives_an_empty_vector() -> None:
    assert encode_document("the of and, ...").indices == ()
    assert encode_query("").indices == ()


def test_encoder_constants_are_configurable_and_checked() -> None:
    flat = Bm25Encoder(b=0.0)  # no length normalisation

    def alpha(text: str) -> float:
        vector = flat.encode_document(text)
        return dict(zip(vector.indices, vector.values, strict=True))[term_index("alpha")]

    assert alpha("alpha") == pytest.approx(alpha("alpha " + "beta " * 100))
    with pytest.raises(ValueError):
        Bm25Encoder(b=1.5)
    with pytest.raises(ValueError):
        Bm25Encoder(avg_doc_terms=0)
