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
49.4 -> 28.7 ms (``CLEARANCE_IDF_SAMPLE_CHUNKS=0`` against a 10k target). The engine's
time grows with the sample: the keyword leg alone at 100k chunks (50k readable; in-process,
median of 300 SciFact claims) takes 3.7 ms measuring all 50k, 3.1 ms on 12.3k (rate 4),
2.0 ms on 6.1k (rate 8), 1.3 ms on 760, against 0.8 ms with global IDF.

What a sample costs in ranking (``python -m bench.idf_sample``: BM25 over SciFact plus
filler, IDF from all the readable points or from random samples, six draws each; keyword
nDCG@10 on the test claims, mean - exact):

    readable points   1.5k     3k       6k       12k      24k
    50,000           -0.0060  -0.0045  -0.0014  -0.0005  -0.0004   (draws' sd 0.002-0.003)
    500,000          -0.0010  -0.0002  +0.0000  +0.0002  -0.0014

so the default target is 5,000 (a sample of 5k-10k points): the cost is within a draw's
spread from 6k up, and clear only from 3k down. It was 10,000 until the bench above: at
100k chunks (50k readable) the engine step of /v1/search went from 7.78-8.03 to
6.52-7.23 ms (``bench.search_latency --sizes 100000``, alternated runs).

How many points the caller may read is counted exactly (an estimate would draw on index
statistics that include unreadable points) and kept per principal set. The count only
sizes the sample, so a stale one costs precision, never permissions: a count older than
``COUNT_TTL_S`` is still used while one background thread recounts it. Only a principal
set's first search waits for its count (11 ms at 100k chunks, 50k readable; 92-106 ms at
1M, 500k readable); before, every search after a quiet 5 minutes did, which is most
searches of a user who asks now and then.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cachetools import LRUCache

from core import Entitlements

from .base import StoreQuery

SAMPLE_FIELD = "idf_sample"
MAX_RATE_BITS = 16
"""Samples go down to one point in 2**16 (enough for ~650M readable points at the default)."""
DEFAULT_TARGET = 5_000
"""Points IDF is measured over when sampling (``CLEARANCE_IDF_SAMPLE_CHUNKS``)."""
COUNT_TTL_S = 300.0
"""Age at which a kept count is recounted, in the background (it stays in use meanwhile)."""
MAX_COUNTS = 4096
"""Principal sets whose readable count is kept (least recently used dropped first)."""

_Key = tuple[str, frozenset[str]]
_RECOUNTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="idf-recount")
"""Recounts stale counts off the request path, one at a time (each is an exact count)."""
log = logging.getLogger(__name__)


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
    """Exact counts of readable points per principal set (the ``MAX_COUNTS`` most recently
    used). A count older than ``ttl_s`` is returned as it is while ``recount`` (by default
    one shared background thread) counts again; a failed recount keeps the old count."""

    def __init__(self, count: Callable[[Entitlements], int], *,
                 ttl_s: float = COUNT_TTL_S,
                 recount: Callable[[Callable[[], None]], object] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._count = count
        self._ttl_s = ttl_s
        self._recount = recount or _RECOUNTS.submit
        self._clock = clock
        self._kept: LRUCache[_Key, tuple[int, float]] = LRUCache(MAX_COUNTS)
        self._recounting: set[_Key] = set()
        self._lock = threading.Lock()

    def __call__(self, entitlements: Entitlements) -> int:
        key = (entitlements.tenant, entitlements.principals)
        with self._lock:
            kept = self._kept.get(key)
            stale = (kept is not None and key not in self._recounting
                     and self._clock() - kept[1] >= self._ttl_s)
            if stale:
                self._recounting.add(key)
        if kept is None:
            return self._counted(key, entitlements)
        if stale:
            try:
                self._recount(lambda: self._refresh(key, entitlements))
            except RuntimeError:  # the executor is shut down (interpreter exit): keep it
                with self._lock:
                    self._recounting.discard(key)
        return kept[0]

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def _counted(self, key: _Key, entitlements: Entitlements) -> int:
        counted_at = self._clock()
        counted = self._count(entitlements)
        with self._lock:
            self._kept[key] = (counted, counted_at)
        return counted

    def _refresh(self, key: _Key, entitlements: Entitlements) -> None:
        try:
            self._counted(key, entitlements)
        except Exception:  # the store closed or failed: the old count stays, retried later
            log.warning("Could not recount the points a principal set may read; its IDF "
                        "sample stays sized by the previous count.", exc_info=True)
        finally:
            with self._lock:
                self._recounting.discard(key)


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
