"""Validation of the url and git sources and the input fields of a JobSpec."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from sparkjobs import errors, jobs
from sparkjobs.jobs import GitSource, JobSpec, UrlSource

SHA = "ab" * 32
SOURCE: TypeAdapter[Any] = TypeAdapter(jobs.Source)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/app.jar",
        "http://127.0.0.1:8000/data/words.txt",
        "https://user:token@repo.example.com/x.py",  # allowed; redacted wherever it is shown
        "https://[::1]:8443/a.py",
        "https://example.com/a%20b.py?x=1",
    ],
)
def test_valid_urls(url: str) -> None:
    assert UrlSource(url=url).url == url


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/a.jar", "must start with one of http, https://"),
        ("file:///etc/passwd", "must start with one of"),
        ("HTTPS://example.com/a", "must start with one of"),
        ("javascript:alert(1)", "must start with one of"),
        ("//example.com/a", "must start with one of"),
        ("https://", "needs a host"),
        ("https://exa mple.com/a", "spaces or control"),
        ("https://example.com/a\n", "spaces or control"),
        ("https://-bad.example.com/a", "invalid host"),
        ("https://example.com:99999/a", "Port out of range"),
        ("https://example.com/a/../b", "'..'"),
        ("", "1 to 2048"),
        ("https://example.com/" + "a" * 2100, "1 to 2048"),
    ],
)
def test_invalid_urls(url: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        UrlSource(url=url)


def test_url_sha256() -> None:
    assert UrlSource(url="https://e.com/a", sha256=SHA.upper()).sha256 == SHA
    for bad in ["ab" * 31, "zz" * 32, SHA + "\n", SHA + "00"]:
        with pytest.raises(ValidationError, match="64 hexadecimal"):
            UrlSource(url="https://e.com/a", sha256=bad)


@pytest.mark.parametrize(
    "repo",
    [
        "https://github.com/org/repo.git",
        "http://127.0.0.1:9418/repo.git",
        "git://127.0.0.1:9418/repo.git",
        "ssh://git@host.example.com:2222/org/repo.git",
        "git+ssh://host/repo",
        "git@github.com:org/repo.git",
        "host:repo.git",
        "file:///srv/git/repo.git",  # syntactically fine; check_git_repo_allowed decides
        "/srv/git/repo.git",
    ],
)
def test_valid_git_repos(repo: str) -> None:
    assert GitSource(repo=repo, path="a.py").repo == repo


@pytest.mark.parametrize(
    ("repo", "error"),
    [
        ("-upload-pack=touch /tmp/x", "spaces|start with '-'"),
        ("--upload-pack=touch", "start with '-'"),
        ("ext::sh -c touch% /tmp/x", "spaces|transport"),
        ("ext::sh", "transport"),
        ("fd::17", "transport"),
        ("EXT::x", "transport"),
        ("ftp://host/repo", "must start with one of"),
        ("ssh://-oProxyCommand=x/repo", "invalid host"),
        ("ssh://-oProxyCommand=x@host/repo", "user name starting with '-'"),
        ("git@-oProxyCommand=x:repo", "invalid host"),
        ("a$(b)@host:repo", "must be an https"),
        ("relative/path", "must be an https"),
        ("/srv/../etc/repo", "'..'"),
        ("https://host/a/../b", "'..'"),
        ("https://host/repo\n", "spaces or control"),
    ],
)
def test_invalid_git_repos(repo: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        GitSource(repo=repo, path="a.py")


@pytest.mark.parametrize(
    "ref",
    ["main", "v1.2.3", "release/2024-01", "refs/heads/main", "feature_x", "a" * 40, "HEAD"],
)
def test_valid_refs(ref: str) -> None:
    assert GitSource(repo="git://h/r", ref=ref, path="a.py").ref == ref


@pytest.mark.parametrize(
    "ref",
    [
        "$(touch /tmp/x)",
        "main; touch /tmp/x",
        "main&&id",
        "`id`",
        "-upload-pack=x",
        "--output=/tmp/x",
        "a..b",
        "main@{1}",
        "main:refs/heads/x",
        "+main",
        "^main",
        "ref with space",
        "main\n",
        "main.lock",
        "main/",
        "a//b",
        "a/.hidden",
        ".hidden",
        "*",
        "",
    ],
)
def test_invalid_refs(ref: str) -> None:
    with pytest.raises(ValidationError, match="ref"):
        GitSource(repo="git://h/r", ref=ref, path="a.py")


@pytest.mark.parametrize("path", ["/etc/passwd", "../x.py", "a/../../x", "a\\..\\x", "-x.py", ""])
def test_invalid_paths(path: str) -> None:
    with pytest.raises(ValidationError, match="path"):
        GitSource(repo="git://h/r", path=path)


def test_path_or_output_required_and_output_needs_build() -> None:
    with pytest.raises(ValidationError, match="set path"):
        GitSource(repo="git://h/r")
    with pytest.raises(ValidationError, match="set build"):
        GitSource(repo="git://h/r", output="target/app.jar")
    built = GitSource(repo="git://h/r", build="mvn -q package", output="target/app.jar")
    assert built.target == "target/app.jar"
    assert built.build_argv == ["mvn", "-q", "package"]
    assert GitSource(repo="git://h/r", path="jobs/wc.py").target == "jobs/wc.py"
    assert GitSource(repo="git://h/r", path="jobs/wc.py").build_argv is None


def test_build_is_split_like_a_shell_but_never_run_by_one() -> None:
    source = GitSource(repo="git://h/r", build="sh -c 'echo $HOME; id' > out", output="o")
    assert source.build_argv == ["sh", "-c", "echo $HOME; id", ">", "out"]
    for bad, error in [("echo 'unclosed", "cannot be split"), ("  ", "name a command")]:
        with pytest.raises(ValidationError, match=error):
            GitSource(repo="git://h/r", build=bad, output="o")
    with pytest.raises(ValidationError, match="control"):
        GitSource(repo="git://h/r", build="make\nrm -rf /", output="o")


def test_check_git_repo_allowed() -> None:
    for local in ["file:///srv/r.git", "/srv/r.git"]:
        jobs.check_git_repo_allowed(local, allow_local=True)
        with pytest.raises(errors.Invalid, match="on the server itself"):
            jobs.check_git_repo_allowed(local, allow_local=False)
    jobs.check_git_repo_allowed("https://h/r.git", allow_local=False)
    jobs.check_git_repo_allowed("git@h:r.git", allow_local=False)


def test_source_union_keeps_its_discriminator() -> None:
    assert isinstance(SOURCE.validate_python({"type": "url", "url": "https://e/a"}), UrlSource)
    git = SOURCE.validate_python({"type": "git", "repo": "git://h/r", "path": "a.py"})
    assert isinstance(git, GitSource) and git.ref == "main"
    with pytest.raises(ValidationError, match=r"union_tag_invalid|does not match any"):
        SOURCE.validate_python({"type": "s3", "url": "s3://b/k"})


def _spec(**fields: Any) -> JobSpec:
    return JobSpec.model_validate(
        {"name": "wc", "source": {"type": "url", "url": "https://e/wc.py"}, **fields}
    )


def test_job_spec_inputs() -> None:
    spec = _spec(
        files=[{"type": "url", "url": "https://e/words.txt", "sha256": SHA}],
        py_files=[{"type": "git", "repo": "git@h:o/r.git", "ref": "v1", "path": "lib.zip"}],
        jars=[{"type": "artifact", "id": "abcdef0123456789"}],
        packages=["org.apache.spark:spark-avro_2.13:4.0.1"],
        env=[{"name": "A", "value": "1"}, {"name": "PW", "secret": "x"}],
        bindings=["cache", "db"],
    )
    assert isinstance(spec.files[0], UrlSource) and isinstance(spec.py_files[0], GitSource)
    assert spec.env[1].secret is not None and spec.bindings == ["cache", "db"]
    assert _spec().files == [] and _spec().env == [] and _spec().bindings == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"packages": ["org.apache.spark:spark-avro"]}, "Maven coordinates"),
        ({"packages": ["a:b:1.0\n"]}, "Maven coordinates"),
        ({"packages": ["-a:b:1"]}, "Maven coordinates"),
        ({"packages": ["a:b:1,c:d:2"]}, "Maven coordinates"),
        ({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}, "more than once"),
        ({"env": [{"name": "A B", "value": "1"}]}, "variable name"),
        ({"bindings": ["Cache"]}, "DNS-1123"),
        ({"bindings": ["cache\n"]}, "DNS-1123"),
        ({"bindings": ["cache", "cache"]}, "twice"),
        ({"files": [{"type": "url", "url": "ftp://e/a"}]}, "must start with one of"),
        ({"jars": [{"type": "git", "repo": "ext::sh", "path": "a.jar"}]}, "transport"),
    ],
)
def test_invalid_job_spec_inputs(fields: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        _spec(**fields)
