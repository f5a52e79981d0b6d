"""Reading a run's log file: all of it, its last lines, or following it as it grows.

What leaves the server is masked (supervisor.masking.masked): decoded as UTF-8
and passed through the run's Redactor.mask_stream, which holds back the end of
each chunk until the next one shows whether a secret continues there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread

BLOCK = 64 * 1024
#: How often a follower looks for new bytes and at the run's state.
FOLLOW_INTERVAL = 0.3


def tail(path: Path, lines: int) -> tuple[bytes, int]:
    """The last `lines` lines of the file and the offset where they end (0, b'' if no file)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return b"", 0
    with f:
        end = f.seek(0, 2)
        pos, buf = end, b""
        # One newline more than asked guarantees the first kept line is whole.
        while pos > 0 and buf.count(b"\n") <= lines:
            step = min(BLOCK, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + buf
    kept = buf.splitlines(keepends=True)[-lines:] if lines else []
    return b"".join(kept), end


def read_from(path: Path, offset: int, limit: int = BLOCK) -> bytes:
    """Up to `limit` bytes from `offset` (b'' when there are none or no file)."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(limit)
    except FileNotFoundError:
        return b""


def snapshot(path: Path, lines: int | None) -> Iterator[bytes]:
    """The file as it is now: all of it, or its last `lines` lines."""
    if lines is not None:
        yield tail(path, lines)[0]
        return
    offset = 0
    while chunk := read_from(path, offset):
        offset += len(chunk)
        yield chunk


async def follow(
    path: Path,
    lines: int | None,
    finished: Callable[[], Awaitable[bool]],
    *,
    interval: float = FOLLOW_INTERVAL,
) -> AsyncIterator[bytes]:
    """Yield the file's bytes as they are appended, until `finished()` and the file is drained.

    The state is checked before each read: bytes written before the run ended
    are therefore read after it is seen ended, and none are lost.
    """
    head, offset = (b"", 0) if lines is None else await anyio.to_thread.run_sync(tail, path, lines)
    if head:
        yield head
    while True:
        done = await finished()
        while chunk := await anyio.to_thread.run_sync(read_from, path, offset):
            offset += len(chunk)
            yield chunk
        if done:
            return
        await anyio.sleep(interval)


def blocking(chunks: AsyncIterator[bytes]) -> Iterator[bytes]:
    """An async iterator, read from a worker thread of anyio's (where Starlette iterates
    a response body that is a plain iterator): mask_stream pulls, it cannot be pushed to."""
    while True:
        try:
            yield anyio.from_thread.run(_next, chunks)
        except StopAsyncIteration:
            return


async def _next(chunks: AsyncIterator[bytes]) -> bytes:
    return await anext(chunks)
