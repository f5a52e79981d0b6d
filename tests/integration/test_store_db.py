"""The database itself: URLs, SQLite settings, sessions and migrations."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from sparkjobs import errors
from sparkjobs.store import Database, repo
from sparkjobs.store.db import MIGRATIONS
from sparkjobs.store.tables import Base

TABLES = {"alembic_version", *Base.metadata.tables}
#: The newest migration: every fresh or upgraded database must end there.
HEAD = [ScriptDirectory(str(MIGRATIONS)).get_current_head()]


@pytest.fixture
def fresh(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def head(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def test_migrate_creates_the_schema_and_twice_is_a_no_op(fresh: Database) -> None:
    fresh.migrate()
    with fresh.session() as s:
        repo.set_value(s, "kept", "yes")
    fresh.migrate()
    assert set(sa.inspect(fresh.engine).get_table_names()) == TABLES
    assert head(fresh) == HEAD
    with fresh.session() as s:
        assert repo.get_value(s, "kept") == "yes"


def test_migrations_build_exactly_the_tables_the_code_declares(fresh: Database) -> None:
    fresh.migrate()
    with fresh.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


MIGRATE_WHEN_TOLD = """
import sys, time
from pathlib import Path
from sparkjobs.store import Database

db = Database(sys.argv[1])
Path(sys.argv[2]).touch()
go = Path(sys.argv[3])
for _ in range(600):
    if go.exists():
        break
    time.sleep(0.01)
db.migrate()
"""


def test_two_servers_migrating_at_once_both_succeed(db_url: str, tmp_path: Path) -> None:
    # Two processes, as two servers would be, released together once both are ready.
    go, ready = tmp_path / "go", [tmp_path / "ready0", tmp_path / "ready1"]
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", MIGRATE_WHEN_TOLD, db_url, str(flag), str(go)],
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for flag in ready
        ]
        for server in servers:
            stack.callback(server.kill)
        for _ in range(3000):
            if all(flag.exists() for flag in ready):
                break
            time.sleep(0.01)
        go.touch()
        results = [(server.communicate(timeout=60)[1], server.returncode) for server in servers]
    assert results == [("", 0), ("", 0)]
    db = Database(db_url)
    try:
        assert head(db) == HEAD
    finally:
        db.dispose()


def test_session_commits_on_success_and_rolls_back_on_error(fresh: Database) -> None:
    fresh.migrate()
    with pytest.raises(RuntimeError), fresh.session() as s:
        repo.set_value(s, "lost", "1")
        raise RuntimeError("boom")
    with fresh.session() as s:
        repo.set_value(s, "kept", "1")
    with fresh.session() as s:
        assert (repo.get_value(s, "lost"), repo.get_value(s, "kept")) == (None, "1")


def test_sqlite_gets_its_directory_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new' / 'dir' / 'x.db'}")
    try:
        with db.engine.connect() as conn:
            pragmas = [
                conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
        assert pragmas == ["wal", 1, 10_000]
        assert db.dialect_name == "sqlite"
        assert (tmp_path / "new" / "dir" / "x.db").exists()
    finally:
        db.dispose()


def test_in_memory_sqlite_keeps_its_data_across_sessions() -> None:
    db = Database("sqlite://")
    try:
        db.migrate()
        with db.session() as s:
            repo.set_value(s, "k", "v")
        with db.session() as s:
            assert repo.get_value(s, "k") == "v"
    finally:
        db.dispose()


def test_plain_postgresql_url_uses_psycopg(postgres_url: str) -> None:
    plain = sa.make_url(postgres_url).set(drivername="postgresql")
    db = Database(plain.render_as_string(hide_password=False))
    try:
        assert db.engine.url.drivername == "postgresql+psycopg"
        assert db.dialect_name == "postgresql"
        db.migrate()
        assert head(db) == HEAD
    finally:
        db.dispose()


@pytest.mark.parametrize("url", ["not a url", "mysql://u:p@localhost/db"])
def test_unsupported_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        Database(url)
    assert caught.value.field == "database_url"
    assert ":p@" not in caught.value.message
