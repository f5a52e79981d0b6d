"""/healthz (the process answers) and /readyz (it can reach its database). No token needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from sparkjobs.api import auth, problems
from sparkjobs.api.deps import DbDep
from sparkjobs.api.schemas import Status
from sparkjobs.store import repo

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz", response_model=Status, responses={503: {"description": "database unreachable"}}
)
def readyz(db: DbDep) -> Status | JSONResponse:
    try:
        with db.session() as s:
            repo.get_value(s, auth.TOKEN_HASH_KEY)  # any trivial query will do
    except Exception:
        problems.log.warning("readiness check failed", exc_info=True)
        return problems.problem(503, "the database cannot be reached; see the server log")
    return Status(status="ready")
