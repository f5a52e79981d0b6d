"""Bearer-token authentication for /api.

The admin token is never stored: the database keeps its sha256. It comes from
SPARKJOBS_ADMIN_TOKEN, else one is generated on the first start and shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from sparkjobs import errors, store
from sparkjobs.config import Settings
from sparkjobs.store import repo

TOKEN_HASH_KEY = "admin_token_sha256"  # noqa: S105 (a key name, not a secret)

_bearer = HTTPBearer(auto_error=False, description="the admin token")


@dataclass(frozen=True)
class Principal:
    """Who made the request. One admin for now; users and roles come later."""

    name: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_admin_token(settings: Settings, db: store.Database) -> str | None:
    """Make sure an admin token hash is stored; return a newly generated token, else None.

    A configured token replaces whatever hash was stored. A generated one is
    stored only if none exists (two servers starting at once agree on one).
    """
    if settings.admin_token is not None:
        with db.session() as s:
            repo.set_value(s, TOKEN_HASH_KEY, token_hash(settings.admin_token.get_secret_value()))
        return None
    token = secrets.token_urlsafe(32)
    with db.session() as s:
        created = repo.insert_value_if_absent(s, TOKEN_HASH_KEY, token_hash(token))
    return token if created else None


def _stored_hash(db: store.Database) -> str | None:
    with db.session() as s:
        return repo.get_value(s, TOKEN_HASH_KEY)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, if it sent the admin token; Unauthorized otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise errors.Unauthorized(
            "this API needs 'Authorization: Bearer <token>'; "
            "the admin token was printed when the server first started"
        )
    db = cast(store.Database, request.app.state.db)
    expected = await run_in_threadpool(_stored_hash, db)
    given = token_hash(credentials.credentials)
    if expected is None or not hmac.compare_digest(given, expected):
        raise errors.Unauthorized("the token is not valid; check SPARKJOBS_TOKEN or --token")
    return Principal(name="admin")
