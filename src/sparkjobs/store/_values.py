"""Artifacts' records and server-wide key/values."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sparkjobs import errors, jobs
from sparkjobs.store._convert import artifact_row, rowcount, to_artifact
from sparkjobs.store.tables import ArtifactRow, KeyValueRow


def create_artifact(s: Session, artifact: jobs.Artifact) -> jobs.Artifact:
    """Record an uploaded artifact. Raises Conflict when its id is taken."""
    s.add(artifact_row(artifact))
    try:
        s.flush()
    except IntegrityError as exc:
        raise errors.Conflict(f"artifact '{artifact.id}' exists already") from exc
    return artifact


def get_artifact(s: Session, artifact_id: str) -> jobs.Artifact:
    row = s.get(ArtifactRow, artifact_id)
    if row is None:
        raise _artifact_not_found(artifact_id)
    return to_artifact(row)


def list_artifacts(s: Session) -> list[jobs.Artifact]:
    """Every artifact, newest first."""
    query = select(ArtifactRow).order_by(ArtifactRow.created_at.desc(), ArtifactRow.id.desc())
    return [to_artifact(row) for row in s.scalars(query)]


def delete_artifact(s: Session, artifact_id: str) -> None:
    """Forget an artifact's record (the caller checks artifact_users and removes the file)."""
    if rowcount(s.execute(delete(ArtifactRow).where(ArtifactRow.id == artifact_id))) == 0:
        raise _artifact_not_found(artifact_id)


def get_value(s: Session, key: str) -> str | None:
    return s.scalar(select(KeyValueRow.value).where(KeyValueRow.key == key))


def set_value(s: Session, key: str, value: str) -> None:
    """Insert or replace the value of key."""
    if _dialect(s) == "postgresql":
        pg = postgresql.insert(KeyValueRow).values(key=key, value=value)
        s.execute(pg.on_conflict_do_update(index_elements=["key"], set_={"value": value}))
    else:
        lite = sqlite.insert(KeyValueRow).values(key=key, value=value)
        s.execute(lite.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def insert_value_if_absent(s: Session, key: str, value: str) -> bool:
    """Insert key unless it exists; True if this call inserted it. Atomic across servers."""
    if _dialect(s) == "postgresql":
        pg = postgresql.insert(KeyValueRow).values(key=key, value=value)
        inserted = s.execute(pg.on_conflict_do_nothing().returning(KeyValueRow.key))
    else:
        lite = sqlite.insert(KeyValueRow).values(key=key, value=value)
        inserted = s.execute(lite.on_conflict_do_nothing().returning(KeyValueRow.key))
    # Counted by RETURNING: psycopg reports no rowcount for an INSERT.
    return inserted.first() is not None


def _dialect(s: Session) -> str:
    return s.get_bind().dialect.name


def _artifact_not_found(artifact_id: str) -> errors.ArtifactNotFound:
    return errors.ArtifactNotFound(
        f"artifact '{artifact_id}' not found; list artifacts with 'sparkjobs artifacts list'"
    )
