"""The reranker hook: off by default; with ``CLEARANCE_RERANKER_MODEL`` set, a cross-encoder
loaded from a local directory reorders the re-checked hits, and never adds one.

No trained reranker is available offline, so the model is a tiny untrained BERT built here
(2 layers, 32 wide, one label, a WordPiece vocabulary of this file's words) and saved with
``save_pretrained``: its scores are arbitrary but fixed, which is all the code path needs.
The index is built once for the module (hashing embedder, real SQLite and Edge stores) and
only searched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pytest

from core import Entitlements, Hit, Settings
from core.errors import ConfigurationError
from retrieval import CrossEncoderReranker, FusionConfig, Retriever, create_reranker
from tests.contracts.store_kit import fast_dir
from tests.helpers import hashing_services, settings_for, text_doc
from workers.pipeline import ingest_documents
from workers.services import Services
from workers.sources import get_or_create_source

QUERY = "travel expenses"
DOCS = [  # key, title, text: every one matches the query, each is one chunk
    ("receipts", "Travel expenses", "Submit travel receipts within thirty days."),
    ("portal", "Travel portal", "Book travel through the portal; expenses are paid monthly."),
    ("per-diem", "Per diem", "Travel days abroad earn a per diem for meal expenses."),
    ("mileage", "Mileage", "Car travel is refunded per kilometre as expenses."),
    ("cards", "Corporate cards", "Corporate cards pay hotel and travel expenses directly."),
    ("approval", "Approvals", "Managers approve travel over one thousand euros before booking."),
]
RESTRICTED = ("salaries", "Travel expenses of the board",
              "Board travel expenses and salary bands: confidential figures.")
FINANCE = "group:finance"
OUTSIDER = Entitlements(tenant="default", principals=frozenset({"user:bob@example.com",
                                                                 "everyone"}))
INSIDER = Entitlements(tenant="default", principals=frozenset({"user:carol@example.com",
                                                                FINANCE, "everyone"}))


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    texts = [QUERY, *(part for doc in [*DOCS, RESTRICTED] for part in doc[1:])]
    words = sorted({w for text in texts for w in re.findall(r"\w+|[^\w\s]", text.lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(  # transformers 5: the fast (Rust) one
        vocab_file=str(path / "vocab.txt"), model_max_length=128)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=128)
    config.num_labels = 1  # one score per pair, as a reranker has
    with torch.random.fork_rng():
        torch.manual_seed(7)
        model = BertForSequenceClassification(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with fast_dir(tmp_path_factory.mktemp("rerank")) as where:
        opened = hashing_services(where / "data")
        with opened.sessions() as session, session.begin():
            source = get_or_create_source(session, tenant="default", name="s", kind="push").id
        docs = [text_doc(key, text, title=title) for key, title, text in DOCS]
        key, title, text = RESTRICTED
        docs.append(text_doc(key, text, title=title, allow=(FINANCE,)))
        ingest_documents(opened, docs, tenant="default", source_id=source)
        yield opened
        opened.close()


def reranker_settings(services: Services, model_dir: Path | None, **overrides: object) -> Settings:
    return settings_for(services.settings.data_dir, reranker_model=model_dir, **overrides)


def retriever(services: Services, settings: Settings | None = None) -> Retriever:
    """The retriever as ``AppState.build`` makes it from ``settings`` (default: the fixture's)."""
    settings = settings or services.settings
    return Retriever(store=services.store, embedder=services.embedder,
                     sessions=services.sessions, fusion=FusionConfig.from_settings(settings),
                     reranker=create_reranker(settings))


@pytest.fixture(scope="module")
def reranking(services: Services, tiny_cross_encoder: Path) -> Retriever:
    """The served retriever with ``CLEARANCE_RERANKER_MODEL`` set (loaded once: a model's
    first batch is its slowest)."""
    served = retriever(services, reranker_settings(services, tiny_cross_encoder))
    assert isinstance(served.reranker, CrossEncoderReranker)
    return served


def model_scores(model_dir: Path, hits: Sequence[Hit]) -> dict[str, float]:
    """What the cross-encoder itself says of (question, title + text), per external id."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(model_dir), device="cpu", local_files_only=True)
    scores = model.predict([(QUERY, f"{h.title}\n{h.text}") for h in hits],
                           show_progress_bar=False)
    return {h.external_id: float(s) for h, s in zip(hits, scores, strict=True)}


def test_reranking_is_off_by_default_and_search_is_unchanged(services: Services) -> None:
    assert Settings.model_fields["reranker_model"].default is None
    assert Settings.model_fields["rerank_depth"].default == 30
    assert create_reranker(services.settings) is None
    plain = Retriever(store=services.store, embedder=services.embedder,
                      sessions=services.sessions,
                      fusion=FusionConfig.from_settings(services.settings))
    served = retriever(services)
    assert served.reranker is None
    before = plain.search(QUERY, entitlements=OUTSIDER, top_k=10)
    after = served.search(QUERY, entitlements=OUTSIDER, top_k=10)
    assert after.hits == before.hits
    assert after.timings.rerank_ms == 0.0


def test_cross_encoder_orders_the_hits_by_its_own_scores(
        services: Services, tiny_cross_encoder: Path, reranking: Retriever) -> None:
    fused = retriever(services).search(QUERY, entitlements=OUTSIDER, top_k=10).hits
    result = reranking.search(QUERY, entitlements=OUTSIDER, top_k=10)
    expected = model_scores(tiny_cross_encoder, fused)

    reranked = [h.external_id for h in result.hits]
    assert sorted(reranked) == sorted(h.external_id for h in fused) == sorted(k for k, *_ in DOCS)
    assert reranked == sorted(expected, key=lambda key: -expected[key])
    assert reranked != [h.external_id for h in fused]  # it did reorder them
    for hit in result.hits:
        assert hit.score == pytest.approx(expected[hit.external_id], abs=1e-4)
    assert result.timings.rerank_ms > 0.0


def test_only_the_first_rerank_depth_hits_are_rescored(
        services: Services, tiny_cross_encoder: Path) -> None:
    settings = reranker_settings(services, tiny_cross_encoder, rerank_depth=2)
    reranker = create_reranker(settings)
    assert isinstance(reranker, CrossEncoderReranker) and reranker.depth == 2
    fused = retriever(services).search(QUERY, entitlements=OUTSIDER, top_k=10,
                                       group_by_document=False).hits
    hits = retriever(services, settings).search(QUERY, entitlements=OUTSIDER, top_k=10,
                                                group_by_document=False).hits
    expected = model_scores(tiny_cross_encoder, fused[:2])
    assert {h.external_id for h in hits[:2]} == set(expected)
    assert [h.score for h in hits[:2]] == pytest.approx(sorted(expected.values(), reverse=True),
                                                       abs=1e-4)
    assert hits[2:] == fused[2:]  # same order, fused scores


@pytest.mark.parametrize("group_by_document", [True, False])
@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_user_outside_group_gets_no_hit_from_restricted_doc_with_reranker_on(
        reranking: Retriever, mode: Literal["hybrid", "dense", "keyword"],
        group_by_document: bool) -> None:
    served = reranking
    for query in (QUERY, "board salary bands", "confidential figures"):
        outsider = served.search(query, entitlements=OUTSIDER, top_k=20, mode=mode,
                                 group_by_document=group_by_document)
        assert RESTRICTED[0] not in {h.external_id for h in outsider.hits}
        assert not any("salary" in h.text or "salary" in h.snippet for h in outsider.hits)
    insider = served.search("board salary bands", entitlements=INSIDER, top_k=20,
                            mode=mode, group_by_document=group_by_document)
    assert RESTRICTED[0] in {h.external_id for h in insider.hits}  # the test can see a leak


class _SmugglingReranker:
    """Reverses what it is given and puts a hit it was not given first."""

    def __init__(self, smuggled: Hit) -> None:
        self.smuggled = smuggled

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        return [replace(self.smuggled, score=99.0),
                *(replace(h, score=float(i)) for i, h in enumerate(reversed(hits)))]


def test_a_reranker_cannot_bring_in_a_hit_it_was_not_given(services: Services) -> None:
    restricted = Retriever(store=services.store, embedder=services.embedder,
                           sessions=services.sessions).search(
        "board salary bands", entitlements=INSIDER, top_k=1).hits[0]
    assert restricted.external_id == RESTRICTED[0]
    plain = Retriever(store=services.store, embedder=services.embedder,
                      sessions=services.sessions)
    smuggling = Retriever(store=services.store, embedder=services.embedder,
                          sessions=services.sessions, reranker=_SmugglingReranker(restricted))
    fused = plain.search(QUERY, entitlements=OUTSIDER, top_k=10).hits
    hits = smuggling.search(QUERY, entitlements=OUTSIDER, top_k=10).hits
    assert RESTRICTED[0] not in {h.external_id for h in hits}
    assert [h.external_id for h in hits] == [h.external_id for h in reversed(fused)]


def test_missing_reranker_model_fails_at_start_up_naming_the_setting(
        services: Services, tmp_path: Path) -> None:
    settings = reranker_settings(services, tmp_path / "no-such-model")
    with pytest.raises(ConfigurationError) as missing:
        create_reranker(settings)
    assert missing.value.code == "configuration_invalid"
    assert "CLEARANCE_RERANKER_MODEL" in str(missing.value)
    assert "not a directory" in str(missing.value)

    from api.middleware import Metrics
    from api.state import AppState

    with pytest.raises(ConfigurationError):  # the app does not start without it
        AppState.build(settings, services, Metrics())


def test_a_directory_without_a_model_fails_clearly(services: Services, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigurationError, match="holds no cross-encoder"):
        create_reranker(reranker_settings(services, empty))
