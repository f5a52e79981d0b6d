"""Service bindings: named sets of variables that jobs list by name.

The store keeps what it is given; callers seal secrets first
(supervisor.specs.prepare_binding), so a row never holds a plain secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sparkjobs import envvars, errors
from sparkjobs.store._convert import rowcount
from sparkjobs.store.tables import BindingRow, JobRow, JobVersionRow


def _json(binding: envvars.Binding) -> dict[str, Any]:
    if any(v.secret is not None or v.keep for v in binding.env):
        # A programming error, not a user's: the caller must seal first.
        raise ValueError(f"binding '{binding.name}': seal its secrets before storing it")
    return binding.model_dump(mode="json")


def put_binding(
    s: Session, binding: envvars.Binding, now: datetime
) -> tuple[envvars.Binding, bool]:
    """Create the binding or replace it; returns (binding, created)."""
    spec = _json(binding)
    changed = s.execute(
        update(BindingRow).where(BindingRow.name == binding.name).values(spec=spec, updated_at=now)
    )
    if rowcount(changed):
        return binding, False
    s.add(BindingRow(name=binding.name, spec=spec, created_at=now, updated_at=now))
    try:
        s.flush()
    except IntegrityError as exc:  # created by someone else since the update found nothing
        raise errors.Conflict(
            f"binding '{binding.name}' was created meanwhile; apply it again"
        ) from exc
    return binding, True


def get_binding(s: Session, name: str) -> envvars.Binding:
    row = s.get(BindingRow, name)
    if row is None:
        raise binding_not_found(name)
    return envvars.Binding.model_validate(row.spec)


def list_bindings(s: Session) -> list[envvars.Binding]:
    """Every binding, by name."""
    rows = s.scalars(select(BindingRow).order_by(BindingRow.name))
    return [envvars.Binding.model_validate(row.spec) for row in rows]


def delete_binding(s: Session, name: str) -> None:
    """Forget a binding (the caller checks binding_users first)."""
    if rowcount(s.execute(delete(BindingRow).where(BindingRow.name == name))) == 0:
        raise binding_not_found(name)


def binding_users(s: Session, name: str) -> list[str]:
    """Names of the jobs whose current version lists the binding, by name."""
    current = (
        select(JobRow.name, JobVersionRow.spec)
        .join(
            JobVersionRow,
            and_(
                JobVersionRow.job_name == JobRow.name,
                JobVersionRow.version == JobRow.current_version,
            ),
        )
        .order_by(JobRow.name)
    )
    return [job for job, spec in s.execute(current) if name in (spec.get("bindings") or [])]


def binding_not_found(name: str) -> errors.BindingNotFound:
    return errors.BindingNotFound(
        f"binding '{name}' not found; list bindings with 'sparkjobs bindings list' "
        "or create it with 'sparkjobs bindings apply -f FILE'"
    )
