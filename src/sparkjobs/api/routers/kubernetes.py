"""/api/v1/jobs/{name}/manifests (the dry run) and /api/v1/kubernetes/services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sparkjobs import jobs
from sparkjobs.api import manifests
from sparkjobs.api.deps import DbDep, SettingsDep
from sparkjobs.backends import kube_client, kubernetes

router = APIRouter(tags=["kubernetes"])

YAML = "application/yaml"


class PortOut(BaseModel):
    name: str | None
    port: int
    protocol: str


class ServiceOut(BaseModel):
    name: str
    namespace: str
    ports: list[PortOut]


@router.get(
    "/jobs/{name}/manifests",
    response_class=PlainTextResponse,
    responses={200: {"content": {YAML: {}}, "description": "multi-document YAML"}},
)
def job_manifests(name: str, settings: SettingsDep, db: DbDep) -> PlainTextResponse:
    """The Kubernetes objects a run of the job would create (dry run, Secret values masked).

    Touches no cluster: it works on servers without the kubernetes backend too.
    """
    return PlainTextResponse(manifests.render(settings, db, name), media_type=YAML)


def _backend(request: Request) -> kubernetes.KubernetesBackend:
    backend = getattr(request.app.state, "backends", {}).get("kubernetes")
    if not isinstance(backend, kubernetes.KubernetesBackend):
        raise HTTPException(
            503,
            "the kubernetes backend is not enabled on this server; set "
            "SPARKJOBS_KUBE_ENABLED=true (or SPARKJOBS_DEFAULT_BACKEND=kubernetes) "
            "and give the server cluster access (in-cluster service account or KUBECONFIG)",
        )
    return backend


@router.get("/kubernetes/services")
async def list_services(
    request: Request,
    namespace: Annotated[
        str | None,
        Query(pattern=jobs.DNS_LABEL.pattern, description="default: the server's namespace"),
    ] = None,
) -> list[ServiceOut]:
    """Services a binding may point at, for the job form (asks the cluster)."""
    backend = _backend(request)
    try:
        found = await run_in_threadpool(backend.services, namespace)
    except kube_client.KubeApiError as exc:
        # No status: no configuration or no answer. A status: the cluster said no.
        raise HTTPException(503 if exc.status is None else 502, exc.message) from exc
    return [ServiceOut.model_validate(svc) for svc in found]
