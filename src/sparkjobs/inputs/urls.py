"""Sources and files downloaded over http(s), kept in a content-addressed cache.

Layout: ``cache_dir/<sha256>/<name>``, where name is the URL path's last
segment made safe: spark-submit tells a .py from a .jar by the name, and a job
opens a --files file by it.

Caching (a decision): a URL given with a sha256 is downloaded once; later runs
find ``<sha256>/<name>`` and make no request. A URL without one is downloaded
for every run, because what is behind it may change and a run must get what
the URL serves now; the download still lands in the content-addressed layout,
so identical content is stored once.

A download goes to a temp file in cache_dir, hashed as it arrives, and is
renamed into place only when whole and verified: a cache never holds half a
file or one that failed its checksum. timeout_s bounds the whole download.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from sparkjobs import errors, redact
from sparkjobs.inputs import cache

CHUNK_SIZE = 1024 * 1024
MAX_REDIRECTS = 10


def fetch_url(
    url: str, *, cache_dir: Path, sha256: str | None = None, max_bytes: int, timeout_s: float
) -> Path:
    """The local path of the URL's content; downloads it unless the cache has it.

    Raises errors.InputError naming the cause: a status other than 2xx, a
    timeout, a file larger than max_bytes, a sha256 mismatch, a refused redirect.
    """
    name = cache.safe_name(urlsplit(url).path)
    expected = sha256.lower() if sha256 else None
    if expected and (cache_dir / expected / name).is_file():
        return cache_dir / expected / name
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=cache_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _download(url, out, max_bytes=max_bytes, timeout_s=timeout_s)
        _check_sha256(url, expected, actual)
        final = cache_dir / actual / name
        final.parent.mkdir(exist_ok=True)
        tmp.replace(final)  # atomic: the cache holds all of it or nothing
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def _shown(url: str) -> str:
    return redact.mask_url_passwords(url)


def _check_sha256(url: str, expected: str | None, actual: str) -> None:
    if expected and expected != actual:
        raise errors.InputError(
            f"the checksum of {_shown(url)} does not match: expected sha256 {expected}, "
            f"got {actual}; fix the sha256 of the source or the file behind the URL"
        )


def _download(url: str, out: IO[bytes], *, max_bytes: int, timeout_s: float) -> str:
    """Write the URL's body to out, following http(s) redirects; return its sha256."""
    deadline = time.monotonic() + timeout_s
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", url) as response:
                    if response.next_request is None:
                        _check_response(url, response, max_bytes)
                        return _save(url, response, out, max_bytes, deadline, timeout_s)
                    url = _redirect_target(url, response.next_request)
    except httpx.TimeoutException as exc:
        raise _timed_out(url, timeout_s) from exc
    except httpx.HTTPError as exc:
        reason = redact.mask_url_passwords(str(exc))
        raise errors.InputError(f"could not download {_shown(url)}: {reason}") from exc
    raise errors.InputError(f"{_shown(url)} redirects more than {MAX_REDIRECTS} times")


def _timed_out(url: str, timeout_s: float) -> errors.InputError:
    return errors.InputError(f"downloading {_shown(url)} timed out after {timeout_s:g} s")


def _redirect_target(url: str, request: httpx.Request) -> str:
    if request.url.scheme not in ("http", "https"):
        raise errors.InputError(
            f"{_shown(url)} redirects to a {request.url.scheme}:// URL; only http and https are"
            " followed"
        )
    return str(request.url)


def _check_response(url: str, response: httpx.Response, max_bytes: int) -> None:
    if not response.is_success:
        raise errors.InputError(
            f"downloading {_shown(url)} failed: the server answered "
            f"{response.status_code} {response.reason_phrase}"
        )
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(url, max_bytes)


def _too_large(url: str, max_bytes: int) -> errors.InputError:
    return errors.InputError(
        f"{_shown(url)} is larger than {max_bytes} bytes, the most this server downloads"
    )


def _save(
    url: str,
    response: httpx.Response,
    out: IO[bytes],
    max_bytes: int,
    deadline: float,
    timeout_s: float,
) -> str:
    digest = hashlib.sha256()
    size = 0
    for chunk in response.iter_bytes(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(url, max_bytes)
        if time.monotonic() > deadline:
            raise _timed_out(url, timeout_s)
        digest.update(chunk)
        out.write(chunk)
    out.flush()
    os.fsync(out.fileno())
    return digest.hexdigest()
