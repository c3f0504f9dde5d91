"""IDF on a sample of the caller's readable points (``index/store/idf_sample.py``), on both
stores: the sample is exactly the readable points of the chosen sample, nothing unreadable
moves a score, and a store written before samples existed keeps measuring everything."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import qdrant_edge as qe
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from core import EVERYONE, Acl
from index.sparse import encode_document
from index.store import ChunkPoint, EdgeStore, QdrantServerStore, VectorStore
from index.store.idf_sample import SAMPLE_FIELD, rates_of, sample_rate

from .store_kit import DIMS, STORE_KINDS, ask, caller, doc, fast_dir, open_store

TARGET = 3
"""Sampling starts above 2 × TARGET readable points, so a few dozen documents sample."""


@pytest.fixture(params=STORE_KINDS)
def sampled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    with open_store(request.param, tmp_path, idf_sample=TARGET) as store:
        yield store


def _corpus(n: int, *, allow: str = EVERYONE) -> list[ChunkPoint]:
    points = []
    for i in range(n):
        words = "harbour crane" if i % 3 == 0 else "office rota"
        points += doc(f"{allow}-{i}", f"Note {i} about the {words} schedule.", allow=[allow])
    return points


def _idf(total: int, with_term: int) -> float:
    """Qdrant's IDF (https://qdrant.tech/documentation/concepts/indexing/#idf-modifier)."""
    return math.log((total - with_term + 0.5) / (with_term + 0.5) + 1)


def test_idf_is_measured_on_the_readable_points_of_one_sample(sampled: VectorStore) -> None:
    readable = _corpus(60)
    sampled.upsert(readable + _corpus(30, allow="group:board"))
    rate = sample_rate(len(readable), TARGET)
    assert rate == "16"
    sample = [p for p in readable if rate in rates_of(p.id)]
    assert 0 < len(sample) < len(readable)
    with_term = sum("harbour" in p.text for p in sample)
    idf = _idf(len(sample), with_term)
    assert idf != pytest.approx(_idf(60, 20))  # the whole readable corpus would differ

    hits = sampled.search(ask("harbour", "keyword"), entitlements=caller(EVERYONE), top_k=50)
    assert len(hits) == 20
    for hit in hits:
        term_value = max(encode_document(hit.text).values)  # the one query term's value
        assert hit.score == pytest.approx(idf * term_value, rel=1e-4)


def test_sampled_scores_ignore_documents_the_caller_cannot_read(sampled: VectorStore) -> None:
    sampled.upsert(_corpus(60))
    reader = caller(EVERYONE)
    before = sampled.search(ask("harbour crane", "keyword"), entitlements=reader, top_k=30)
    sampled.upsert(_corpus(200, allow="group:board"))
    sampled.idf_sample.readable.clear()  # type: ignore[attr-defined]  # count afresh
    after = sampled.search(ask("harbour crane", "keyword"), entitlements=reader, top_k=30)
    assert sorted((h.chunk_id, round(h.score, 5)) for h in after) == sorted(
        (h.chunk_id, round(h.score, 5)) for h in before)  # equal scores tie in any order


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_a_stale_count_sizes_the_sample_but_never_widens_it(kind: str, tmp_path: Path) -> None:
    """The board's notes are withdrawn from the reader while the reader's count (400) is
    kept: the sample keeps the rate 400 gave, and holds only what the reader may still
    read. (A recount would only change the rate; it runs in the background.)"""
    public, board = _corpus(200), _corpus(200, allow="group:board")
    with open_store(kind, tmp_path, idf_sample=20) as store:
        store.upsert(public + board)
        reader = caller(EVERYONE, "group:board")
        assert store.search(ask("harbour", "keyword"), entitlements=reader, top_k=10)
        for key in {p.doc_id for p in board}:
            store.set_acl(tenant=board[0].tenant, doc_id=key,
                          allow=frozenset({"group:legal"}), deny=frozenset(), acl_version=2)

        hits = store.search(ask("harbour", "keyword"), entitlements=reader, top_k=100)
    rate = sample_rate(400, 20)
    assert rate is not None and rate != sample_rate(200, 20)
    sample = [p for p in public if rate in rates_of(p.id)]
    with_term = sum("harbour" in p.text for p in sample)
    assert len(sample) >= 5 and with_term
    idf = _idf(len(sample), with_term)
    assert {h.chunk_id for h in hits} == {p.id for p in public if "harbour" in p.text}
    for hit in hits:
        term_value = max(encode_document(hit.text).values)
        assert hit.score == pytest.approx(idf * term_value, rel=1e-4)


PRINCIPALS = ["user:ann", "user:bob", "group:eng", "group:hr", EVERYONE]
WORDS = ["budget", "roadmap", "hiring", "laptop", "travel"]
_acls = st.builds(Acl, allow=st.frozensets(st.sampled_from(PRINCIPALS), max_size=3),
                  deny=st.frozensets(st.sampled_from(PRINCIPALS), max_size=2))


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_scores_are_those_of_a_store_holding_only_what_the_caller_may_read(
        kind: str, tmp_path: Path) -> None:
    """Random ACLs and callers, sampling from 3 readable points on: every keyword score
    equals the score the same caller gets from a store holding only their readable points."""
    with open_store(kind, tmp_path / "all", idf_sample=1) as everything, \
            open_store(kind, tmp_path / "mine", idf_sample=1) as readable_only:

        @settings(max_examples=20, deadline=None, derandomize=True)
        @given(acls=st.lists(_acls, min_size=1, max_size=14),
               principals=st.frozensets(st.sampled_from(PRINCIPALS), max_size=4),
               words=st.lists(st.sampled_from(WORDS), min_size=14, max_size=14))
        def check(acls: list[Acl], principals: frozenset[str], words: list[str]) -> None:
            tenant = uuid.uuid4().hex  # examples share the stores, never a tenant
            me = caller(*principals, tenant=tenant)
            for i, acl in enumerate(acls):
                points = doc(f"d{i}", f"The {words[i]} note {i} on {words[-1 - i]}",
                             tenant=tenant, allow=acl.allow, deny=acl.deny)
                everything.upsert(points)
                if acl.permits(principals):
                    readable_only.upsert(points)
            for word in WORDS:
                query = ask(f"{word} note", "keyword")
                got = everything.search(query, entitlements=me, top_k=20)
                alone = readable_only.search(query, entitlements=me, top_k=20)
                assert sorted((h.chunk_id, round(h.score, 5)) for h in got) == sorted(
                    (h.chunk_id, round(h.score, 5)) for h in alone)

        check()


def test_a_small_readable_corpus_is_measured_whole(tmp_path: Path) -> None:
    with open_store("edge", tmp_path, idf_sample=TARGET) as store:
        points = _corpus(6)  # 2 × TARGET: not above the bar
        store.upsert(points)
        hits = store.search(ask("harbour", "keyword"), entitlements=caller(EVERYONE))
        idf = _idf(len(points), sum("harbour" in p.text for p in points))
        term_value = max(encode_document(hits[0].text).values)
        assert hits[0].score == pytest.approx(idf * term_value, rel=1e-4)


# -- stores written before samples existed --------------------------------------------------

def test_an_edge_shard_from_before_samples_keeps_measuring_everything(tmp_path: Path) -> None:
    """Its points may lack samples, so sampling them would leave points out of IDF: the
    store keeps the whole readable corpus, and never indexes the field afterwards."""
    points = _corpus(25)
    with fast_dir(tmp_path) as where:
        store = EdgeStore(where / "edge", dimensions=DIMS, idf_sample=TARGET)
        store.warm_up()
        store.upsert(points)
        shard = store._shard
        assert shard is not None
        shard.update(qe.UpdateOperation.delete_payload([p.id for p in points], [SAMPLE_FIELD]))
        shard.update(qe.UpdateOperation.delete_field_index(SAMPLE_FIELD))
        store.close()

        reopened = EdgeStore(where / "edge", dimensions=DIMS, idf_sample=TARGET)
        reopened.warm_up()
        try:
            assert reopened._shard is not None
            assert SAMPLE_FIELD not in reopened._shard.info().payload_schema
            _assert_measured_whole(reopened, points)
        finally:
            reopened.close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_a_server_collection_from_before_samples_keeps_measuring_everything() -> None:
    client = QdrantClient(location=":memory:")
    points = _corpus(25)
    store = QdrantServerStore(client, collection="chunks", dimensions=DIMS)
    store.warm_up()
    store.upsert(points)
    client.delete_payload("chunks", keys=[SAMPLE_FIELD],
                          points=qm.FilterSelector(filter=qm.Filter()))
    client.delete_payload_index("chunks", SAMPLE_FIELD)

    reopened = QdrantServerStore(client, collection="chunks", dimensions=DIMS, idf_sample=TARGET)
    reopened.warm_up()
    assert SAMPLE_FIELD not in (client.get_collection("chunks").payload_schema or {})
    _assert_measured_whole(reopened, points)
    client.close()


def _assert_measured_whole(store: VectorStore, points: list[ChunkPoint]) -> None:
    hits = store.search(ask("harbour", "keyword"), entitlements=caller(EVERYONE), top_k=50)
    idf = _idf(len(points), sum("harbour" in p.text for p in points))
    assert hits
    for hit in hits:
        assert hit.score == pytest.approx(idf * max(encode_document(hit.text).values), rel=1e-4)
