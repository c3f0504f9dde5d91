"""The served hybrid search end to end on real stores (hashing embedder): what reaches the
keyword leg, and how the legs fuse for a caller."""

from __future__ import annotations



from core import Chunk, Entitlements, Settings
from ingest import embedding_text, keyword_text
from ingest.chunk import TITLE_MAX_CHARS
from retrieval import FusionConfig, Retriever
from tests.helpers import text_doc
from workers.pipeline import ingest_documents
from workers.services import Services
from workers.sources import get_or_create_source

EVERYBODY = Entitlements(tenant="default", principals=frozenset({"everyone"}))
LONG_TITLE = ("Quarterly report of the facilities team on office moves, parking permits and "
              "the replacement of the Zanzibar badge readers")


def ingest(services: Services, *docs: tuple[str, str, str]) -> None:
    with services.sessions() as session, session.begin():
        source = get_or_create_source(session, tenant="default", name="s", kind="push").id
    ingest_documents(services, [text_doc(key, text, title=title) for key, title, text in docs],
                     tenant="default", source_id=source)


def retriever(services: Services) -> Retriever:
    return Retriever(store=services.store, embedder=services.embedder,
                     sessions=services.sessions,
                     fusion=FusionConfig.from_settings(services.settings))


def test_keyword_text_keeps_the_whole_title_the_embedding_text_clips() -> None:
    chunk = Chunk(doc_id="d", ordinal=0, text="Body.", heading_path=("Section",))
    assert len(LONG_TITLE) > TITLE_MAX_CHARS
    assert "Zanzibar" not in embedding_text(chunk, title=LONG_TITLE)
    assert keyword_text(chunk, title=LONG_TITLE) == f"{LONG_TITLE}\nSection\nBody."


def test_a_word_late_in_a_long_title_finds_the_document_by_keyword(services: Services) -> None:
    ingest(services, ("report", LONG_TITLE, "Moves are planned for the spring."),
           ("other", "Canteen menu", "Soup of the day and the salad bar."))
    hits = retriever(services).search("Zanzibar", entitlements=EVERYBODY, mode="keyword").hits
    assert [h.external_id for h in hits] == ["report"]


def test_served_fusion_is_the_settings_default_and_ranks_the_exact_match_first(
        services: Services) -> None:
    assert FusionConfig.from_settings(services.settings) == FusionConfig()
    assert FusionConfig().method == Settings.model_fields["fusion"].default
    ingest(services,
           ("expenses", "Expenses", "Submit travel receipts within thirty days of the trip."),
           ("travel", "Travel", "Book travel through the portal; economy class for short trips."),
           ("badges", "Badges", "Lost badges are replaced by the front desk."))
    hits = retriever(services).search("receipts within thirty days", entitlements=EVERYBODY,
                                      top_k=3).hits
    assert hits[0].external_id == "expenses"
    assert len({h.doc_id for h in hits}) == len(hits)  # one hit per document
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_the_lead_bonus_never_shows_a_first_chunk_the_caller_may_not_read(
        services: Services) -> None:
    assert FusionConfig.from_settings(services.settings).lead_bonus > 0
    with services.sessions() as session, session.begin():
        source = get_or_create_source(session, tenant="default", name="s", kind="push").id
    ingest_documents(services, [
        text_doc("bands", "Zanzibar office salary bands for engineers.", allow=("group:hr",)),
        text_doc("parking", "Zanzibar office parking permits and badge readers."),
    ], tenant="default", source_id=source)
    outsider = retriever(services).search("Zanzibar salary bands", entitlements=EVERYBODY).hits
    assert [h.external_id for h in outsider] == ["parking"]
    assert not any("salary" in f"{h.text} {h.snippet} {h.title}".lower() for h in outsider)
    hr = Entitlements(tenant="default", principals=frozenset({"everyone", "group:hr"}))
    insider = retriever(services).search("Zanzibar salary bands", entitlements=hr).hits
    assert insider[0].external_id == "bands"
