"""The pieces of IDF sampling that need no engine: slots, sample sizes, remembered counts."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import Entitlements
from index.sparse import encode_query
from index.store import StoreQuery, acl_filter
from index.store.filters import FieldMatch
from index.store.idf_sample import (
    MAX_RATE_BITS,
    SAMPLE_FIELD,
    ReadableCounts,
    rates_of,
    sample_rate,
)
from index.store.plan import plan_search

READER = Entitlements(tenant="acme", principals=frozenset({"user:ann", "everyone"}))


def test_samples_depend_on_the_id_alone() -> None:
    # Pinned: every process, worker and release must put a point in the same samples.
    assert rates_of("a") == ["1"]
    assert rates_of("00000000-0000-0000-0000-000000000000") == ["1", "2"]


def test_samples_nest_and_halve() -> None:
    ids = [str(uuid.uuid4()) for _ in range(40_000)]
    counts = Counter(rate for point in ids for rate in rates_of(point))
    assert counts["1"] == len(ids)
    for bits in range(1, 6):
        share = counts[str(1 << bits)] / len(ids)
        assert share == pytest.approx(1 / (1 << bits), rel=0.1)
    for point in ids:
        rates = rates_of(point)
        assert rates == [str(1 << b) for b in range(len(rates))]  # 1, 2, 4… with no gap


@pytest.mark.parametrize("readable", [0, 1, 10_000, 20_000])
def test_up_to_twice_the_target_everything_readable_is_measured(readable: int) -> None:
    assert sample_rate(readable, 10_000) is None


def test_target_zero_turns_sampling_off() -> None:
    assert sample_rate(10**9, 0) is None


@given(st.integers(min_value=1, max_value=50_000), st.integers(min_value=1, max_value=10**9))
def test_a_sample_holds_between_the_target_and_twice_it(target: int, readable: int) -> None:
    rate = sample_rate(readable, target)
    if readable <= 2 * target:
        assert rate is None
        return
    assert rate is not None
    expected = readable / int(rate)
    assert target <= expected < 2 * target or int(rate) == 1 << MAX_RATE_BITS


def test_the_idf_corpus_is_the_readable_filter_narrowed_to_the_sample() -> None:
    query = StoreQuery(sparse=encode_query("harbour crane"))
    whole = plan_search(query, entitlements=READER, filters=None, top_k=10)
    assert whole.idf_corpus == acl_filter(READER)
    sampled = plan_search(query, entitlements=READER, filters=None, top_k=10, idf_sample="8")
    readable = acl_filter(READER)
    assert sampled.idf_corpus.must == (*readable.must, FieldMatch(SAMPLE_FIELD,
                                                                  frozenset({"8"})))
    assert sampled.idf_corpus.must_not == readable.must_not
    assert sampled.filter == whole.filter  # what the caller gets back is not sampled


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """A count of readable points that says how often it was asked (its answer)."""

    def __init__(self) -> None:
        self.calls: list[Entitlements] = []
        self.fail = False

    def __call__(self, entitlements: Entitlements) -> int:
        if self.fail:
            raise RuntimeError("the store is closed")
        self.calls.append(entitlements)
        return len(self.calls)


def test_readable_counts_are_kept_per_principal_set() -> None:
    count, pending = Counting(), list[Callable[[], None]]()
    counts = ReadableCounts(count, ttl_s=60, recount=pending.append, clock=Clock())
    other = Entitlements(tenant="acme", principals=frozenset({"user:bob"}))
    assert counts(READER) == 1
    assert counts(READER) == 1
    assert counts(other) == 2
    counts.clear()
    assert counts(READER) == 3
    assert not pending


def test_a_stale_count_is_used_while_one_recount_runs() -> None:
    count, clock, pending = Counting(), Clock(), list[Callable[[], None]]()
    counts = ReadableCounts(count, ttl_s=60, recount=pending.append, clock=clock)
    assert counts(READER) == 1
    clock.now = 61
    assert counts(READER) == 1  # answered at once, with the old count
    assert counts(READER) == 1
    assert len(pending) == 1  # one recount per principal set at a time
    pending.pop()()
    assert counts(READER) == 2
    assert not pending  # fresh again until the next minute is up


def test_a_failed_recount_keeps_the_old_count_and_is_tried_again(
        caplog: pytest.LogCaptureFixture) -> None:
    count, clock, pending = Counting(), Clock(), list[Callable[[], None]]()
    counts = ReadableCounts(count, ttl_s=60, recount=pending.append, clock=clock)
    assert counts(READER) == 1
    clock.now = 61
    count.fail = True
    assert counts(READER) == 1
    with caplog.at_level(logging.WARNING, logger="index.store.idf_sample"):
        pending.pop()()
    assert "Could not recount" in caplog.text
    assert counts(READER) == 1
    count.fail = False
    pending.pop()()
    assert counts(READER) == 2


def test_by_default_the_recount_runs_off_the_asking_thread() -> None:
    release, counted = threading.Event(), Counting()

    def slow(entitlements: Entitlements) -> int:
        if counted.calls:
            assert release.wait(timeout=10)
        return counted(entitlements)

    clock = Clock()
    counts = ReadableCounts(slow, ttl_s=60, clock=clock)
    assert counts(READER) == 1
    clock.now = 61
    assert counts(READER) == 1  # the recount is blocked, the search is not
    release.set()
    deadline = time.monotonic() + 10
    while counts(READER) != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counts(READER) == 2
