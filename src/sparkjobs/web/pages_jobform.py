"""New job and Edit job: the form, and what happens when it is sent."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from sparkjobs import errors, jobs, store
from sparkjobs.store import repo
from sparkjobs.web import forms, jobsave, render
from sparkjobs.web.deps import DbDep, FormDep, PageError, SettingsDep, Visitor, VisitorDep
from sparkjobs.web.sections import SECTIONS, files, lookups

router = APIRouter()


def _artifact(db: store.Database, artifact_id: str) -> jobs.Artifact | None:
    if not artifact_id:
        return None
    try:
        with db.session() as s:
            return repo.get_artifact(s, artifact_id)
    except errors.NotFound:
        return None


def _form_page(
    request: Request,
    visitor: Visitor,
    db: DbDep,
    settings: SettingsDep,
    form: forms.JobForm,
    editing: jobs.Job | None = None,
) -> HTMLResponse:
    name = editing.name if editing else None
    context = {
        "visitor": visitor,
        "form": form,
        "sections": SECTIONS,
        "default_master": settings.default_master,
        "editing": name,
        "action": f"/jobs/{name}/edit" if name else "/new-job",
        "kept": forms.kept(SECTIONS, editing.spec) if editing else [],
        "artifact": _artifact(db, form.get("artifact_id")),
        "section": "jobs",
        **lookups.page_context(db, form),
    }
    status = 422 if form.errors else 200
    return render.page(request, "jobs/form.html", context, status=status)


def _current(db: store.Database, name: str) -> jobs.Job:
    try:
        with db.session() as s:
            return repo.get_job(s, name)
    except errors.NotFound as exc:
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc


@router.get("/new-job", response_class=HTMLResponse)
def new_job(request: Request, visitor: VisitorDep, db: DbDep, settings: SettingsDep) -> Response:
    return _form_page(request, visitor, db, settings, forms.blank(SECTIONS))


@router.post("/new-job", response_class=HTMLResponse)
def create_job(
    request: Request, visitor: VisitorDep, posted: FormDep, db: DbDep, settings: SettingsDep
) -> Response:
    form = _posted_form(settings, db, posted)
    job = jobsave.save(settings, db, form, _upload(posted.get("file")))
    if job is None:
        return _form_page(request, visitor, db, settings, form)
    return render.redirect(f"/jobs/{job.name}")


@router.get("/jobs/{name}/edit", response_class=HTMLResponse)
def edit_job(
    request: Request, name: str, visitor: VisitorDep, db: DbDep, settings: SettingsDep
) -> Response:
    job = _current(db, name)
    form = forms.from_spec(SECTIONS, job.spec)
    form.values["version"] = str(job.version)
    return _form_page(request, visitor, db, settings, form, editing=job)


@router.post("/jobs/{name}/edit", response_class=HTMLResponse)
def save_job(
    request: Request,
    name: str,
    visitor: VisitorDep,
    posted: FormDep,
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    current = _current(db, name)
    form = _posted_form(settings, db, posted)
    if form.get("version") != str(current.version):
        form.errors.add(forms.FORM_ERROR, _changed_meanwhile(current))
        form.values["version"] = str(current.version)
        return _form_page(request, visitor, db, settings, form, editing=current)
    job = jobsave.save(settings, db, form, _upload(posted.get("file")), editing=current)
    if job is None:
        return _form_page(request, visitor, db, settings, form, editing=current)
    return render.redirect(f"/jobs/{job.name}")


def _changed_meanwhile(job: jobs.Job) -> str:
    return (
        f"Someone saved job {job.name} while you were editing it (it is at version "
        f"{job.version} now). What you typed is kept below: check it against the job's "
        "page and save again."
    )


def _posted_form(settings: SettingsDep, db: DbDep, posted: FormData) -> forms.JobForm:
    """What was sent, with the files chosen under Files already kept as artifacts."""
    form = forms.JobForm(values=forms.submitted(posted))
    uploads = posted.getlist(files.UPLOAD)
    files.keep_uploads(form, uploads, lambda upload: jobsave.keep_upload(settings, db, upload))
    return form


def _upload(value: object) -> UploadFile | None:
    return value if isinstance(value, UploadFile) else None
