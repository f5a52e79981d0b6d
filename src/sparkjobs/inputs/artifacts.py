"""Uploaded artifacts on disk: streamed in, hashed, stored by content.

Layout: ``artifacts_dir/<sha256[:2]>/<sha256>/<filename>``. The directory is the
content's address; the file keeps the uploaded name because spark-submit tells a
Python application from a jar by the file's suffix. A file appears there only
complete (temp file + rename), so a reader never sees half an upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from sparkjobs import errors
from sparkjobs.config import Settings
from sparkjobs.jobs import Artifact

CHUNK_SIZE = 1024 * 1024
MAX_FILENAME_BYTES = 255


def new_artifact_id() -> str:
    """16 lowercase hex characters (matches jobs.ArtifactSource.id)."""
    return secrets.token_hex(8)


def check_filename(filename: str | None) -> str:
    """Return the filename if it is a plain, harmless file name; else raise Invalid.

    Refused rather than cleaned up: a name with a path in it is a mistake the
    user should see, not one we silently repair.
    """
    name = filename or ""
    bad = (
        name in {"", ".", ".."}
        or name.startswith("-")
        or any(c in name for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or len(name.encode()) > MAX_FILENAME_BYTES
    )
    if bad:
        raise errors.Invalid(
            f"filename {name!r} is not allowed: send a plain file name such as 'app.py' "
            "(no '/', '\\', '..', control characters or leading '-', at most 255 bytes)",
            field="file",
        )
    return name


def too_large(limit: int) -> errors.UploadTooLarge:
    return errors.UploadTooLarge(
        f"the upload is larger than this server accepts ({limit} bytes); "
        "ask the admin to raise SPARKJOBS_MAX_UPLOAD_BYTES"
    )


def content_dir(settings: Settings, sha256: str) -> Path:
    return settings.artifacts_dir / sha256[:2] / sha256


def artifact_path(settings: Settings, artifact: Artifact) -> Path:
    """Where the artifact's bytes are on this server."""
    return content_dir(settings, artifact.sha256) / artifact.filename


def save_upload(
    settings: Settings, filename: str, chunks: Iterable[bytes]
) -> tuple[str, int, Path]:
    """Write chunks to the artifact store; return (sha256, size, path).

    Raises UploadTooLarge (and keeps nothing) once more than
    settings.max_upload_bytes arrive.
    """
    name = check_filename(filename)
    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=settings.artifacts_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            sha256, size = _copy_hashing(chunks, out, settings.max_upload_bytes)
        target = content_dir(settings, sha256) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(target)  # atomic: readers see all of it or nothing
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return sha256, size, target


def _copy_hashing(chunks: Iterable[bytes], out: IO[bytes], limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


def remove_content(settings: Settings, artifact: Artifact, remaining: Iterable[Artifact]) -> None:
    """Delete the artifact's file unless another remaining artifact shares it."""
    shared = any(
        a.sha256 == artifact.sha256 and a.filename == artifact.filename
        for a in remaining
        if a.id != artifact.id
    )
    if shared:
        return
    artifact_path(settings, artifact).unlink(missing_ok=True)
    for directory in (
        content_dir(settings, artifact.sha256),
        settings.artifacts_dir / artifact.sha256[:2],
    ):
        with contextlib.suppress(OSError):  # not empty: another name of the same content
            directory.rmdir()
