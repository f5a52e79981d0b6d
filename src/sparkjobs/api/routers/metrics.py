"""/metrics: Prometheus text of what the store knows now (runs by state, jobs).

Read from the database at each scrape, so every server of a shared database
reports the same figures and nothing is kept in process memory. Like every
API call, it needs the token (Prometheus sends it with `authorization`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from sparkjobs.api import auth
from sparkjobs.api.deps import DbDep
from sparkjobs.store import repo

router = APIRouter(tags=["metrics"], dependencies=[Depends(auth.authenticate)])


@router.get("/metrics", response_class=Response)
def metrics(db: DbDep) -> Response:
    registry = CollectorRegistry(auto_describe=True)
    runs_gauge = Gauge("sparkjobs_runs", "Runs in each state", ["state"], registry=registry)
    jobs_gauge = Gauge("sparkjobs_jobs", "Jobs defined", registry=registry)
    with db.session() as s:
        for state, count in repo.count_runs_by_state(s).items():
            runs_gauge.labels(state=state.value).set(count)
        jobs_gauge.set(len(repo.list_jobs(s)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
