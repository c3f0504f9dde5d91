"""The answer cache never crosses entitlement sets, epochs or index versions."""

from __future__ import annotations

from answer import AnswerCache
from answer.cache import CacheKey, cache_key
from core import Entitlements
from retrieval import SearchFilters

ALICE = Entitlements(tenant="t", principals=frozenset({"user:alice@x.com", "group:hr",
                                                      "everyone"}))
BOB = Entitlements(tenant="t", principals=frozenset({"user:bob@x.com", "everyone"}))


def _key(entitlements: Entitlements = ALICE, *, question: str = "Travel class?",
         epoch: int = 1, version: str = "3:x", filters: SearchFilters | None = None,
         ) -> CacheKey:
    return cache_key(question, entitlements=entitlements, acl_epoch=epoch,
                     index_version=version, top_k=5, filters=filters)


def test_the_same_question_and_entitlements_share_an_entry_across_spelling() -> None:
    assert _key(question="Travel  class?") == _key(question="travel class?")


def test_two_users_with_different_entitlements_never_share_an_entry() -> None:
    cache: AnswerCache[str] = AnswerCache(10)
    cache.put(_key(ALICE), "alice's answer")
    assert cache.get(_key(BOB)) is None
    assert cache.get(_key(ALICE)) == "alice's answer"


def test_an_epoch_bump_or_an_index_change_misses() -> None:
    assert _key(epoch=1) != _key(epoch=2)
    assert _key(version="3:x") != _key(version="4:y")
    assert _key() != _key(filters=SearchFilters(source_ids=frozenset({"s1"})))
    assert _key(Entitlements(tenant="other", principals=ALICE.principals)) != _key()


def test_the_cache_is_bounded_and_evicts_the_least_recent() -> None:
    cache: AnswerCache[int] = AnswerCache(2)
    keys = [_key(question=f"q{i}") for i in range(3)]
    cache.put(keys[0], 0)
    cache.put(keys[1], 1)
    cache.get(keys[0])
    cache.put(keys[2], 2)
    assert len(cache) == 2 and cache.get(keys[1]) is None
    off: AnswerCache[int] = AnswerCache(0)
    off.put(keys[0], 0)
    assert len(off) == 0
