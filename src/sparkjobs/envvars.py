"""Environment variables of a job and service bindings: named, reusable sets of them.

An ``EnvVar`` has a name and exactly one of three things:

- ``value``: plain text, shown back as it is;
- ``secret``: a secret as the user sends it in; write-only (a ``SecretStr``, so
  it never shows in a repr and dumps as ``**********``, never as its value);
- ``secret_ciphertext``: the same secret encrypted, the form that is stored.

The three forms and their helpers (pure: encryption comes in as a function):
``seal`` (inbound -> stored, before anything is written), ``masked`` (stored ->
outbound: a secret shows as ``{"name": ..., "secret": "set"}``) and ``resolve``
(stored -> the plain environment of a run, plus the values to mask in its logs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: Kubernetes object names (Secret, ConfigMap): DNS-1123 subdomains.
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_VALUE_BYTES = 128 * 1024


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EnvVar(_Frozen):
    """One variable: a plain value, a secret (inbound) or an encrypted secret (stored)."""

    name: str = Field(max_length=255)
    value: str | None = Field(default=None, max_length=MAX_VALUE_BYTES)
    secret: SecretStr | None = Field(default=None, max_length=MAX_VALUE_BYTES)
    secret_ciphertext: str | None = Field(default=None, max_length=4 * MAX_VALUE_BYTES)
    #: Inbound only, when a job or binding is updated: keep the secret already stored
    #: under this name (an editor never sees it, so cannot send it back). Replaced by
    #: the stored ciphertext before anything is written (supervisor.specs).
    keep: Literal[True] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENV_NAME.fullmatch(value):
            raise ValueError(
                f"env name {value!r} is not a valid variable name: use letters, digits and '_', "
                "not starting with a digit"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvVar:
        given = [
            f
            for f in ("value", "secret", "secret_ciphertext", "keep")
            if getattr(self, f) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                f"env {self.name!r} needs exactly one of 'value', 'secret' or 'keep' "
                "(keep: true keeps the stored secret when updating)"
            )
        return self

    @field_serializer("secret", when_used="json")
    def _refuse_plain_secret(self, secret: SecretStr | None) -> None:
        # JSON is what gets stored or sent: a secret must be sealed or masked first.
        if secret is not None:
            raise ValueError(f"env {self.name!r}: seal() or masked() a secret before writing it")

    @property
    def is_secret(self) -> bool:
        return self.value is None


class EnvVarOut(_Frozen):
    """The outbound form: a secret shows that it is set, never its value."""

    name: str
    value: str | None = None
    secret: Literal["set"] | None = None


def check_unique(env: Sequence[EnvVar]) -> None:
    """Raise ValueError when a name appears twice (for validators)."""
    seen: set[str] = set()
    for var in env:
        if var.name in seen:
            raise ValueError(f"env {var.name!r} is given more than once")
        seen.add(var.name)


def seal(env: Iterable[EnvVar], encrypt: Callable[[str], str]) -> list[EnvVar]:
    """The stored form: every inbound secret replaced by its ciphertext."""
    return [
        EnvVar(name=v.name, secret_ciphertext=encrypt(v.secret.get_secret_value()))
        if v.secret is not None
        else v
        for v in env
    ]


def masked(env: Iterable[EnvVar]) -> list[EnvVarOut]:
    """The outbound form, for the API, the CLI and the web UI."""
    return [
        EnvVarOut(name=v.name, secret="set")  # noqa: S106 (a marker, not a password)
        if v.is_secret
        else EnvVarOut(name=v.name, value=v.value)
        for v in env
    ]


def _plain(var: EnvVar, decrypt: Callable[[str], str]) -> str:
    if var.value is not None:
        return var.value
    if var.secret is not None:
        return var.secret.get_secret_value()
    assert var.secret_ciphertext is not None  # the validator guarantees one of three
    return decrypt(var.secret_ciphertext)


def resolve(
    env: Iterable[EnvVar], decrypt: Callable[[str], str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The plain environment of a run and the secret values in it (to mask everywhere)."""
    plain: dict[str, str] = {}
    secrets: list[str] = []
    for var in env:
        plain[var.name] = _plain(var, decrypt)
        if var.is_secret:
            secrets.append(plain[var.name])
    return plain, tuple(secrets)


class ServiceRef(_Frozen):
    """A Kubernetes Service whose host (and port) a binding provides."""

    name: str = Field(pattern=DNS_LABEL.pattern)
    namespace: str | None = Field(default=None, pattern=DNS_LABEL.pattern)
    port: int | None = Field(default=None, ge=1, le=65535)


class ObjectRef(_Frozen):
    """A Kubernetes Secret or ConfigMap, by name, in the run's namespace."""

    name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN.pattern)


class Binding(_Frozen):
    """A named, reusable set of variables for a service a job talks to.

    Everywhere, ``env`` applies. On Kubernetes a binding may also point at a
    Service (its host and port become variables), a Secret or a ConfigMap (all
    their keys become variables, through envFrom); elsewhere those are ignored.
    """

    name: str
    description: str = Field(default="", max_length=1000)
    env: list[EnvVar] = Field(default_factory=list)
    service: ServiceRef | None = None
    secret_ref: ObjectRef | None = None
    config_map_ref: ObjectRef | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS_LABEL.fullmatch(value):
            raise ValueError(
                "binding name must be a DNS-1123 label: lowercase letters, digits and '-', "
                "at most 63 characters"
            )
        return value

    @field_validator("env")
    @classmethod
    def _unique(cls, value: list[EnvVar]) -> list[EnvVar]:
        check_unique(value)
        return value


@dataclass(frozen=True, kw_only=True)
class EnvOrigin:
    """Where a merged variable came from: a binding, or the job itself (binding None)."""

    name: str
    binding: str | None
    #: Bindings that also set this name and lost.
    shadowed: tuple[str, ...] = ()

    def describe(self) -> str:
        """A sentence for a run's events; names only, never values."""
        source = f"binding '{self.binding}'" if self.binding else "the job"
        if not self.shadowed:
            return f"{self.name} from {source}"
        lost = ", ".join(f"'{b}'" for b in self.shadowed)
        return f"{self.name} from {source} (overrides binding {lost})"


def merge_env(
    job_env: Sequence[EnvVar], bindings: Sequence[Binding]
) -> tuple[list[EnvVar], list[EnvOrigin]]:
    """The env of a run: the bindings' variables in order, then the job's on top.

    On a clash the job's own variable wins over any binding, and a later binding
    in the list wins over an earlier one. The origins name the source of every
    variable and what it overrode, in the merged order.
    """
    merged: dict[str, EnvVar] = {}
    source: dict[str, str | None] = {}
    shadowed: dict[str, list[str]] = {}
    layers = [(b.name, b.env) for b in bindings] + [(None, list(job_env))]
    for layer_name, env in layers:
        for var in env:
            previous = source.get(var.name)
            if previous is not None:
                shadowed.setdefault(var.name, []).append(previous)
            merged[var.name] = var
            source[var.name] = layer_name
    origins = [
        EnvOrigin(name=n, binding=source[n], shadowed=tuple(shadowed.get(n, ()))) for n in merged
    ]
    return list(merged.values()), origins
