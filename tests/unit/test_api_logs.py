"""Reading run logs: tails by table, snapshots, and following a file that grows."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from sparkjobs.api import logs


@pytest.mark.parametrize(
    ("content", "lines", "expected"),
    [
        (b"", 3, b""),
        (b"a\nb\nc\n", 2, b"b\nc\n"),
        (b"a\nb\nc\n", 3, b"a\nb\nc\n"),
        (b"a\nb\nc\n", 10, b"a\nb\nc\n"),
        (b"a\nb\nc", 2, b"b\nc"),
        (b"a\nb\nc\n", 0, b""),
        (b"\n\n\n", 2, b"\n\n"),
        (b"a\r\nb\r\n", 1, b"b\r\n"),
    ],
)
def test_tail_by_table(tmp_path: Path, content: bytes, lines: int, expected: bytes) -> None:
    path = tmp_path / "run.log"
    path.write_bytes(content)
    assert logs.tail(path, lines) == (expected, len(content))


def test_tail_reads_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    long_line = b"x" * (logs.BLOCK + 10)
    path.write_bytes(b"first\n" + long_line + b"\n" + b"last\n")
    assert logs.tail(path, 2)[0] == long_line + b"\nlast\n"
    many = b"".join(b"line %d\n" % i for i in range(50_000))
    path.write_bytes(many)
    assert logs.tail(path, 3)[0] == b"line 49997\nline 49998\nline 49999\n"


def test_missing_file_is_empty(tmp_path: Path) -> None:
    missing = tmp_path / "none.log"
    assert logs.tail(missing, 5) == (b"", 0)
    assert logs.read_from(missing, 0) == b""
    assert list(logs.snapshot(missing, None)) == []


def test_snapshot_is_the_whole_file_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    data = b"y" * (logs.BLOCK * 2 + 7)
    path.write_bytes(data)
    chunks = list(logs.snapshot(path, None))
    assert b"".join(chunks) == data and len(chunks) == 3
    assert list(logs.snapshot(path, 0)) == [b""]


def test_follow_yields_appended_bytes_until_finished_and_drained(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    checks = 0

    async def finished() -> bool:
        # The app writes a line per check and ends at the third; its last line
        # lands right as the end is seen and must still be delivered.
        nonlocal checks
        checks += 1
        with path.open("ab") as f:
            f.write(b"line %d\n" % checks)
        return checks >= 3

    async def collect() -> list[bytes]:
        return [chunk async for chunk in logs.follow(path, None, finished, interval=0.01)]

    chunks = anyio.run(collect)
    assert b"".join(chunks) == b"line 1\nline 2\nline 3\n"
    assert len(chunks) == 3


def test_follow_starts_with_the_tail(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_bytes(b"old 1\nold 2\nold 3\n")

    async def finished() -> bool:
        return True

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in logs.follow(path, 1, finished)])

    assert anyio.run(collect) == b"old 3\n"
