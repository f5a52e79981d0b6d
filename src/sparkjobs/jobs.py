"""Job specs: what to run, with what, where, and what to do when it fails.

A JobSpec is validated once, when it comes in, and is frozen afterwards. Each
change to a job stores a new version of its spec; a run names the version it ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationInfo, field_validator

from sparkjobs import errors

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


#: Issue "Job inputs" adds url and git sources to this union.
Source = Annotated[ArtifactSource | PathSource, Field(discriminator="type")]


class Resources(_Frozen):
    cores: int | None = Field(default=None, ge=1, le=1024)
    memory: str | None = Field(default=None, description="JVM memory, e.g. 512m or 2g")

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY.match(value):
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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise ValueError(
                "name must be a DNS-1123 label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit, at most 63 characters"
            )
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not DNS_LABEL.match(value):
            raise ValueError("namespace must be a DNS-1123 label")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for k, v in value.items():
            if not LABEL_KEY.match(k) or not LABEL_VALUE.match(v):
                raise ValueError(f"label '{k}={v}' is not a valid label key and value")
        return value

    @field_validator("main_class")
    @classmethod
    def _main_class(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not JAVA_CLASS.match(value):
            raise ValueError("main_class must be a Java class name such as org.example.Main")
        if value is not None and info.data.get("kind") == "python":
            raise ValueError("main_class applies to jar jobs only")
        return value

    @field_validator("conf")
    @classmethod
    def _conf(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not CONF_KEY.match(key):
                raise ValueError(f"conf key '{key}' must start with 'spark.'")
        return value

    @field_validator("master")
    @classmethod
    def _master(cls, value: str | None) -> str | None:
        if value is not None and not MASTER.match(value):
            raise ValueError(
                "master must be local, local[N], local[*], spark://host:port or k8s://URL"
            )
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
