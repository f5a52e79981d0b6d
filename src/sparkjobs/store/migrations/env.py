"""Alembic environment.

Database.migrate() hands over an open connection inside a locked transaction.
Developers can also run the alembic command with store/alembic.ini, e.g.
`alembic -c src/sparkjobs/store/alembic.ini -x url=sqlite:///tmp/x.db revision
--autogenerate -m "what changed"`; review what it writes before committing.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext

from sparkjobs.store.coltypes import UTCDateTime
from sparkjobs.store.tables import Base

DEFAULT_URL = "sqlite:///data/sparkjobs.db"


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url", DEFAULT_URL)


def _render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    # Migrations use plain SQL types, so they never change when an application type does.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(conn: sa.Connection) -> None:
    # Batch mode lets later migrations alter SQLite tables (by copying them).
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    conn = context.config.attributes.get("connection")
    if conn is not None:
        _run(conn)
        return
    from sparkjobs.store.db import Database

    db = Database(_url())
    try:
        with db.engine.begin() as own:
            _run(own)
    finally:
        db.dispose()


def _run_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
