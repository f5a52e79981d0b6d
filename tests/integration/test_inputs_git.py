"""fetch_git against a real repository served by `git daemon` on 127.0.0.1."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sparkjobs import errors
from sparkjobs.inputs.git import GitResult, fetch_git
from sparkjobs.jobs import GitSource
from tests.support import free_port

PY = shlex.quote(sys.executable)
BUILD_PY = """\
import pathlib, sys
pathlib.Path("out").mkdir()
pathlib.Path("out/app.py").write_text("print('built')\\n")
if len(sys.argv) > 1:
    with open(sys.argv[1], "a") as counter:
        counter.write("built\\n")
print("build done")
"""
FAIL_PY = "import sys\nprint('compiling...')\nprint('error: it broke')\nsys.exit(3)\n"
SLOW_PY = "import time\nprint('working', flush=True)\ntime.sleep(60)\n"
ENV_PY = "import os\nfor k in sorted(os.environ):\n    print('ENV', k, os.environ[k])\n"


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@dataclass
class Served:
    url: str
    repo: Path
    commits: dict[str, str]
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, "git daemon exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("git daemon did not start listening")


def _make_repo(repo: Path) -> dict[str, str]:
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    files = {"jobs/wc.py": "print('v1')\n", "build.py": BUILD_PY, "fail.py": FAIL_PY}
    files |= {"slow.py": SLOW_PY, "env.py": ENV_PY}
    c1 = _commit(repo, files, "first")
    _git(repo, "tag", "-a", "v1", "-m", "release 1")
    _git(repo, "tag", "light")
    (repo / "escape.py").symlink_to("/etc/hostname")
    c2 = _commit(repo, {"jobs/wc.py": "print('v2')\n"}, "second")
    _git(repo, "checkout", "-q", "-b", "feature")
    c3 = _commit(repo, {"jobs/wc.py": "print('feature')\n"}, "third")
    _git(repo, "checkout", "-q", "main")
    return {"v1": c1, "main": c2, "feature": c3}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    base = tmp_path / "srv"
    commits = _make_repo(base / "app")
    port = free_port()
    argv = ["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all"]
    argv += [f"--port={port}", "--listen=127.0.0.1", "--informative-errors"]
    proc = subprocess.Popen(argv, start_new_session=True, stderr=subprocess.DEVNULL)
    served = Served(f"git://127.0.0.1:{port}/app", base / "app", commits, proc)
    try:
        _wait_listening(port, proc)
        yield served
    finally:
        served.stop()


class Fetcher:
    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.lines: list[str] = []

    def __call__(self, source: GitSource, **kw: Any) -> GitResult:
        options: dict[str, Any] = {"allow_local": False, "timeout_s": 30, "build_timeout_s": 30}
        options |= kw
        return fetch_git(source, cache_dir=self.cache, log=self.lines.append, **options)


@pytest.fixture
def fetch(tmp_path: Path) -> Fetcher:
    return Fetcher(tmp_path / "cache")


def _source(served: Served, **fields: Any) -> GitSource:
    return GitSource.model_validate({"repo": served.url, "path": "jobs/wc.py", **fields})


@pytest.mark.parametrize(
    ("ref", "commit", "text"),
    [
        ("v1", "v1", "print('v1')\n"),  # annotated tag: the commit, not the tag object
        ("light", "v1", "print('v1')\n"),  # lightweight tag
        ("main", "main", "print('v2')\n"),
        ("feature", "feature", "print('feature')\n"),
        ("refs/heads/feature", "feature", "print('feature')\n"),
    ],
)
def test_fetch_at_a_ref(served: Served, fetch: Fetcher, ref: str, commit: str, text: str) -> None:
    result = fetch(_source(served, ref=ref))
    assert result.commit == served.commits[commit]
    assert result.path.read_text() == text
    assert result.path.name == "wc.py"
    assert any(served.commits[commit] in line for line in fetch.lines)


def test_fetch_at_a_commit_then_from_the_cache_without_the_server(
    served: Served, fetch: Fetcher
) -> None:
    source = _source(served, ref=served.commits["v1"])
    first = fetch(source)
    assert first.commit == served.commits["v1"] and first.path.read_text() == "print('v1')\n"
    served.stop()
    second = fetch(source)  # no git process could reach the server now
    assert second == first


def test_a_branch_is_resolved_again_but_its_checkout_is_reused(
    served: Served, fetch: Fetcher
) -> None:
    first = fetch(_source(served, ref="main"))
    first.path.with_name("marker").write_text("same checkout")
    second = fetch(_source(served, ref="main"))
    assert second == first and second.path.with_name("marker").exists()
    assert any("using the cached checkout" in line for line in fetch.lines)
    new = _commit(served.repo, {"jobs/wc.py": "print('v3')\n"}, "fourth")
    third = fetch(_source(served, ref="main"))  # the branch moved: the new commit is fetched
    assert third.commit == new and third.path.read_text() == "print('v3')\n"


def test_abbreviated_commit_falls_back_to_a_full_fetch(served: Served, fetch: Fetcher) -> None:
    result = fetch(_source(served, ref=served.commits["v1"][:10]))
    assert result.commit == served.commits["v1"]
    assert result.path.read_text() == "print('v1')\n"


@pytest.mark.parametrize("ref", ["no-such-branch", "0123456789abcdef"])
def test_missing_ref(served: Served, fetch: Fetcher, ref: str) -> None:
    with pytest.raises(errors.InputError, match=f"ref '{ref}' not found"):
        fetch(_source(served, ref=ref))
    _assert_no_checkout(fetch.cache)


def test_missing_repository_leaves_nothing(served: Served, fetch: Fetcher) -> None:
    source = GitSource(repo=served.url + "-missing", path="a.py")
    with pytest.raises(errors.InputError, match="git ls-remote failed"):
        fetch(source)
    with pytest.raises(errors.InputError):
        fetch(source.model_copy(update={"ref": "a" * 40}))  # straight to the fetch
    _assert_no_checkout(fetch.cache)


def test_missing_path(served: Served, fetch: Fetcher) -> None:
    with pytest.raises(errors.InputError, match=r"'nope\.py' does not exist"):
        fetch(_source(served, path="nope.py"))


def test_symlink_out_of_the_checkout_is_refused(served: Served, fetch: Fetcher) -> None:
    with pytest.raises(errors.InputError, match="outside the repository"):
        fetch(_source(served, ref="main", path="escape.py"))


def _assert_no_checkout(cache: Path) -> None:
    leftovers = [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
    assert leftovers == []


# --- shell metacharacters and git's command-running syntax -------------------------------


@pytest.mark.parametrize(
    "ref", ["$(touch {m})", "main; touch {m}", "main && touch {m}", "`touch {m}`"]
)
def test_shell_in_a_ref_is_refused_and_would_be_harmless(
    served: Served, fetch: Fetcher, tmp_path: Path, ref: str
) -> None:
    marker = tmp_path / "x"
    bad_ref = ref.format(m=marker)
    with pytest.raises(ValidationError, match="ref"):
        _source(served, ref=bad_ref)
    # Even past validation (it is the first line of defence, not the only one):
    unchecked = GitSource.model_construct(repo=served.url, ref=bad_ref, path="jobs/wc.py")
    with pytest.raises(errors.InputError):
        fetch(unchecked)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("repo", "ref"),
    [
        ("-upload-pack=touch {m}", "main"),
        ("--upload-pack=touch {m}", "main"),
        ("ext::sh -c touch% {m}", "main"),
        ("ext::sh -c 'touch {m}'", "main"),
        ("{url}", "--upload-pack=touch {m}"),
        ("{url}", "-upload-pack=touch {m}"),
    ],
)
def test_option_and_ext_injection_is_refused_and_would_be_harmless(
    served: Served, fetch: Fetcher, tmp_path: Path, repo: str, ref: str
) -> None:
    marker = tmp_path / "x"
    repo, ref = repo.format(m=marker, url=served.url), ref.format(m=marker)
    with pytest.raises(ValidationError):
        GitSource(repo=repo, ref=ref, path="a.py")
    unchecked = GitSource.model_construct(repo=repo, ref=ref, path="a.py")
    for allow_local in (False, True):
        with pytest.raises(errors.InputError):
            fetch(unchecked, allow_local=allow_local)
    assert not marker.exists()


def test_local_repositories_only_when_allowed(served: Served, fetch: Fetcher) -> None:
    for repo in (f"file://{served.repo}", str(served.repo)):
        source = GitSource(repo=repo, ref="v1", path="jobs/wc.py")
        with pytest.raises(errors.InputError, match="on the server itself"):
            fetch(source)
        assert fetch(source, allow_local=True).commit == served.commits["v1"]


# --- builds ---------------------------------------------------------------------------


def test_build_runs_without_a_shell_and_is_cached(
    served: Served, fetch: Fetcher, tmp_path: Path
) -> None:
    counter = tmp_path / "builds.txt"
    build = f"{PY} build.py {shlex.quote(str(counter))}"
    source = _source(served, ref="v1", build=build, output="out/app.py")
    result = fetch(source)
    assert result.path.read_text() == "print('built')\n"
    assert result.commit == served.commits["v1"]
    assert "build: build done" in fetch.lines
    assert fetch(source) == result
    assert counter.read_text() == "built\n"  # the second fetch reused the built result
    plain = fetch(_source(served, ref="v1"))  # the clean checkout was not built in
    assert not (plain.path.parents[1] / "out").exists()


def test_failed_build(served: Served, fetch: Fetcher) -> None:
    source = _source(served, ref="v1", build=f"{PY} fail.py", output="out/app.py")
    with pytest.raises(errors.InputError, match="build failed with exit code 3") as info:
        fetch(source)
    assert "error: it broke" in str(info.value)
    assert "build: compiling..." in fetch.lines
    assert not [p for p in fetch.cache.rglob("*-build-*")]


def test_build_timeout(served: Served, fetch: Fetcher) -> None:
    source = _source(served, ref="v1", build=f"{PY} slow.py", output="out/app.py")
    started = time.monotonic()
    with pytest.raises(errors.InputError, match="build timed out after 1 s"):
        fetch(source, build_timeout_s=1)
    assert time.monotonic() - started < 15
    assert "build: working" in fetch.lines


def test_build_without_its_output(served: Served, fetch: Fetcher) -> None:
    source = _source(served, ref="v1", build=f"{PY} -c pass", output="out/app.py")
    with pytest.raises(errors.InputError, match=r"does not exist .* after the build"):
        fetch(source)
    assert not [p for p in fetch.cache.rglob("*-build-*")]


def test_build_that_cannot_start(served: Served, fetch: Fetcher) -> None:
    source = _source(served, ref="v1", build="no-such-command-xyz", output="o")
    with pytest.raises(errors.InputError, match="could not start 'no-such-command-xyz'"):
        fetch(source)


def test_build_never_sees_server_secrets(
    served: Served, fetch: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARKJOBS_SECRET_KEY", "server-key-value")
    monkeypatch.setenv("SPARKJOBS_ADMIN_TOKEN", "admin-token-value")
    source = _source(served, ref="v1", build=f"{PY} env.py", path="jobs/wc.py")
    fetch(source)
    printed = [line for line in fetch.lines if line.startswith("build: ENV ")]
    assert any(line.startswith("build: ENV PATH ") for line in printed)
    assert not [line for line in printed if "SPARKJOBS" in line or "value" in line]
