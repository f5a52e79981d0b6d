"""Keeping an uploaded file as an artifact: checked name, content on disk, record in the store.

The API's upload endpoint and the web form's file fields both come here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from sparkjobs import jobs
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts
from sparkjobs.store import Database, repo


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    while chunk := file.read(artifacts.CHUNK_SIZE):
        yield chunk


def keep_upload(
    settings: Settings, db: Database, filename: str | None, file: IO[bytes]
) -> jobs.Artifact:
    """Store `file` as a new artifact. Raises Invalid (bad name) or UploadTooLarge."""
    checked = artifacts.check_filename(filename)
    sha256, size, _ = artifacts.save_upload(settings, checked, _chunks(file))
    artifact = jobs.Artifact(
        id=artifacts.new_artifact_id(),
        filename=checked,
        sha256=sha256,
        size=size,
        created_at=datetime.now(UTC),
    )
    with db.session() as s:
        return repo.create_artifact(s, artifact)
