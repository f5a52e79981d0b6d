"""Every read and write of the store, as functions taking a Session first.

They return domain objects (jobs.Job, runs.Run, ...) and raise sparkjobs.errors;
callers own the transaction (Database.session()). After an error the session's
transaction is rolled back when it leaves the `with` block: start a new session
to carry on (e.g. the scheduler, one session per slot).
"""

from __future__ import annotations

from sparkjobs.store._bindings import (
    binding_users,
    delete_binding,
    get_binding,
    list_bindings,
    put_binding,
)
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
    count_runs_by_state,
    count_runs_in_states,
    get_run,
    insert_run,
    list_events,
    list_runs,
    runs_in_states,
    transition,
    update_run,
)
from sparkjobs.store._schedules import (
    ClaimedSchedule,
    HistoryEntry,
    ScheduleState,
    ScheduleUpdate,
    active_runs_of,
    add_history,
    add_missing_schedules,
    claim_due_schedules,
    earliest_due,
    get_schedule_state,
    insert_scheduled_runs,
    list_history,
    release_schedules,
    set_suspended,
    withdraw_scheduled_runs,
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
    "ClaimedSchedule",
    "HistoryEntry",
    "ScheduleState",
    "ScheduleUpdate",
    "active_runs_of",
    "add_history",
    "add_missing_schedules",
    "add_note",
    "artifact_users",
    "binding_users",
    "claim_due_schedules",
    "count_runs_by_state",
    "count_runs_in_states",
    "create_artifact",
    "create_job",
    "delete_artifact",
    "delete_binding",
    "delete_job",
    "earliest_due",
    "get_artifact",
    "get_binding",
    "get_job",
    "get_job_spec",
    "get_run",
    "get_schedule_state",
    "get_value",
    "insert_run",
    "insert_scheduled_runs",
    "insert_value_if_absent",
    "list_artifacts",
    "list_bindings",
    "list_events",
    "list_history",
    "list_jobs",
    "list_runs",
    "new_run_id",
    "put_binding",
    "release_schedules",
    "runs_in_states",
    "set_suspended",
    "set_value",
    "transition",
    "update_job",
    "update_run",
    "withdraw_scheduled_runs",
]
