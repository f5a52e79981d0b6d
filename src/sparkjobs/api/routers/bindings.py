"""/api/v1/bindings: named, reusable sets of variables for services that jobs list.

Secrets are write-only: sealed before they are stored, shown as
`{"name": ..., "secret": "set"}`. On update, `{"name": ..., "keep": true}`
keeps a stored secret.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from sparkjobs import envvars, errors, store, supervisor
from sparkjobs.api.deps import DbDep, SupervisorDep
from sparkjobs.api.schemas import BindingOut
from sparkjobs.store import repo
from sparkjobs.supervisor import specs

router = APIRouter(prefix="/bindings", tags=["bindings"])


def _current(db: store.Database, name: str) -> envvars.Binding | None:
    try:
        with db.session() as s:
            return repo.get_binding(s, name)
    except errors.BindingNotFound:
        return None


def _put(
    db: store.Database, sup: supervisor.Supervisor, binding: envvars.Binding, *, create: bool
) -> tuple[envvars.Binding, bool]:
    previous = _current(db, binding.name)
    if create and previous is not None:
        raise errors.Conflict(
            f"binding '{binding.name}' exists already; change it with PUT "
            "(or 'sparkjobs bindings apply -f FILE')"
        )
    sealed = specs.prepare_binding(sup.box, binding, previous=previous)
    with db.session() as s:
        return repo.put_binding(s, sealed, datetime.now(UTC))


@router.get("")
def list_bindings(db: DbDep) -> list[BindingOut]:
    """Every binding, by name (secrets show as set)."""
    with db.session() as s:
        return [BindingOut.from_binding(b) for b in repo.list_bindings(s)]


@router.post("", status_code=201)
def create_binding(binding: envvars.Binding, db: DbDep, sup: SupervisorDep) -> BindingOut:
    """Create a binding (409 if the name is taken; PUT creates or updates)."""
    return BindingOut.from_binding(_put(db, sup, binding, create=True)[0])


@router.get("/{name}")
def get_binding(name: str, db: DbDep) -> BindingOut:
    with db.session() as s:
        return BindingOut.from_binding(repo.get_binding(s, name))


@router.put(
    "/{name}", status_code=200, responses={201: {"model": BindingOut, "description": "created"}}
)
def put_binding(
    name: str, binding: envvars.Binding, db: DbDep, sup: SupervisorDep, response: Response
) -> BindingOut:
    """Create the binding or replace it; runs that start afterwards get the new variables."""
    if binding.name != name:
        raise errors.Invalid(
            f"the body's name '{binding.name}' differs from the URL's '{name}'; they must match",
            field="name",
        )
    stored, created = _put(db, sup, binding, create=False)
    response.status_code = 201 if created else 200
    return BindingOut.from_binding(stored)


@router.delete("/{name}", status_code=204)
def delete_binding(
    name: str,
    db: DbDep,
    force: Annotated[bool, Query(description="delete even if jobs list it")] = False,
) -> None:
    """Delete a binding; 409 while jobs list it, unless ?force=true (their runs then fail)."""
    with db.session() as s:
        repo.get_binding(s, name)
        users = repo.binding_users(s, name)
        if users and not force:
            raise errors.Conflict(
                f"binding '{name}' is in use by jobs {', '.join(users)}; pass ?force=true "
                "(or --force) to delete it anyway, and their runs fail until it is back"
            )
        repo.delete_binding(s, name)
