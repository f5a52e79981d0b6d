"""Helpers for the input caches: nothing appears in a cache until it is whole.

Everything is built in a temp file or directory inside the cache directory
(so the final rename stays on one file system, where it is atomic) and renamed
into place at the end; whatever fails on the way leaves no trace.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]+")
MAX_NAME = 128


def key_of(text: str) -> str:
    """A short, file-name-safe key for any text (a repo URL, a build command)."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def safe_name(raw: str, fallback: str = "download") -> str:
    """A harmless file name from a URL path's last segment; keeps the suffix if it can."""
    name = _UNSAFE.sub("_", unquote(raw.rsplit("/", 1)[-1])).lstrip(".-")
    if len(name) > MAX_NAME:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: MAX_NAME - len(suffix) - 1] + dot + suffix) if dot else name[:MAX_NAME]
    return name or fallback


@contextmanager
def temp_dir(cache_dir: Path, prefix: str) -> Iterator[Path]:
    """A fresh directory inside cache_dir, removed at exit unless renamed away."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=cache_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def place_dir(tmp: Path, final: Path) -> Path:
    """Rename the finished directory tmp to final; if another process won, keep theirs."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(final)
    except OSError:
        if not final.is_dir():
            raise
    return final
