"""Job specs: what to run, with what, where, and what to do when it fails.

A JobSpec is validated once, when it comes in, and is frozen afterwards. Each
change to a job stores a new version of its spec; a run names the version it ran.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationInfo, field_validator

from sparkjobs import alerts, envvars, errors, schedules

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_KEY = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_./]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
JAVA_CLASS = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")
MEMORY = re.compile(r"^[1-9][0-9]{0,6}[kmgtKMGT]?$")
CONF_KEY = re.compile(r"^spark\.[A-Za-z0-9_.\-]+$")
MASTER = re.compile(
    r"^(local(\[(\*|[1-9][0-9]*)(,[0-9]+)?\])?"
    r"|spark://[A-Za-z0-9.\-]+:[0-9]{1,5}(,[A-Za-z0-9.\-]+:[0-9]{1,5})*"
    r"|k8s://https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?)$"
)

#: Spark conf the server controls: changing these would let a job escape the
#: server (another master or deploy mode, code on the JVM's class path, JVM
#: flags, another Python binary, unredacted secrets). Entries ending in '.'
#: guard a whole prefix. An admin may allow some through settings.
GUARDED_CONF: tuple[str, ...] = (
    "spark.master",
    "spark.submit.",
    "spark.driver.extraClassPath",
    "spark.executor.extraClassPath",
    "spark.driver.extraLibraryPath",
    "spark.executor.extraLibraryPath",
    "spark.driver.extraJavaOptions",
    "spark.executor.extraJavaOptions",
    "spark.driver.defaultJavaOptions",
    "spark.executor.defaultJavaOptions",
    "spark.driver.host",
    "spark.driver.bindAddress",
    "spark.pyspark.python",
    "spark.pyspark.driver.python",
    "spark.redaction.",
    "spark.kerberos.",
    "spark.yarn.",
    "spark.kubernetes.",
)


def _matches(key: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(key == p or (p.endswith(".") and key.startswith(p)) for p in patterns)


def check_conf(conf: dict[str, str], allowed: list[str]) -> None:
    """Raise RefusedConf for a guarded key the admin has not allowed."""
    for key in conf:
        if _matches(key, GUARDED_CONF) and not _matches(key, allowed):
            raise errors.RefusedConf(
                f"Spark conf '{key}' is controlled by the server and cannot be set by a job; "
                "ask the admin to add it to SPARKJOBS_ALLOWED_CONF_KEYS if it is really needed"
            )


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArtifactSource(_Frozen):
    """A file uploaded through /api/v1/artifacts."""

    type: Literal["artifact"] = "artifact"
    id: str = Field(pattern=r"^[a-z0-9]{8,64}$", description="the artifact id")


class PathSource(_Frozen):
    """A file on the server, under a directory the admin allows."""

    type: Literal["path"] = "path"
    path: str

    @field_validator("path")
    @classmethod
    def _absolute_and_plain(cls, value: str) -> str:
        p = PurePosixPath(value)
        if not p.is_absolute():
            raise ValueError("path must be absolute")
        if ".." in p.parts:
            raise ValueError("path must not contain '..'")
        return value


#: Schemes a {"type": "url"} source may use.
URL_SCHEMES = frozenset({"http", "https"})
#: Schemes of a remote git repository; "file" (and plain paths) only when the admin allows.
GIT_SCHEMES = frozenset({"https", "http", "ssh", "git", "git+ssh", "ssh+git"})
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
HOST_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9])?$")
#: git's "<transport>::<address>" remote-helper syntax; ext:: runs any command.
GIT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*::")
#: scp-like ssh: [user@]host:path, a ':' before any '/'.
GIT_SCP = re.compile(r"^(?:([A-Za-z0-9_][A-Za-z0-9._\-]*)@)?([^/:@\[\]]+|\[[0-9A-Fa-f:.]+\]):(.+)$")
#: Branch, tag, full ref name or commit: git's own rules, narrowed to plain characters.
GIT_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+\-]{0,254}$")
MAVEN_COORDINATE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*:){2}[A-Za-z0-9_][A-Za-z0-9_.+\-]*$")
MAX_LOCATION = 2048


def _plain_text(value: str, what: str) -> str:
    """Refuse what no URL, ref or path of ours needs: blanks, control chars, a leading '-'."""
    if not value or len(value) > MAX_LOCATION:
        raise ValueError(f"{what} must have 1 to {MAX_LOCATION} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} must not contain spaces or control characters")
    if value.startswith("-"):
        raise ValueError(f"{what} must not start with '-' (git would read it as an option)")
    return value


def _check_host(host: str | None, what: str) -> None:
    if not host:
        raise ValueError(f"{what} needs a host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not HOST_NAME.fullmatch(host):
            raise ValueError(f"{what} has an invalid host {host!r}") from None


def _check_url(url: str, schemes: frozenset[str], what: str) -> None:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in schemes:
        raise ValueError(f"{what} must start with one of {', '.join(sorted(schemes))}://")
    parts = urlsplit(url)
    if scheme != "file":
        _check_host(parts.hostname, what)
        if (parts.username or "").startswith("-"):
            raise ValueError(f"{what} must not have a user name starting with '-'")
        _ = parts.port  # raises ValueError for a port that is not a number in range
    if ".." in PurePosixPath(parts.path).parts:
        raise ValueError(f"{what} must not contain '..'")


def _relative_path(value: str, what: str) -> str:
    _plain_text(value, what)
    p = PurePosixPath(value)
    if p.is_absolute() or ".." in p.parts or "\\" in value:
        raise ValueError(f"{what} must be a relative path inside the repository, without '..'")
    return value


def git_repo_is_local(repo: str) -> bool:
    """True for file:// URLs and plain paths: repositories on the server itself."""
    return repo.startswith(("file://", "/"))


def _check_git_repo(repo: str) -> str:
    _plain_text(repo, "repo")
    if GIT_HELPER.match(repo):
        raise ValueError("repo must not use git's '<transport>::' syntax (such as ext::)")
    if "://" in repo:
        _check_url(repo, GIT_SCHEMES | {"file"}, "repo")
    elif repo.startswith("/"):
        _relative_path(repo.lstrip("/") or ".", "repo path")
    elif match := GIT_SCP.fullmatch(repo):
        _check_host(match.group(2).strip("[]"), "repo")
    else:
        raise ValueError(
            "repo must be an https://, ssh:// or git:// URL or user@host:path "
            "(file:// and absolute paths if the admin allows them)"
        )
    return repo


def check_git_repo_allowed(repo: str, allow_local: bool) -> None:
    """Raise Invalid for a repository on the server itself unless the admin allows them."""
    if git_repo_is_local(repo) and not allow_local:
        raise errors.Invalid(
            f"repo {repo!r} is on the server itself; file:// and plain paths are refused "
            "unless the admin allows local git repositories",
            field="repo",
        )


def split_build(build: str) -> list[str]:
    """A build command line as an argv: split like a shell splits words, never run by one."""
    try:
        argv = shlex.split(build)
    except ValueError as exc:  # an unclosed quote
        raise ValueError(f"build cannot be split into words: {exc}") from None
    if not argv:
        raise ValueError("build must name a command")
    return argv


class UrlSource(_Frozen):
    """A file downloaded over http(s), checked against sha256 when given."""

    type: Literal["url"] = "url"
    url: str
    sha256: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        _plain_text(value, "url")
        _check_url(value, URL_SCHEMES, "url")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is not None and not SHA256_HEX.fullmatch(value):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        return value.lower() if value else value


class GitSource(_Frozen):
    """A file from a git repository at a ref (branch, tag or commit), built first if asked.

    What the run gets is ``output`` when set (what ``build`` produced), else
    ``path``. One of the two is required: a whole checkout is nothing spark-submit
    can run. ``output`` needs a ``build``: without one, ``path`` says it all.
    """

    type: Literal["git"] = "git"
    repo: str
    ref: str = "main"
    path: str | None = None
    #: A command line run in the checkout, split into an argv (no shell).
    build: str | None = Field(default=None, max_length=4096)
    output: str | None = Field(default=None, validate_default=True)

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        return _check_git_repo(value)

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        _plain_text(value, "ref")
        bad = ("..", "//", "@{", "/.")
        if (
            not GIT_REF.fullmatch(value)
            or any(b in value for b in bad)
            or value.endswith((".", "/", ".lock"))
        ):
            raise ValueError(
                f"ref {value!r} is not a plain branch, tag or commit name "
                "(letters, digits and . _ / + -; no '..')"
            )
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else _relative_path(value, "path")

    @field_validator("build")
    @classmethod
    def _build(cls, value: str | None) -> str | None:
        if value is not None:
            _plain_text(value.replace(" ", "_"), "build")
            split_build(value)
        return value

    @field_validator("output")
    @classmethod
    def _output(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not info.data.get("build"):
            raise ValueError("output names what build produced; set build, or use path")
        if value is None and not info.data.get("path"):
            raise ValueError("set path (the file in the repository) or build and output")
        return None if value is None else _relative_path(value, "output")

    @property
    def target(self) -> str:
        """The path, inside the checkout, of what the run gets."""
        return self.output or self.path or ""

    @property
    def build_argv(self) -> list[str] | None:
        return split_build(self.build) if self.build else None


Source = Annotated[ArtifactSource | PathSource | UrlSource | GitSource, Field(discriminator="type")]


class Resources(_Frozen):
    cores: int | None = Field(default=None, ge=1, le=1024)
    memory: str | None = Field(default=None, description="JVM memory, e.g. 512m or 2g")

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY.fullmatch(value):
            raise ValueError("memory must look like 512m or 2g")
        return value


class ExecutorResources(Resources):
    instances: int | None = Field(default=None, ge=1, le=10000)


class RetryPolicy(_Frozen):
    max_attempts: int = Field(default=1, ge=1, le=100)
    backoff_seconds: float = Field(default=10.0, ge=0, le=86400)

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (2 is the first retry)."""
        return float(min(self.backoff_seconds * 2 ** max(attempt - 2, 0), 86400.0))


Kind = Literal["python", "jar"]


class JobSpec(_Frozen):
    name: str
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    source: Source
    kind: Kind | None = None
    main_class: str | None = None
    args: list[StrictStr] = Field(default_factory=list)
    conf: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    driver: Resources = Field(default_factory=Resources)
    executor: ExecutorResources = Field(default_factory=ExecutorResources)
    master: str | None = None
    retries: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_seconds: int | None = Field(default=None, ge=1, le=30 * 86400)
    #: "local" or "kubernetes"; None means the server default.
    backend: Literal["local", "kubernetes"] | None = None
    #: Kubernetes namespace (kubernetes backend); None means the server default.
    namespace: str | None = None
    #: Spark image (kubernetes backend); None means the server default.
    image: str | None = Field(
        default=None, max_length=512, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:@\-]*$"
    )
    #: Fetched before the run and passed with --files, --py-files and --jars.
    files: list[Source] = Field(default_factory=list, max_length=100)
    py_files: list[Source] = Field(default_factory=list, max_length=100)
    jars: list[Source] = Field(default_factory=list, max_length=100)
    #: Maven coordinates (group:artifact:version), passed with --packages.
    packages: list[str] = Field(default_factory=list, max_length=100)
    env: list[envvars.EnvVar] = Field(default_factory=list, max_length=500)
    #: Names of service bindings whose variables the run gets (the job's env wins a clash).
    bindings: list[str] = Field(default_factory=list, max_length=50)
    #: When the job runs by itself (cron in a time zone); None means only on request.
    schedule: schedules.ScheduleSpec | None = None
    #: Whom to tell when a run starts, succeeds or fails (server defaults are added).
    notify: alerts.NotifySpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS_LABEL.fullmatch(value):
            raise ValueError(
                "name must be a DNS-1123 label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit, at most 63 characters"
            )
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not DNS_LABEL.fullmatch(value):
            raise ValueError("namespace must be a DNS-1123 label")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for k, v in value.items():
            if not LABEL_KEY.fullmatch(k) or not LABEL_VALUE.fullmatch(v):
                raise ValueError(f"label '{k}={v}' is not a valid label key and value")
        return value

    @field_validator("main_class")
    @classmethod
    def _main_class(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not JAVA_CLASS.fullmatch(value):
            raise ValueError("main_class must be a Java class name such as org.example.Main")
        if value is not None and info.data.get("kind") == "python":
            raise ValueError("main_class applies to jar jobs only")
        return value

    @field_validator("conf")
    @classmethod
    def _conf(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not CONF_KEY.fullmatch(key):
                raise ValueError(f"conf key '{key}' must start with 'spark.'")
        return value

    @field_validator("master")
    @classmethod
    def _master(cls, value: str | None) -> str | None:
        if value is not None and not MASTER.fullmatch(value):
            raise ValueError(
                "master must be local, local[N], local[*], spark://host:port or k8s://URL"
            )
        return value

    @field_validator("packages")
    @classmethod
    def _packages(cls, value: list[str]) -> list[str]:
        for coordinate in value:
            if not MAVEN_COORDINATE.fullmatch(coordinate):
                raise ValueError(
                    f"package {coordinate!r} must be Maven coordinates group:artifact:version"
                )
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: list[envvars.EnvVar]) -> list[envvars.EnvVar]:
        envvars.check_unique(value)
        return value

    @field_validator("bindings")
    @classmethod
    def _bindings(cls, value: list[str]) -> list[str]:
        for name in value:
            if not DNS_LABEL.fullmatch(name):
                raise ValueError(f"binding {name!r} must be a DNS-1123 label")
        if len(set(value)) != len(value):
            raise ValueError("bindings must not name a binding twice")
        return value


def kind_of(filename: str, declared: Kind | None) -> Kind:
    """The kind of application a file is: the declared one, else by its suffix."""
    if declared:
        return declared
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix == ".py":
        return "python"
    if suffix == ".jar":
        return "jar"
    raise errors.Invalid(
        f"cannot tell whether '{filename}' is a Python or a jar application; set \"kind\"",
        field="kind",
    )


@dataclass(frozen=True, kw_only=True)
class Job:
    """A stored job: its newest spec and version."""

    name: str
    version: int
    spec: JobSpec
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Artifact:
    id: str
    filename: str
    sha256: str
    size: int
    created_at: datetime
