"""Alert targets of a job: who hears about a run starting, succeeding or failing.

Domain only: the spec and its validation. Sending lives in sparkjobs.notify.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from sparkjobs import errors

AlertEvent = Literal["start", "success", "failure"]
#: Deliberately simple: one '@', no blanks or control characters (no header injection).
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?$"
)
MAX_URL = 2048
MAX_TARGETS = 20


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookTarget(_Frozen):
    """An HTTP(S) URL that gets the alert as a JSON POST."""

    webhook: str = Field(max_length=MAX_URL)

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: str) -> str:
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("webhook URL must not contain spaces or control characters")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("webhook must be an http:// or https:// URL with a host")
        return value


class EmailTarget(_Frozen):
    """An address that gets the alert by mail, through the server's SMTP settings."""

    email: str = Field(max_length=254)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("email must be a plain address such as ops@example.com")
        return value


_TARGET_SHAPE = 'a target is {"webhook": "https://..."} or {"email": "ops@example.com"}'


def _target_kind(value: Any) -> str | None:
    if isinstance(value, WebhookTarget | EmailTarget):
        return "webhook" if isinstance(value, WebhookTarget) else "email"
    keys = value.keys() if isinstance(value, dict) else ()
    return next((k for k in ("webhook", "email") if k in keys), None)


Target = Annotated[
    Annotated[WebhookTarget, Tag("webhook")] | Annotated[EmailTarget, Tag("email")],
    Discriminator(
        _target_kind,
        custom_error_type="invalid_target",
        custom_error_message=_TARGET_SHAPE,
    ),
]
_TARGETS: TypeAdapter[list[Target]] = TypeAdapter(list[Target])


class NotifySpec(_Frozen):
    """Whom to tell about a job's runs.

    A failure is a run ending failed, timed_out or lost. With last_attempt_only
    (the default) a job with retries alerts once per chain of attempts: failure
    only when no retry follows, start only for the first attempt.
    """

    on_failure: list[Target] = Field(default_factory=list, max_length=MAX_TARGETS)
    on_success: list[Target] = Field(default_factory=list, max_length=MAX_TARGETS)
    on_start: list[Target] = Field(default_factory=list, max_length=MAX_TARGETS)
    last_attempt_only: bool = True

    def targets(self, event: AlertEvent) -> list[WebhookTarget | EmailTarget]:
        return list(
            {"start": self.on_start, "success": self.on_success}.get(event, self.on_failure)
        )


def parse_targets(raw: list[dict[str, str]], *, field: str) -> list[WebhookTarget | EmailTarget]:
    """Validate targets from settings; raise Invalid naming `field`."""
    try:
        return _TARGETS.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise errors.Invalid(f"{field}: {first['msg']}", field=field) from exc


def describe_target(target: WebhookTarget | EmailTarget) -> str:
    """The target for logs and run events: a webhook's path may hold a token, so only its host."""
    if isinstance(target, EmailTarget):
        return f"email {target.email}"
    parts = urlsplit(target.webhook)
    return f"webhook {parts.scheme}://{parts.netloc.rpartition('@')[2]}/..."
