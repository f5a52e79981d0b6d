"""The artifact store on disk (sparkjobs.inputs.artifacts): names, hashing, limits, sharing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sparkjobs import errors, jobs
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["app.py", "word count.py", "a-b_c.1.jar", "ünïcode.py", ".hidden.py"]
)
def test_plain_names_pass(name: str) -> None:
    assert artifacts.check_filename(name) == name


@pytest.mark.parametrize(
    "name",
    [None, "", ".", "..", "../x.py", "a/b.py", "/abs.py", "a\\b.py", "-rf", "nul\0.py",
     "tab\t.py", "new\nline.py", "x" * 256],
)  # fmt: skip
def test_dangerous_names_are_refused(name: str | None) -> None:
    with pytest.raises(errors.Invalid) as caught:
        artifacts.check_filename(name)
    assert caught.value.field == "file"


def test_new_ids_fit_the_artifact_source_pattern() -> None:
    ids = {artifacts.new_artifact_id() for _ in range(100)}
    assert len(ids) == 100
    for artifact_id in ids:
        jobs.ArtifactSource(id=artifact_id)


def chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def stray_files(settings: Settings) -> list[Path]:
    return [p for p in settings.artifacts_dir.rglob("*") if p.is_file()]


def test_save_hashes_and_stores_by_content(settings: Settings) -> None:
    data = b"print('hello')\n" * 10
    sha256, size, path = artifacts.save_upload(settings, "app.py", chunks(data))
    assert (sha256, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert path == settings.artifacts_dir / sha256[:2] / sha256 / "app.py"
    assert path.read_bytes() == data
    assert stray_files(settings) == [path]  # no temporary file left behind
    artifact = jobs.Artifact(
        id="a" * 16, filename="app.py", sha256=sha256, size=size, created_at=NOW
    )
    assert artifacts.artifact_path(settings, artifact) == path


def test_too_large_keeps_nothing(settings: Settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 10})
    assert artifacts.save_upload(small, "ok.py", chunks(b"x" * 10))[1] == 10
    with pytest.raises(errors.UploadTooLarge):
        artifacts.save_upload(small, "big.py", chunks(b"y" * 11))
    assert [p.name for p in stray_files(small)] == ["ok.py"]


def test_a_failing_stream_keeps_nothing(settings: Settings) -> None:
    def broken() -> Iterator[bytes]:
        yield b"part"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        artifacts.save_upload(settings, "app.py", broken())
    assert stray_files(settings) == []


def test_remove_content_keeps_files_still_used(settings: Settings) -> None:
    sha256, size, path = artifacts.save_upload(settings, "app.py", chunks(b"same"))
    one, two = (
        jobs.Artifact(id=i * 16, filename="app.py", sha256=sha256, size=size, created_at=NOW)
        for i in "ab"
    )
    artifacts.remove_content(settings, one, [two])
    assert path.exists()
    artifacts.remove_content(settings, two, [])
    assert not path.exists() and not path.parent.exists()
    assert not (settings.artifacts_dir / sha256[:2]).exists()
