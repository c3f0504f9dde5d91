"""IDF measured on a fixed sample of what the caller may read, once that is large.

The keyword leg's IDF is measured over the caller's readable points (``plan.py``), and the
engine pays for that per query in proportion to how many points it is, whatever the number
of query terms: /v1/search at 1M chunks (500k readable) spent 49-64 ms in the engine, at
100k ~7 ms. Global statistics would be cheap but count documents the caller cannot read.

So every point carries ``idf_sample``, the nested samples it belongs to by a hash of its id
(rate 2: about half of all points, 4: a quarter, ...), and a caller who may read more than
``2 × target`` points gets IDF measured over the readable points of one sample, ``target``
to ``2 × target`` of them. The sample is a subset of what the caller may read, so nothing
unreadable enters the scores; it is the same for every query of that caller, so rankings
stay deterministic; and the engine enumerates it through one value of a payload index
rather than the whole readable set. (Slots matched as "any of the first n of 128", tried
first, made the leg slower than no sample at 100k: a match on many values costs more than
it saves.) Estimating IDF on part of a corpus is what sharded engines do anyway:
Elasticsearch scores each shard with its own term statistics by default
(``search_type=query_then_fetch``,
https://www.elastic.co/guide/en/elasticsearch/reference/current/search-search.html).

Measured with ``python -m bench.search_latency --sizes 1000000`` (one client, who may read
half of the corpus): 1M chunks, p50 58.7 -> 38.2 ms, p95 67.1 -> 45.3 ms, engine
49.4 -> 28.7 ms (``CLEARANCE_IDF_SAMPLE_CHUNKS=0`` against the default); at 100k (50k
readable) the two are within noise. Keyword leg alone, SciFact test claims with a readable
relevant abstract (148), nDCG@10: 1M shard 0.2169 exact, 0.2157 with the default sample
(15.6k of 500k), 0.2090 with half of it (7.8k), which is why the target is not lower; 100k
shard 0.519 exact, 0.518-0.521 with 25k down to 3k of its 50k.

How many points the caller may read is counted exactly (an estimate would draw on index
statistics that include unreadable points) and kept per principal set for ``COUNT_TTL_S``:
the count only sizes the sample, so a stale one costs precision, never permissions.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable

from cachetools import TTLCache

from core import Entitlements

from .base import StoreQuery

SAMPLE_FIELD = "idf_sample"
MAX_RATE_BITS = 16
"""Samples go down to one point in 2**16 (enough for ~650M readable points at the default)."""
DEFAULT_TARGET = 10_000
"""Points IDF is measured over when sampling (``CLEARANCE_IDF_SAMPLE_CHUNKS``)."""
COUNT_TTL_S = 300.0
MAX_COUNTS = 4096
"""Principal sets whose readable count is kept (least recently used dropped first)."""


def rates_of(point_id: str) -> list[str]:
    """The samples the point belongs to: "1" (every point), and "2", "4", "8"… while the
    hash of its id is divisible by that rate, so each sample nests in the one before and
    holds about 1/rate of all points. The same in every process."""
    digest = hashlib.blake2b(point_id.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    rates = ["1"]
    for bits in range(1, MAX_RATE_BITS + 1):
        if value % (1 << bits):
            break
        rates.append(str(1 << bits))
    return rates


def sample_rate(readable: int, target: int) -> str | None:
    """The sample to measure IDF over: the largest rate leaving at least ``target`` of the
    caller's points (so between ``target`` and twice that), or None for everything the
    caller may read (a small corpus, or ``target`` 0: sampling off)."""
    if target <= 0 or readable <= 2 * target:
        return None
    return str(1 << min(MAX_RATE_BITS, int(math.log2(readable / target))))


class ReadableCounts:
    """Exact counts of readable points per principal set, kept for ``COUNT_TTL_S``."""

    def __init__(self, count: Callable[[Entitlements], int], *,
                 ttl_s: float = COUNT_TTL_S) -> None:
        self._count = count
        self._kept: TTLCache[tuple[str, frozenset[str]], int] = TTLCache(MAX_COUNTS, ttl_s)
        self._lock = threading.Lock()

    def __call__(self, entitlements: Entitlements) -> int:
        key = (entitlements.tenant, entitlements.principals)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None:
            return kept
        counted = self._count(entitlements)
        with self._lock:
            self._kept[key] = counted
        return counted

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


class IdfSampler:
    """Which sample a store measures one caller's IDF on (None: everything readable).

    ``indexed`` is set by the store once it knows every point carries its samples (the
    payload index was made while the store was empty); until then nothing is sampled.
    """

    def __init__(self, count_readable: Callable[[Entitlements], int], *, target: int) -> None:
        self.target = target
        self.indexed = False
        self.readable = ReadableCounts(count_readable)

    def rate(self, query: StoreQuery, entitlements: Entitlements, top_k: int) -> str | None:
        if query.sparse is None or top_k <= 0 or self.target <= 0 or not self.indexed:
            return None
        return sample_rate(self.readable(entitlements), self.target)
