"""BM25 keyword vectors, computed by us so the embedded and the server store rank alike.

BM25 splits into a per-document part and a corpus part::

    score(q, d) = Σ_{t ∈ q}  IDF(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 - b + b·dl/avgdl))

We compute the per-document part here (``encode_document``: one value per term, the
term-frequency saturation) and give each query term a weight of 1.0 (``encode_query``).
The sparse vector is configured with ``Modifier.IDF`` in both stores, so the engine
multiplies each query term by its IDF at query time, with statistics that stay current
as documents come and go; this is how Qdrant's own BM25 works
(https://qdrant.tech/documentation/concepts/indexing/#idf-modifier,
https://qdrant.tech/documentation/search/text-search/full-text-search/#bm25).

Terms map to sparse indices by a stable 32-bit hash (blake2b, not Python's ``hash``, which
is salted per process), so every process, worker and machine agrees without a vocabulary.
Two terms that collide share a dimension; at 2^32 buckets that is rare and only adds noise.

Changing the tokenizer, the stemmer or ``AVG_DOC_TERMS`` changes stored values: re-index.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass

import Stemmer  # type: ignore[import-not-found]  # PyStemmer: Snowball stemmers, compiled

from .store.base import SparseVector

K1 = 1.2
"""Term-frequency saturation: how fast repeated occurrences stop adding score."""
B = 0.75
"""Length normalisation: 0 ignores chunk length, 1 divides fully by it."""
AVG_DOC_TERMS = 100.0
"""Expected number of index terms (tokens left after stopwords) in one chunk.

BM25 normally measures the corpus mean; a constant keeps document vectors independent of
the rest of the corpus, so a chunk's vector never needs rewriting when others arrive.
Chunks are capped at 256 model tokens (``CLEARANCE_CHUNK_MAX_TOKENS``), about 190 words,
of which roughly 100-120 survive the stopword list; most chunks are near the cap. Only the
ratio dl/avgdl matters: a constant that is off tilts scores slightly toward shorter or
longer chunks; it never changes which chunks match.
"""
MAX_TOKEN_CHARS = 64
"""Longer runs (base64 blobs, minified code) are dropped; a SHA-256 hex digest still fits."""

# A run of letters and digits ending in a digit keeps its dotted or comma-separated digit
# groups ("2.13.0", "v2.13.0", "1,000", "3.5"); every other token is a run of letters and
# digits, so codes such as "QX7731Z" stay whole. Underscores and punctuation separate tokens.
_TOKEN = re.compile(r"[^\W_]*\d(?:[.,]\d+)+|[^\W_]+")

STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "its", "itself",
    "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves",
})
"""Common English function words: they match nearly every chunk and carry no topic.
("it" stays searchable: after case-folding it is also "IT", the department.)"""


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """This thread's stemmer: PyStemmer objects must not be shared between threads
    (its documentation), and the API process indexes and queries on several."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def tokenize(text: str) -> list[str]:
    """Index terms of ``text``, in order: normalised, lower-cased, stopwords out, stemmed.

    Tokens with a digit in them (codes, versions, numbers) are kept exactly as written
    (lower-cased): stemming ``QX7731S`` to ``qx7731`` would merge distinct codes.
    """
    normalised = unicodedata.normalize("NFKC", text).casefold()
    words = [
        w for w in _TOKEN.findall(normalised)
        if w not in STOPWORDS and len(w) <= MAX_TOKEN_CHARS
    ]
    stems = iter(_stemmer().stemWords([w for w in words if not _DIGIT.search(w)]))
    return [w if _DIGIT.search(w) else next(stems) for w in words]


_DIGIT = re.compile(r"\d")


def term_index(term: str) -> int:
    """Sparse dimension of ``term``: a 32-bit blake2b digest, the same in every process."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little")


@dataclass(frozen=True)
class Bm25Encoder:
    """The BM25 document and query encoders with their constants (see the module doc)."""

    k1: float = K1
    b: float = B
    avg_doc_terms: float = AVG_DOC_TERMS

    def __post_init__(self) -> None:
        if self.k1 < 0 or not 0.0 <= self.b <= 1.0 or self.avg_doc_terms <= 0:
            raise ValueError("BM25 needs k1 >= 0, 0 <= b <= 1 and avg_doc_terms > 0")

    def encode_document(self, text: str) -> SparseVector:
        """One value per distinct term: tf·(k1+1) / (tf + k1·(1 - b + b·dl/avgdl))."""
        terms = tokenize(text)
        if not terms:
            return SparseVector(indices=(), values=())
        length_norm = self.k1 * (1.0 - self.b + self.b * len(terms) / self.avg_doc_terms)
        frequencies: Counter[int] = Counter()
        for term, count in Counter(terms).items():  # hash each distinct term once
            frequencies[term_index(term)] += count
        indices = tuple(sorted(frequencies))
        values = tuple(
            frequencies[i] * (self.k1 + 1.0) / (frequencies[i] + length_norm) for i in indices
        )
        return SparseVector(indices=indices, values=values)

    def encode_query(self, text: str) -> SparseVector:
        """Weight 1.0 per distinct query term; the engine supplies IDF."""
        indices = tuple(sorted({term_index(t) for t in tokenize(text)}))
        return SparseVector(indices=indices, values=(1.0,) * len(indices))


_DEFAULT = Bm25Encoder()


def encode_document(text: str) -> SparseVector:
    """The keyword vector stored with a chunk (default constants)."""
    return _DEFAULT.encode_document(text)


def encode_query(text: str) -> SparseVector:
    """The keyword vector a question searches with (default constants)."""
    return _DEFAULT.encode_query(text)
