"""Storage: the only place that speaks SQL. It hands out domain objects, never rows.

Upper layers use `Database` for sessions and migrations and `sparkjobs.store.repo`
for every read and write; `Session` is re-exported so they can annotate without
importing SQLAlchemy.
"""

from sqlalchemy.orm import Session as Session

from sparkjobs.store.db import Database as Database

__all__ = ["Database", "Session"]
