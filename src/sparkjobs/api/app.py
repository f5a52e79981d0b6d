"""The application factory: wires settings, the store, the supervisor and the routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from sparkjobs import scheduler, store, supervisor, web
from sparkjobs.api import auth, docs, downloads, problems
from sparkjobs.api import backends as server_backends
from sparkjobs.api.routers import (
    artifacts,
    bindings,
    health,
    jobs,
    kubernetes,
    metrics,
    runs,
    schedules,
)
from sparkjobs.backends.base import Backend
from sparkjobs.config import Settings

log = logging.getLogger(__name__)


def open_database(settings: Settings) -> store.Database:
    """The migrated database of these settings (creating data_dir first)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = store.Database(settings.db_url)
    db.migrate()
    return db


def _api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(auth.authenticate)])
    for module in (jobs, schedules, runs, artifacts, bindings, kubernetes):
        api.include_router(module.router)
    return api


def create_app(settings: Settings, *, backends: Mapping[str, Backend] | None = None) -> FastAPI:
    """The sparkjobs API. Starting it migrates the database and starts the supervisor."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = open_database(settings)
        token = auth.ensure_admin_token(settings, db)
        if token is not None:
            # Started without 'sparkjobs serve' (which shows a new token itself):
            # this is the one time the token can be made known.
            log.warning("Admin token (shown once, keep it): %s", token)
        chosen = backends or server_backends.default_backends(settings, db)
        app.state.backends = chosen
        sup = supervisor.Supervisor(settings, db, chosen)
        app.state.settings, app.state.db, app.state.supervisor = settings, db, sup
        sup.start()
        sched = app.state.scheduler = scheduler.Scheduler(settings, db, sup)
        sched.start()
        try:
            yield
        finally:
            sched.shutdown()
            sup.shutdown()
            db.dispose()

    app = FastAPI(
        title="sparkjobs",
        summary="Define, run, watch, stop and rerun Spark jobs.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api.docs from local files
        redoc_url=None,
    )
    app.state.settings = settings
    problems.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    # Outside the admin-token API: pods fetch their run's files with the run's own token.
    app.include_router(downloads.router)
    app.include_router(_api_router())
    docs.install(app)
    web.install(app)
    return app
