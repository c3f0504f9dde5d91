"""Alembic environment: the connection comes from ``core.db.upgrade_to_head`` (which takes
its URL from Settings) or, for the alembic CLI, from CLEARANCE_DATABASE_URL via Settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from core.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from core.db import make_engine
        from core.settings import Settings

        engine = make_engine(Settings().sql_url)
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
