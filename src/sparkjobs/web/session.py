"""Signed-in sessions and CSRF tokens for the web pages. Pure except `load_keys`.

A session is a cookie the server signs; nothing is stored per session, so every
server on one database accepts it. The signing key is random, kept in the store,
and mixed with the admin token's hash: changing the admin token signs everyone out.
Each form carries a CSRF token derived from the session (an attacker's page can
neither read the cookie nor compute the token). The sign-in form, which has no
session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sparkjobs import store
from sparkjobs.store import repo

#: Where the API keeps the admin token's sha256 (hex); the token itself is never stored.
TOKEN_HASH_KEY = "admin_token_sha256"  # noqa: S105 (a key name, not a secret)
SIGNING_KEY_KEY = "web_session_key"
LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Keys:
    """What sessions are checked against; token_hash is None before an admin token exists."""

    signing: bytes
    token_hash: str | None


@dataclass(frozen=True)
class Session:
    issued: int
    nonce: str


def load_keys(db: store.Database) -> Keys:
    """The signing key (created on first use, shared by servers) and the admin token hash."""
    with db.session() as s:
        repo.insert_value_if_absent(s, SIGNING_KEY_KEY, secrets.token_hex(32))
        key = repo.get_value(s, SIGNING_KEY_KEY) or ""
        token_hash = repo.get_value(s, TOKEN_HASH_KEY)
    return Keys(signing=bytes.fromhex(key), token_hash=token_hash)


def token_matches(keys: Keys, token: str) -> bool:
    given = hashlib.sha256(token.encode()).hexdigest()
    return keys.token_hash is not None and hmac.compare_digest(given, keys.token_hash)


def _mac(keys: Keys, *parts: str) -> str:
    message = "|".join((keys.token_hash or "", *parts)).encode()
    return hmac.new(keys.signing, message, hashlib.sha256).hexdigest()


def new_session(keys: Keys, now: int) -> str:
    """A cookie value for a session issued at `now` (Unix seconds)."""
    nonce = secrets.token_hex(16)
    return f"{now}.{nonce}.{_mac(keys, 'session', str(now), nonce)}"


def open_session(keys: Keys, cookie: str | None, now: int) -> Session | None:
    """The session a cookie stands for, or None if it is missing, forged or expired."""
    parts = (cookie or "").split(".")
    if keys.token_hash is None or len(parts) != 3 or not parts[0].isdigit():
        return None
    issued, nonce, mac = parts
    if not hmac.compare_digest(mac, _mac(keys, "session", issued, nonce)):
        return None
    if not 0 <= now - int(issued) <= LIFETIME_SECONDS:
        return None
    return Session(issued=int(issued), nonce=nonce)


def csrf_token(keys: Keys, session: Session) -> str:
    return _mac(keys, "csrf", session.nonce)


def csrf_ok(keys: Keys, session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(given, csrf_token(keys, session))


def new_signin_token() -> str:
    """The double-submit value of the sign-in form (cookie and hidden field)."""
    return secrets.token_urlsafe(24)


def signin_token_ok(cookie: str | None, given: str | None) -> bool:
    return bool(cookie) and given is not None and hmac.compare_digest(cookie or "", given)
