"""The SQLAlchemy engine and session factory, and the migration entry point."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """SQLite (the embedded default) or PostgreSQL via psycopg 3, from a URL."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.sql_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with sessions() as session, session.begin():
        yield session


class _Keyed(Protocol):
    id: Any


Row = TypeVar("Row", bound=_Keyed)


def lock_for_writing(session: Session) -> None:
    """Make the reads that follow safe to write back: nothing another transaction commits
    in between can be overwritten. Call it first in a read-then-write transaction, and
    add FOR UPDATE to its reads (``rows_for_update`` does both).

    PostgreSQL needs nothing more than FOR UPDATE's row locks. SQLite has no row locks,
    and pysqlite begins a transaction only at the first write, so a read-then-write could
    overwrite a change committed in between (a deleted document re-activated, a newer
    version replaced by an older one): there the database's write lock is taken now, with
    BEGIN IMMEDIATE, which waits out the busy timeout like any writer
    (https://www.sqlite.org/lang_transaction.html)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def rows_for_update(session: Session, model: type[Row], ids: Collection[str],
                    ) -> dict[str, Row]:
    """These rows by id, locked until the session's transaction ends (``lock_for_writing``);
    in id order, so two writers cannot deadlock on PostgreSQL."""
    if not ids:
        return {}
    lock_for_writing(session)
    key: InstrumentedAttribute[Any] = model.id
    statement = (select(model).where(key.in_(list(ids))).order_by(key)
                 .with_for_update().execution_options(populate_existing=True))
    return {row.id: row for row in session.scalars(statement)}


def upgrade_to_head(engine: Engine) -> None:
    """Apply every Alembic revision to the database behind ``engine``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
