"""Job inputs as a user meets them: the real server (`sparkjobs serve`), real spark-submit,
a git repository served by `git daemon` and files served over HTTP, both on 127.0.0.1.

Three applications reach spark-submit: one from git at a tag and one at a commit (neither
starts a SparkContext: ~2 s each), and one from a URL that reads an uploaded file through
Spark and prints its variables (~10 s). Two more runs fail before spark-submit (a wrong
checksum, a 404). Shell text in args is covered by test_cli.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support import free_port

if TYPE_CHECKING:
    from conftest import CliServer

pytestmark = pytest.mark.xdist_group("cli-e2e")  # one server for the module

RUN_TIMEOUT = 180
TOKEN = "cli-e2e-token-3b9c"  # conftest.CLI_TOKEN
SECRETS = {
    "API_KEY": "api-key-Jf83Kq",
    "CACHE_PASSWORD": "cache-pw-Lz61Rt",
    "RUN_SECRET": "run-secret-Wd27Np",
}

APP_PY = """\
import os
from pyspark import SparkFiles
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
lines = spark.sparkContext.textFile("file://" + SparkFiles.get("data.txt")).count()
print(f"lines={lines}")
with open("data.txt") as f:  # the same file, by name, in the working directory
    print("first=" + f.readline().strip())
for name in ("GREETING", "CACHE_HOST", "API_KEY", "CACHE_PASSWORD", "RUN_SECRET"):
    print(f"{name}={os.environ.get(name)}")
spark.stop()
"""


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class GitServed:
    url: str
    commits: dict[str, str]


def _commit(work: Path, text: str, message: str) -> str:
    (work / "jobs").mkdir(exist_ok=True)
    (work / "jobs" / "hello.py").write_text(f"print({text!r})\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)
    return _git(work, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def git_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServed]:
    """A bare repository (tag v1, then one more commit) served by `git daemon`."""
    base = tmp_path_factory.mktemp("git")
    work = base / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    first = _commit(work, "hello from v1", "first")
    _git(work, "tag", "-a", "v1", "-m", "release 1")
    second = _commit(work, "hello from v2", "second")
    _git(base, "clone", "-q", "--bare", str(work), str(base / "srv" / "app.git"))
    port = free_port()
    argv = ["git", "daemon", "--reuseaddr", f"--base-path={base / 'srv'}", "--export-all"]
    argv += [f"--port={port}", "--listen=127.0.0.1"]
    proc = subprocess.Popen(argv, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"git://127.0.0.1:{port}/app.git"
    try:
        _wait_served(base, url, proc)
        yield GitServed(url, {"v1": first, "second": second})
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_served(cwd: Path, url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, "git daemon exited"
        try:
            _git(cwd, "ls-remote", url)
            return
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    pytest.fail("git daemon did not serve the repository within 15 s")


class _Files(ThreadingHTTPServer):
    files: dict[str, bytes]


class _Handler(BaseHTTPRequestHandler):
    server: _Files

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = self.server.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


@pytest.fixture(scope="module")
def http_served() -> Iterator[str]:
    """/app.py over HTTP on 127.0.0.1; anything else is a 404."""
    server = _Files(("127.0.0.1", 0), _Handler)
    server.files = {"/app.py": APP_PY.encode()}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def api(server: CliServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def apply(server: CliServer, name: str, text: str) -> subprocess.CompletedProcess[str]:
    path = server.apps_dir / f"{name}.yaml"
    path.write_text(text)
    return server.cli("jobs", "apply", "-f", str(path))


def wait(client: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}").json()
        if run["state"] not in {"queued", "starting", "running", "stopping"}:
            return run
        time.sleep(0.3)
    pytest.fail(f"run {run_id} did not end within {RUN_TIMEOUT} s")


def events(client: httpx.Client, run_id: str) -> list[str]:
    return [e["reason"] for e in client.get(f"/api/v1/runs/{run_id}/events").json()]


def test_git_source_at_a_tag_and_at_a_commit(cli_server: CliServer, git_served: GitServed) -> None:
    refused = apply(
        cli_server,
        "bad-ref",
        f"name: bad-ref\nsource: {{type: git, repo: '{git_served.url}', "
        "ref: 'main;touch${IFS}x', path: jobs/hello.py}\n",
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "source.ref" in refused.stderr
    assert "bad-ref" not in ok(cli_server.cli("jobs", "list"))

    with api(cli_server) as client:
        for ref, text in (("v1", "hello from v1"), (git_served.commits["second"], "hello from v2")):
            spec = (
                f"name: from-git\nsource: {{type: git, repo: '{git_served.url}', ref: '{ref}', "
                "path: jobs/hello.py}\n"
            )
            ok(apply(cli_server, "from-git", spec))
            run_id = ok(cli_server.cli("run", "from-git")).strip()
            run = wait(client, run_id)
            log = ok(cli_server.cli("logs", run_id))
            assert run["state"] == "succeeded", (run, log)
            assert text in log
            commit = git_served.commits["v1" if ref == "v1" else "second"]
            assert f"git {git_served.url} at {ref} is commit {commit}" in events(client, run_id)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_url_source_files_env_secrets_and_a_binding_reach_spark_masked(
    cli_server: CliServer, http_served: str
) -> None:
    binding = cli_server.apps_dir / "cache.yaml"
    binding.write_text(
        "name: cache\ndescription: the cache\nenv:\n"
        "  - {name: CACHE_HOST, value: cache.svc}\n"
        f"  - {{name: CACHE_PASSWORD, secret: {SECRETS['CACHE_PASSWORD']}}}\n"
    )
    assert "binding cache created" in ok(cli_server.cli("bindings", "apply", "-f", str(binding)))
    (cli_server.apps_dir / "data.txt").write_text("alpha\nbeta\ngamma\n")
    spec = (
        "name: from-url\n"
        f"source: {{type: url, url: '{http_served}/app.py', sha256: {_sha256(APP_PY)}}}\n"
        "files: [{type: file, path: data.txt}]\n"
        "env:\n  - {name: GREETING, value: hello}\n"
        f"  - {{name: API_KEY, secret: {SECRETS['API_KEY']}}}\n"
        "bindings: [cache]\n"
    )
    ok(apply(cli_server, "from-url", spec))
    with api(cli_server) as client:
        override = [{"name": "RUN_SECRET", "secret": SECRETS["RUN_SECRET"]}]
        started = client.post("/api/v1/jobs/from-url/runs", json={"env": override})
        assert started.status_code == 201, started.text
        run = wait(client, started.json()["id"])
        log = ok(cli_server.cli("logs", run["id"]))
        assert run["state"] == "succeeded", (run, log)
        for line in ("lines=3", "first=alpha", "GREETING=hello", "CACHE_HOST=cache.svc"):
            assert line in log
        for name in SECRETS:
            assert f"{name}=***" in log
        assert client.get(f"/api/v1/runs/{run['id']}/logs").text.count("=***") >= 3
        notes = events(client, run["id"])
        assert "env CACHE_PASSWORD from binding 'cache'" in notes
        assert "env RUN_SECRET from the run's overrides" in notes
        shown = [
            log,
            client.get(f"/api/v1/runs/{run['id']}/logs", params={"tail": 50}).text,
            ok(cli_server.cli("runs", "show", run["id"])),
            ok(cli_server.cli("jobs", "show", "from-url")),
            ok(cli_server.cli("bindings", "show", "cache")),
            ok(cli_server.cli("bindings", "list")),
            client.get("/api/v1/jobs/from-url").text,
        ]
    db_files = [p for p in cli_server.data_dir.iterdir() if p.name.startswith("sparkjobs.db")]
    stored = b"".join(p.read_bytes() for p in db_files)
    assert b"cache.svc" in stored
    for value in SECRETS.values():
        assert all(value not in text for text in shown), value
        assert value.encode() not in stored


def test_a_wrong_checksum_and_a_404_fail_the_run_saying_why(
    cli_server: CliServer, http_served: str
) -> None:
    cases = {
        "bad-sum": (f"{http_served}/app.py", "0" * 64, "does not match: expected sha256"),
        "gone": (f"{http_served}/gone.py", None, "answered 404"),
    }
    with api(cli_server) as client:
        for name, (url, sha256, words) in cases.items():
            checksum = f", sha256: '{sha256}'" if sha256 else ""
            spec = f"name: {name}\nsource: {{type: url, url: '{url}'{checksum}}}\n"
            ok(apply(cli_server, name, spec))
            run_id = ok(cli_server.cli("run", name)).strip()
            run = wait(client, run_id)
            assert run["state"] == "failed", run
            assert words in run["reason"], run
            log = client.get(f"/api/v1/runs/{run_id}/logs").text
            assert "sparkjobs: the run could not start" in log
