"""Sources from git repositories: cloned at a ref, cached per commit, optionally built.

Steps, each a git command run as an argv (never a shell) with a timeout:

1. resolve the ref to a commit with ``git ls-remote`` (a full commit sha needs
   no network: it names itself). Branches move, so a branch is resolved anew
   for every run; what is cached is the commit it points at.
2. a commit in the cache (``cache_dir/<repo key>/<commit>``) is used as it is.
   Else: ``git init``, a shallow ``git fetch --depth 1`` of that commit (or of
   the ref), falling back to a full fetch for servers that refuse to serve a
   commit by its sha; then a checkout, renamed into place only when complete.
3. a ``build`` runs in a copy of the checkout (the clean checkout stays
   reusable), and its result is cached per (commit, build command) once it
   succeeds. A failed clone or build leaves nothing in the cache.

Git runs with prompts off, hooks off, the ext:: transport off, only the
allowed protocols (file only when the admin allows local repositories) and
without the server's SPARKJOBS_* variables. The build gets a small,
explicit environment: no server secrets.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sparkjobs import errors, jobs, redact
from sparkjobs.inputs import cache

Log = Callable[[str], None]

FULL_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
SHORT_SHA = re.compile(r"^[0-9a-fA-F]{4,39}$")
_REF_LINE = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$")
TAIL_LINES = 20
GIT_OPTIONS: tuple[str, ...] = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "protocol.ext.allow=never",
    "-c", "advice.detachedHead=false",
    "-c", "init.defaultBranch=main",
)  # fmt: skip
#: What a build sees of the server's environment; nothing else (no server secrets).
BUILD_ENV_KEYS = (
    "PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME", "MAVEN_OPTS", "SBT_OPTS",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class GitResult:
    #: The file (source.output or source.path) inside the cached checkout.
    path: Path
    #: The full commit sha the ref resolved to; recorded on the run.
    commit: str


def fetch_git(
    source: jobs.GitSource,
    *,
    cache_dir: Path,
    allow_local: bool,
    timeout_s: float,
    build_timeout_s: float,
    log: Log,
) -> GitResult:
    """Check out (and build) source; return its result path and commit.

    Raises errors.InputError naming the cause: a refused repository, a ref
    that does not exist, a failed or timed-out git command or build, a result
    that is missing or points outside the checkout.
    """
    try:
        jobs.check_git_repo_allowed(source.repo, allow_local)
    except errors.Invalid as exc:
        raise errors.InputError(exc.message) from exc
    git = _Git(env=git_env(allow_local), timeout_s=timeout_s, log=log)
    repo_dir = cache_dir / cache.key_of(source.repo)
    checkout, commit = _checkout(git, source, repo_dir)
    argv = source.build_argv
    if argv:
        checkout = _built(checkout, commit, source, argv, build_timeout_s, log)
    return GitResult(path=_result(checkout, source, commit), commit=commit)


def git_env(allow_local: bool) -> dict[str, str]:
    """The environment of every git command: no prompts, only the allowed protocols."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SPARKJOBS_"))}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_ALLOW_PROTOCOL"] = "git:http:https:ssh" + (":file" if allow_local else "")
    env["GIT_SSH_COMMAND"] = os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def build_env() -> dict[str, str]:
    return {k: os.environ[k] for k in BUILD_ENV_KEYS if k in os.environ}


def run_logged(
    argv: list[str], *, cwd: Path | None, env: dict[str, str], timeout_s: float, on_line: Log
) -> tuple[int, bool]:
    """Run argv (no shell), passing each output line to on_line; return (exit code, timed out).

    The process gets its own process group, so a timeout kills whatever it started too.
    """
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(proc.pid)

    timer = threading.Timer(timeout_s, expire)
    timer.start()
    try:
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                on_line(raw.decode(errors="replace").rstrip("\r\n"))
        code = proc.wait()
    finally:
        timer.cancel()
        _kill_group(proc.pid)  # what it left running, or all of it if on_line raised
        proc.wait()
    return code, expired.is_set()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class _Git:
    """Runs git commands with our options, environment and timeout; logs what git says."""

    def __init__(self, *, env: dict[str, str], timeout_s: float, log: Log) -> None:
        self.env, self.timeout_s, self.log = env, timeout_s, log

    def __call__(self, args: list[str], cwd: Path | None, *, quiet: bool = False) -> list[str]:
        """The command's output lines; raises InputError when it fails."""
        code, timed_out, lines = self.attempt(args, cwd, quiet=quiet)
        if timed_out:
            raise errors.InputError(f"git {args[0]} timed out after {self.timeout_s:g} s")
        if code != 0:
            tail = "\n".join(lines[-TAIL_LINES:])
            raise errors.InputError(f"git {args[0]} failed with exit code {code}: {tail}")
        return lines

    def attempt(
        self, args: list[str], cwd: Path | None, *, quiet: bool = False
    ) -> tuple[int, bool, list[str]]:
        lines: list[str] = []

        def on_line(line: str) -> None:
            lines.append(redact.mask_url_passwords(line))
            if not quiet:
                self.log(f"git: {lines[-1]}")

        argv = ["git", *GIT_OPTIONS, *args]
        code, timed_out = run_logged(
            argv, cwd=cwd, env=self.env, timeout_s=self.timeout_s, on_line=on_line
        )
        return code, timed_out, lines


def _shown(source: jobs.GitSource) -> str:
    return f"{redact.mask_url_passwords(source.repo)} at {source.ref!r}"


def _remote_commit(git: _Git, source: jobs.GitSource) -> str | None:
    """The commit the ref names on the server; None for an abbreviated sha (found after a fetch)."""
    if FULL_SHA.fullmatch(source.ref.lower()):
        return source.ref.lower()
    lines = git(
        ["ls-remote", "--", source.repo, source.ref, f"{source.ref}^{{}}"], None, quiet=True
    )
    refs = {m.group(2): m.group(1) for m in map(_REF_LINE.fullmatch, lines) if m}
    for name in (
        source.ref,
        f"refs/{source.ref}",
        f"refs/tags/{source.ref}",
        f"refs/heads/{source.ref}",
    ):
        found = refs.get(f"{name}^{{}}") or refs.get(name)  # a tag's commit, not the tag
        if found:
            return found
    if SHORT_SHA.fullmatch(source.ref):
        return None
    raise errors.InputError(
        f"ref {source.ref!r} not found in {redact.mask_url_passwords(source.repo)}: "
        "check the branch, tag or commit name"
    )


def _checkout(git: _Git, source: jobs.GitSource, repo_dir: Path) -> tuple[Path, str]:
    commit = _remote_commit(git, source)
    if commit and (repo_dir / commit).is_dir():
        git.log(f"git: {_shown(source)} is commit {commit}; using the cached checkout")
        return repo_dir / commit, commit
    git.log(f"git: fetching {_shown(source)}")
    with cache.temp_dir(repo_dir, "clone") as tmp:
        commit = _fetch(git, source, tmp, commit)
        if not (repo_dir / commit).is_dir():
            git(["checkout", "--quiet", "--detach", commit], tmp)
            cache.place_dir(tmp, repo_dir / commit)
    git.log(f"git: {_shown(source)} is commit {commit}")
    return repo_dir / commit, commit


def _fetch(git: _Git, source: jobs.GitSource, tmp: Path, commit: str | None) -> str:
    """Fetch commit (or the ref) into the empty directory tmp; return the full commit sha."""
    git(["init", "--quiet"], tmp)
    git(["remote", "add", "--", "origin", source.repo], tmp)
    want = commit or source.ref
    code, _, _ = git.attempt(
        ["fetch", "--quiet", "--depth", "1", "--no-tags", "--", "origin", want], tmp
    )
    if code == 0:
        return git(
            ["rev-parse", "--verify", "--end-of-options", "FETCH_HEAD^{commit}"], tmp, quiet=True
        )[-1]
    git.log("git: the server would not serve that commit alone; fetching all branches and tags")
    git(["fetch", "--quiet", "--tags", "--", "origin", "+refs/heads/*:refs/remotes/origin/*"], tmp)
    code, _, lines = git.attempt(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{want}^{{commit}}"],
        tmp,
        quiet=True,
    )
    if code != 0 or not lines or not FULL_SHA.fullmatch(lines[-1]):
        raise errors.InputError(
            f"ref {source.ref!r} not found in {redact.mask_url_passwords(source.repo)}: "
            "check the branch, tag or commit name"
        )
    return lines[-1]


def _built(
    checkout: Path, commit: str, source: jobs.GitSource, argv: list[str], timeout_s: float, log: Log
) -> Path:
    """A copy of checkout after running the build in it; cached per (commit, build)."""
    final = checkout.parent / f"{commit}-build-{cache.key_of(source.build or '')}"
    if final.is_dir():
        log(f"build: {source.build!r} already ran at commit {commit}; using its result")
        return final
    with cache.temp_dir(checkout.parent, "build") as tmp:
        work = tmp / "tree"
        shutil.copytree(checkout, work, symlinks=True)
        _run_build(argv, work, timeout_s, log)
        _result(work, source, commit)  # cache only a build that produced its output
        return cache.place_dir(work, final)


def _run_build(argv: list[str], cwd: Path, timeout_s: float, log: Log) -> None:
    tail: deque[str] = deque(maxlen=TAIL_LINES)

    def on_line(line: str) -> None:
        tail.append(line)
        log(f"build: {line}")

    log(f"build: running {argv!r}")
    try:
        code, timed_out = run_logged(
            argv, cwd=cwd, env=build_env(), timeout_s=timeout_s, on_line=on_line
        )
    except OSError as exc:  # no such command, not executable
        raise errors.InputError(f"build could not start {argv[0]!r}: {exc.strerror}") from exc
    if timed_out:
        raise errors.InputError(f"build timed out after {timeout_s:g} s")
    if code != 0:
        raise errors.InputError(f"build failed with exit code {code}: " + "\n".join(tail))


def _result(checkout: Path, source: jobs.GitSource, commit: str) -> Path:
    """checkout/target, refused when missing or when it leads outside the checkout."""
    path = checkout / source.target
    if not path.resolve().is_relative_to(checkout.resolve()):
        raise errors.InputError(f"{source.target!r} points outside the repository; refused")
    if not path.exists():
        after = " after the build" if source.build else ""
        raise errors.InputError(
            f"{source.target!r} does not exist in {_shown(source)} (commit {commit}){after}"
        )
    return path
