"""The database: one engine, short sessions, and migrations to the newest schema.

SQLite (the default) runs in WAL mode so readers never wait for the one writer;
PostgreSQL serves several server processes at once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from sparkjobs import errors

MIGRATIONS = Path(__file__).with_name("migrations")
#: PostgreSQL advisory lock key that lets one server at a time migrate ("SPJB").
MIGRATION_LOCK = 0x53504A42
BUSY_TIMEOUT_MS = 10_000
#: Alembic keeps the running migration in module globals (alembic.context, alembic.op),
#: so one thread at a time per process may migrate, whichever database it migrates.
_ALEMBIC = threading.Lock()


class Database:
    """An engine for one database URL (which may hold a password: do not print it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = _parse(url)
        if parsed.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(parsed)
        else:
            self.engine = sa.create_engine(parsed, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect_name(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on an exception.

        Keep it short. On SQLite the first write takes the database's one write lock
        until the session ends (others wait up to 10 s), and reads before it see the
        newest committed data rather than a snapshot; state changes are safe anyway,
        being compare-and-set.
        """
        with self._sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration; a no-op when it is there already.

        The whole upgrade runs in one transaction that first takes a lock, so two
        servers starting at once migrate one after the other, and the second finds
        nothing left to do.
        """
        config = _alembic_config()
        with _ALEMBIC, self.engine.begin() as conn:
            _lock_for_migration(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _parse(url: str) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise errors.Invalid(
            "the database URL is not valid; use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
            field="database_url",
        ) from exc
    if parsed.drivername in {"postgres", "postgresql"}:
        # psycopg 3 is the driver we ship; a bare postgresql:// may mean psycopg2.
        return parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise errors.Invalid(
            f"database '{backend}' is not supported; use sqlite:///PATH or postgresql://...",
            field="database_url",
        )
    return parsed


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    if in_memory:
        # One connection, shared by every thread, keeps the database alive across sessions.
        extra = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = sa.create_engine(url, **extra)
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # When two processes open a new database at once, one switch to WAL fails at
    # once with "database is locked": SQLite does not apply busy_timeout there.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _alembic_config() -> Config:
    config = Config()
    # Config values go through configparser interpolation: escape '%'.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def _lock_for_migration(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Held until this transaction ends, i.e. until the migration is committed.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        # The Python driver does not begin a transaction before DDL; begin one that
        # holds SQLite's write lock, so the schema changes all at once or not at all.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
