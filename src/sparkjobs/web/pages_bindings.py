"""Bindings: the list, New and Edit binding, and Delete (refused while in use unless forced)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from sparkjobs import envvars, errors, jobs, store
from sparkjobs.store import repo
from sparkjobs.web import bindingform, forms, render
from sparkjobs.web.deps import DbDep, FormDep, PageError, SupervisorDep, Visitor, VisitorDep
from sparkjobs.web.sections import env

router = APIRouter()


@dataclass(frozen=True)
class Row:
    binding: envvars.Binding
    users: list[str]


def _get(s: store.Session, name: str) -> envvars.Binding:
    try:
        return repo.get_binding(s, name)
    except errors.BindingNotFound as exc:
        raise PageError(404, "Binding not found", f"There is no binding named {name}.") from exc


@router.get("/bindings", response_class=HTMLResponse)
def bindings_list(request: Request, visitor: VisitorDep, db: DbDep, deleted: str = "") -> Response:
    with db.session() as s:
        rows = [Row(b, repo.binding_users(s, b.name)) for b in repo.list_bindings(s)]
    context = {"visitor": visitor, "rows": rows, "section": "bindings"}
    context["deleted"] = deleted if jobs.DNS_LABEL.match(deleted) else ""
    return render.page(request, "bindings/list.html", context)


def _form_page(
    request: Request, visitor: Visitor, form: forms.JobForm, editing: str | None = None
) -> HTMLResponse:
    context: dict[str, Any] = {
        "visitor": visitor,
        "form": form,
        "editing": editing,
        "action": f"/bindings/{editing}/edit" if editing else "/bindings/new",
        **env.view(form.values, came_back=bool(form.errors)),
        "section": "bindings",
    }
    status = 422 if form.errors else 200
    return render.page(request, "bindings/form.html", context, status=status)


@router.get("/bindings/new", response_class=HTMLResponse)
def new_binding(request: Request, visitor: VisitorDep) -> Response:
    return _form_page(request, visitor, forms.JobForm(values={}))


@router.post("/bindings/new", response_class=HTMLResponse)
def create_binding(
    request: Request, visitor: VisitorDep, posted: FormDep, db: DbDep, sup: SupervisorDep
) -> Response:
    form = forms.JobForm(values=forms.submitted(posted))
    if bindingform.save(db, sup.box, form) is None:
        return _form_page(request, visitor, form)
    return render.redirect("/bindings")


@router.get("/bindings/{name}/edit", response_class=HTMLResponse)
def edit_binding(request: Request, name: str, visitor: VisitorDep, db: DbDep) -> Response:
    with db.session() as s:
        binding = _get(s, name)
    form = forms.JobForm(values=bindingform.prefill(binding))
    return _form_page(request, visitor, form, editing=name)


@router.post("/bindings/{name}/edit", response_class=HTMLResponse)
def save_binding(
    request: Request,
    name: str,
    visitor: VisitorDep,
    posted: FormDep,
    db: DbDep,
    sup: SupervisorDep,
) -> Response:
    with db.session() as s:
        _get(s, name)
    form = forms.JobForm(values=forms.submitted(posted))
    if bindingform.save(db, sup.box, form, editing=name) is None:
        return _form_page(request, visitor, form, editing=name)
    return render.redirect("/bindings")


def _delete_page(
    request: Request, visitor: Visitor, db: store.Database, name: str, error: str = ""
) -> HTMLResponse:
    with db.session() as s:
        binding, users = _get(s, name), repo.binding_users(s, name)
    context = {"visitor": visitor, "binding": binding, "users": users, "error": error}
    context["section"] = "bindings"
    return render.page(request, "bindings/delete.html", context, status=409 if error else 200)


@router.get("/bindings/{name}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, name: str, visitor: VisitorDep, db: DbDep) -> Response:
    return _delete_page(request, visitor, db, name)


@router.post("/bindings/{name}/delete", response_class=HTMLResponse)
def delete_binding(
    request: Request, name: str, visitor: VisitorDep, posted: FormDep, db: DbDep
) -> Response:
    with db.session() as s:
        _get(s, name)
        users = repo.binding_users(s, name)
        if not users or posted.get("force") == "on":
            repo.delete_binding(s, name)
            return render.redirect(f"/bindings?deleted={quote(name)}")
    used_by = ", ".join(users)
    message = (
        f"Binding {name} is in use by {used_by}: not deleted. Remove it from "
        f"{'that job' if len(users) == 1 else 'those jobs'} first, or tick "
        "'Delete even though jobs use it'."
    )
    return _delete_page(request, visitor, db, name, error=message)
