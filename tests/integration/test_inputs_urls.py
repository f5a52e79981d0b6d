"""fetch_url against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sparkjobs import errors
from sparkjobs.inputs.urls import fetch_url

WORDS = b"to be or not to be\n" * 100
WORDS_SHA = hashlib.sha256(WORDS).hexdigest()
BIG = b"x" * (256 * 1024)
LIMIT = 64 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[str]
    release: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {"Content-Length": str(len(body))}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        routes = {
            "/files/words.txt": lambda: self._send(200, WORDS),
            "/big.bin": lambda: self._send(200, BIG),
            "/big-no-length.bin": lambda: self._send(200, BIG, {"Connection": "close"}),
            "/go": lambda: self._send(
                302, b"", {"Location": "/files/words.txt", "Content-Length": "0"}
            ),
            "/go-ftp": lambda: self._send(
                302, b"", {"Location": "ftp://127.0.0.1/x", "Content-Length": "0"}
            ),
            "/slow.txt": self._slow,
        }
        path = self.path.split("?", 1)[0]
        if path.startswith("/named/"):
            routes[path] = routes["/files/words.txt"]
        routes.get(path, lambda: self._send(404, b"no such file"))()

    def _slow(self) -> None:
        self.server.release.wait(timeout=10)  # longer than the client's timeout
        self._send(200, WORDS)


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.requests, httpd.release = [], threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _url(server: _Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _fetch(server: _Server, cache: Path, path: str, **kw: object) -> Path:
    return fetch_url(_url(server, path), cache_dir=cache, max_bytes=LIMIT, timeout_s=5, **kw)  # type: ignore[arg-type]


def _cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def test_with_checksum_downloads_once(server: _Server, tmp_path: Path) -> None:
    path = _fetch(server, tmp_path, "/files/words.txt", sha256=WORDS_SHA.upper())
    assert path == tmp_path / WORDS_SHA / "words.txt"
    assert path.read_bytes() == WORDS
    again = _fetch(server, tmp_path, "/files/words.txt", sha256=WORDS_SHA)
    assert again == path
    assert server.requests == ["/files/words.txt"]  # the second came from the cache
    assert _cache_files(tmp_path) == [path]


def test_without_checksum_downloads_every_time(server: _Server, tmp_path: Path) -> None:
    first = _fetch(server, tmp_path, "/files/words.txt")
    second = _fetch(server, tmp_path, "/files/words.txt")
    assert first == second == tmp_path / WORDS_SHA / "words.txt"
    assert server.requests == ["/files/words.txt", "/files/words.txt"]
    assert _cache_files(tmp_path) == [first]


def test_wrong_checksum_fails_and_caches_nothing(server: _Server, tmp_path: Path) -> None:
    wrong = "0" * 64
    with pytest.raises(errors.InputError) as info:
        _fetch(server, tmp_path, "/files/words.txt", sha256=wrong)
    assert f"expected sha256 {wrong}" in str(info.value)
    assert f"got {WORDS_SHA}" in str(info.value)
    assert _cache_files(tmp_path) == []


def test_not_found(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="answered 404 Not Found"):
        _fetch(server, tmp_path, "/nope.txt")
    assert _cache_files(tmp_path) == []


@pytest.mark.parametrize("path", ["/big.bin", "/big-no-length.bin"])
def test_larger_than_the_limit(server: _Server, tmp_path: Path, path: str) -> None:
    with pytest.raises(errors.InputError, match=f"larger than {LIMIT} bytes"):
        _fetch(server, tmp_path, path)
    assert _cache_files(tmp_path) == []


def test_slow_server_times_out(server: _Server, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(errors.InputError, match="timed out after 1 s"):
        fetch_url(_url(server, "/slow.txt"), cache_dir=tmp_path, max_bytes=LIMIT, timeout_s=1)
    assert time.monotonic() - started < 5
    assert _cache_files(tmp_path) == []


def test_redirects(server: _Server, tmp_path: Path) -> None:
    path = _fetch(server, tmp_path, "/go")
    assert path.read_bytes() == WORDS and path.name == "go"  # named after the URL asked for
    with pytest.raises(errors.InputError, match="ftp"):
        _fetch(server, tmp_path, "/go-ftp")


def test_connection_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="could not download"):
        fetch_url("http://127.0.0.1:1/a.txt", cache_dir=tmp_path, max_bytes=LIMIT, timeout_s=2)


def test_password_in_url_never_in_the_error(server: _Server, tmp_path: Path) -> None:
    url = _url(server, "/nope.txt").replace("http://", "http://bob:hunter2@")
    with pytest.raises(errors.InputError) as info:
        fetch_url(url, cache_dir=tmp_path, max_bytes=LIMIT, timeout_s=5)
    assert "hunter2" not in str(info.value) and "bob:***@" in str(info.value)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/named/words.txt?version=2", "words.txt"),
        ("/named/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd"),
        ("/named/%2E%2E", "download"),
        ("/named/", "download"),
        ("/named/app%20v1.py", "app_v1.py"),
    ],
)
def test_file_name_is_made_safe(server: _Server, tmp_path: Path, path: str, name: str) -> None:
    fetched = _fetch(server, tmp_path, path)
    assert fetched == tmp_path / WORDS_SHA / name
    assert fetched.read_bytes() == WORDS
