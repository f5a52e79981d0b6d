"""Every read and write of the store, as functions taking a Session first.

They return domain objects (jobs.Job, runs.Run, ...) and raise sparkjobs.errors;
callers own the transaction (Database.session()). After an error the session's
transaction is rolled back when it leaves the `with` block: start a new session
to carry on (e.g. the scheduler, one session per slot).
"""

from __future__ import annotations

from sparkjobs.store._jobs import (
    artifact_users,
    create_job,
    delete_job,
    get_job,
    get_job_spec,
    list_jobs,
    update_job,
)
from sparkjobs.store._runs import (
    add_note,
    count_runs_in_states,
    get_run,
    insert_run,
    list_events,
    list_runs,
    runs_in_states,
    transition,
    update_run,
)
from sparkjobs.store._values import (
    create_artifact,
    delete_artifact,
    get_artifact,
    get_value,
    insert_value_if_absent,
    list_artifacts,
    set_value,
)
from sparkjobs.store.ids import new_run_id

__all__ = [
    "add_note",
    "artifact_users",
    "count_runs_in_states",
    "create_artifact",
    "create_job",
    "delete_artifact",
    "delete_job",
    "get_artifact",
    "get_job",
    "get_job_spec",
    "get_run",
    "get_value",
    "insert_run",
    "insert_value_if_absent",
    "list_artifacts",
    "list_events",
    "list_jobs",
    "list_runs",
    "new_run_id",
    "runs_in_states",
    "set_value",
    "transition",
    "update_job",
    "update_run",
]
