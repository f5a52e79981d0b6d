"""Secrets at rest: Fernet encryption with the server's key.

The key is settings.secret_key when set, else ``data_dir/secret.key``, made on
first use (mode 0600). Two processes starting at once agree on one key: each
writes a candidate to a temp file and hard-links it into place, which fails
for all but the first; the others read the winner's file.

Values never appear in a message or a log line here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from sparkjobs import errors
from sparkjobs.config import Settings

KEY_FILE = "secret.key"


class SecretBox:
    """Encrypts and decrypts the secrets of env vars and bindings."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise errors.InputError(
                "the secret key is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                "make one with 'python -c \"from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())\"'"
            ) from exc

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secret_key is not None:
            return cls(settings.secret_key.get_secret_value().encode())
        return cls(load_or_create_key(settings.data_dir / KEY_FILE))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise errors.InputError(
                "a stored secret cannot be decrypted with this server's key: the key "
                "(SPARKJOBS_SECRET_KEY or data_dir/secret.key) changed since it was stored; "
                "restore the old key, or set the secret again"
            ) from exc


def load_or_create_key(path: Path) -> bytes:
    """The key in path; made (0600) if there is none yet."""
    if not path.exists():
        _create_key(path)
    key = path.read_bytes().strip()
    if not key:
        raise errors.InputError(f"the secret key file {path} is empty; restore it or remove it")
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".secret-key-", dir=path.parent)  # mode 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key())
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
