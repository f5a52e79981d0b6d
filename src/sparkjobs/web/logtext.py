"""A run's log as the run page shows it: the file so far, then what was added since.

While the run is active only whole lines are handed out (a line still being
written waits for its end); once it has ended, everything is. `mask` (the run's
Redactor.mask) hides its secrets; whole lines keep a secret in one piece unless
the secret itself spans lines or a line is longer than one poll.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

Mask = Callable[[str], str]

#: The most the run page shows at first; the rest is in the log's text file.
PAGE_BYTES = 2 * 1024 * 1024
#: The most one poll hands out; the next poll follows at once when there is more.
POLL_BYTES = 256 * 1024


@dataclass(frozen=True)
class LogView:
    text: str
    #: Where the text ends in the file: the next poll reads from here.
    offset: int
    #: Bytes at the start of the file left out of `text`.
    omitted: int


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read(path: Path, offset: int, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(limit)
    except FileNotFoundError:
        return b""


def _complete(data: bytes, *, final: bool, full: bool) -> bytes:
    if final and not full:
        return data  # the end of a log that will not grow: all of it
    cut = data.rfind(b"\n") + 1
    if cut:
        return data[:cut]
    return data if full else b""  # one huge line: hand it out in pieces


def chunks(path: Path, block: int = POLL_BYTES) -> Iterator[bytes]:
    """The whole file in blocks (none if there is no file)."""
    offset = 0
    while data := _read(path, offset, block):
        offset += len(data)
        yield data


def since(
    path: Path, offset: int, *, final: bool, limit: int = POLL_BYTES, mask: Mask = str
) -> tuple[str, int]:
    """The text added after `offset` (masked) and the offset after it."""
    data = _read(path, offset, limit)
    kept = _complete(data, final=final, full=len(data) == limit)
    return mask(kept.decode("utf-8", errors="replace")), offset + len(kept)


def first_view(path: Path, *, final: bool, mask: Mask = str) -> LogView:
    """The log's last PAGE_BYTES (all of it, usually), starting at a line."""
    total = size(path)
    start = max(0, total - PAGE_BYTES)
    if start:
        start += _read(path, start, 64 * 1024).find(b"\n") + 1
    text, end = since(path, start, final=final, limit=PAGE_BYTES + 1, mask=mask)
    return LogView(text=text, offset=end, omitted=start)
