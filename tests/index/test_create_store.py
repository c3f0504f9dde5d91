"""create_store picks the engine from settings; the server store checks what it finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from qdrant_client import QdrantClient

from core import Settings
from core.errors import StoreUnavailable
from index.store import EdgeStore, QdrantServerStore, create_store


def test_no_qdrant_url_means_the_embedded_edge_shard_under_the_data_dir(tmp_path: Path) -> None:
    store = create_store(Settings(data_dir=tmp_path), 384)
    assert isinstance(store, EdgeStore)
    assert store.path == tmp_path / "edge" and store.dimensions == 384
    assert not (tmp_path / "edge").exists()  # nothing opened before warm_up


def test_memory_url_means_qdrant_client_local_mode() -> None:
    store = create_store(Settings(qdrant_url=":memory:", collection="c1"), 8)
    assert isinstance(store, QdrantServerStore)
    store.warm_up()
    store.warm_up()  # idempotent
    assert store.count(tenant="acme") == 0
    store.close()


def test_server_url_builds_a_remote_client_without_connecting() -> None:
    settings = Settings(qdrant_url="https://127.0.0.1:1", qdrant_api_key=SecretStr("k"))
    store = create_store(settings, 8)
    assert isinstance(store, QdrantServerStore)
    assert store.collection == "clearance_chunks"


def test_unreachable_server_names_the_setting() -> None:
    client = QdrantClient(url="http://127.0.0.1:1", timeout=2, check_compatibility=False)
    store = QdrantServerStore(client, collection="c", dimensions=8)
    with pytest.raises(StoreUnavailable, match="CLEARANCE_QDRANT_URL"):
        store.warm_up()


def test_existing_collection_with_other_dimensions_names_the_fix() -> None:
    client = QdrantClient(location=":memory:")
    QdrantServerStore(client, collection="c", dimensions=8).warm_up()
    with pytest.raises(StoreUnavailable, match="CLEARANCE_COLLECTION"):
        QdrantServerStore(client, collection="c", dimensions=16).warm_up()


@pytest.mark.parametrize("version", ["1.18.2", "1.9.0"])
def test_server_older_than_per_caller_idf_is_refused(version: str) -> None:
    with pytest.raises(StoreUnavailable, match="docker-compose"):
        QdrantServerStore._check_version(version)


@pytest.mark.parametrize("version", ["1.19.0", "1.20.0-dev", "2.0.0", "unknown"])
def test_server_with_per_caller_idf_is_accepted(version: str) -> None:
    QdrantServerStore._check_version(version)
