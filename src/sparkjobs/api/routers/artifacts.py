"""/api/v1/artifacts: upload application files, list, download and delete them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from sparkjobs import errors, jobs, store
from sparkjobs.api import uploads
from sparkjobs.api.deps import DbDep, SettingsDep
from sparkjobs.api.schemas import ArtifactOut
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts
from sparkjobs.store import repo
from sparkjobs.supervisor import uploads as uploads_service

router = APIRouter(prefix="/artifacts", tags=["artifacts"])


def _store(settings: Settings, db: store.Database, upload: UploadFile) -> jobs.Artifact:
    return uploads_service.keep_upload(settings, db, upload.filename, upload.file)


@router.post("", status_code=201, openapi_extra=uploads.OPENAPI_BODY)
async def upload_artifact(request: Request, settings: SettingsDep, db: DbDep) -> ArtifactOut:
    """Upload a .py or .jar as multipart field 'file'; use the returned id as a job's source."""
    async with uploads.single_file(request, settings.max_upload_bytes) as upload:
        artifact = await run_in_threadpool(_store, settings, db, upload)
    return ArtifactOut.from_artifact(artifact)


@router.get("")
def list_artifacts(db: DbDep) -> list[ArtifactOut]:
    with db.session() as s:
        return [ArtifactOut.from_artifact(a) for a in repo.list_artifacts(s)]


@router.get("/{artifact_id}")
def get_artifact(artifact_id: str, db: DbDep) -> ArtifactOut:
    with db.session() as s:
        return ArtifactOut.from_artifact(repo.get_artifact(s, artifact_id))


@router.get("/{artifact_id}/content", response_class=FileResponse)
def download_artifact(artifact_id: str, settings: SettingsDep, db: DbDep) -> FileResponse:
    with db.session() as s:
        artifact = repo.get_artifact(s, artifact_id)
    path = artifacts.artifact_path(settings, artifact)
    if not path.is_file():
        raise errors.ArtifactNotFound(
            f"the file of artifact '{artifact_id}' is missing on the server; upload it again"
        )
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=artifact.filename,
    )


@router.delete("/{artifact_id}", status_code=204)
def delete_artifact(artifact_id: str, settings: SettingsDep, db: DbDep) -> None:
    """Delete the artifact (409 while a job version uses it)."""
    with db.session() as s:
        artifact = repo.get_artifact(s, artifact_id)
        users = repo.artifact_users(s, artifact_id)
        if users:
            used_by = ", ".join(f"{job} v{version}" for job, version in users)
            raise errors.ArtifactInUse(
                f"artifact '{artifact_id}' is used by {used_by}; change or delete those jobs first"
            )
        repo.delete_artifact(s, artifact_id)
        remaining = repo.list_artifacts(s)
    artifacts.remove_content(settings, artifact, remaining)
