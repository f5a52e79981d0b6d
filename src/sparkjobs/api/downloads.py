"""A run's large files, fetched by its own pod with a per-run token and nothing else.

A Kubernetes run's files too large for a ConfigMap are fetched by the pod's
init container from GET /api/v1/downloads/{run_id}/{name}. That route stands
outside the admin-authenticated API: it accepts only the run's own token (the
admin token is refused), serves only the files the token was issued for, and
the token dies when the run ends or after kube_download_token_seconds. The
store keeps the token's sha256, never the token.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sparkjobs import errors, runs, store
from sparkjobs.api import auth
from sparkjobs.api.deps import DbDep
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends import kubernetes
from sparkjobs.config import Settings
from sparkjobs.store import repo

KEY_PREFIX = "download-token:"

router = APIRouter(prefix="/api/v1/downloads", tags=["downloads"])
_bearer = HTTPBearer(auto_error=False, description="the run's download token (not the admin's)")


@dataclass(frozen=True, kw_only=True)
class Grant:
    """What a run's token allows: these files, until then (epoch seconds)."""

    token_sha256: str
    expires_at: float
    files: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(
            {"sha256": self.token_sha256, "expires_at": self.expires_at, "files": self.files}
        )

    @classmethod
    def from_json(cls, text: str) -> Grant:
        data = json.loads(text)
        return cls(
            token_sha256=str(data["sha256"]),
            expires_at=float(data["expires_at"]),
            files={str(k): str(v) for k, v in data["files"].items()},
        )


def grant_key(run_id: str) -> str:
    return f"{KEY_PREFIX}{run_id}"


class TokenIssuer:
    """kubernetes.DownloadIssuer over the store's key/values (one grant per run)."""

    def __init__(
        self, settings: Settings, db: store.Database, *, clock: Callable[[], float] = time.time
    ) -> None:
        if not settings.public_url:
            raise errors.Invalid("downloads need SPARKJOBS_PUBLIC_URL: the URL pods reach us at")
        self._base_url = settings.public_url
        self._lifetime = settings.kube_download_token_seconds
        self._db = db
        self._clock = clock

    def issue(self, run_id: str, paths: Sequence[Path]) -> tuple[str, dict[Path, str]]:
        token = secrets.token_urlsafe(32)
        grant = Grant(
            token_sha256=auth.token_hash(token),
            expires_at=self._clock() + self._lifetime,
            files={p.name: str(p) for p in paths},
        )
        with self._db.session() as s:
            repo.set_value(s, grant_key(run_id), grant.to_json())
        return token, {p: kubernetes.download_url(self._base_url, run_id, p.name) for p in paths}


def _grant_and_run(db: store.Database, run_id: str) -> tuple[Grant | None, runs.Run | None]:
    with db.session() as s:
        raw = repo.get_value(s, grant_key(run_id))
        try:
            run = repo.get_run(s, run_id)
        except errors.RunNotFound:
            run = None
    return (Grant.from_json(raw) if raw else None), run


def allowed_file(db: store.Database, run_id: str, name: str, token: str | None, now: float) -> Path:
    """The file a pod may fetch; Unauthorized for any token but the live one of this run."""
    if not token:
        raise errors.Unauthorized("send the run's download token as 'Authorization: Bearer ...'")
    grant, run = _grant_and_run(db, run_id)
    if grant is None or not hmac.compare_digest(grant.token_sha256, auth.token_hash(token)):
        raise errors.Unauthorized(f"that is not a download token of run {run_id}")
    if run is None or run.state in runs.TERMINAL or now > grant.expires_at:
        raise errors.Unauthorized(
            f"the download token of run {run_id} has expired: it lives until the run ends"
        )
    path = grant.files.get(name) if km.FILE_NAME.match(name) else None
    if path is None or not Path(path).is_file():
        raise errors.NotFound(f"run {run_id} has no file '{name}' to download")
    return Path(path)


@router.get(
    "/{run_id}/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def download(
    run_id: str,
    name: str,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> FileResponse:
    """One of a run's large files, for its pod's init container (the run's token only)."""
    token = credentials.credentials if credentials else None
    path = allowed_file(db, run_id, name, token, time.time())
    return FileResponse(path, media_type="application/octet-stream", filename=name)
