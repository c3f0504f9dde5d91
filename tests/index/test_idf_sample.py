"""The pieces of IDF sampling that need no engine: slots, sample sizes, remembered counts."""

from __future__ import annotations

import uuid
from collections import Counter

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


def test_readable_counts_are_kept_per_principal_set_until_they_expire() -> None:
    calls: list[Entitlements] = []

    def count(entitlements: Entitlements) -> int:
        calls.append(entitlements)
        return len(calls)

    counts = ReadableCounts(count, ttl_s=60)
    other = Entitlements(tenant="acme", principals=frozenset({"user:bob"}))
    assert counts(READER) == 1
    assert counts(READER) == 1
    assert counts(other) == 2
    counts.clear()
    assert counts(READER) == 3

    expired = ReadableCounts(count, ttl_s=0)
    assert expired(READER) == 4
    assert expired(READER) == 5
