"""What the indexing steps need, built once per process from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import Settings
from core.db import engine_for, session_factory, upgrade_to_head
from index.embed import Embedder, create_embedder
from index.store import VectorStore, create_store


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: VectorStore
    embedder: Embedder

    def close(self) -> None:
        self.store.close()
        self.engine.dispose()


def build_services(settings: Settings, *, embedder: Embedder | None = None,
                   migrate: bool = True) -> Services:
    """Open SQL (migrated to head), the vector store and the embedder, all warmed up."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings)
    if migrate:
        upgrade_to_head(engine)
    embedder = embedder or create_embedder(settings)
    embedder.warm_up()
    store = create_store(settings, dimensions=embedder.dimensions)
    try:
        store.warm_up()
    except Exception:
        engine.dispose()
        raise
    return Services(settings=settings, engine=engine, sessions=session_factory(engine),
                    store=store, embedder=embedder)
