"""Alerts of runs: the supervisor says a run started or ended; this decides and sends.

The supervisor makes two calls (run_started when a run reaches RUNNING,
run_ended after a terminal transition) and nothing else. Whether to alert,
whom, and with what, is notify.plan_alert's decision: with last_attempt_only
(the default) a failure whose retry is queued stays quiet, because the retry
policy that queued it (attempt < max_attempts) is the one notify.wanted asks.
Sending happens on the AlertDispatcher's thread; each result becomes a note on
the run ("alert sent to webhook https://host/..."), never with a URL's path.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sparkjobs import envvars, jobs, notify, runs
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.redact import Redactor
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import masking

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LOG_TAIL_LINES = 50
#: Read at most this much of a log's end for the tail (a log can be gigabytes).
LOG_TAIL_BYTES = 256 * 1024


class Alerting:
    """Plans alerts on the supervisor's thread, delivers them on the dispatcher's."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        box: SecretBox,
        log_path: Callable[[str], Path],
        clock: Clock,
        *,
        deliver: notify.Deliver | None = None,
    ) -> None:
        self._settings = settings
        self._db = db
        self._box = box
        self._log_path = log_path
        self._clock = clock
        send = deliver or functools.partial(notify.deliver, settings=settings)
        self._dispatcher = notify.AlertDispatcher(send, self._record)

    def run_started(self, run: runs.Run) -> None:
        """The run reached RUNNING: on_start alerts (first attempts only, by default)."""
        self._guarded(run.id)

    def run_ended(self, run_id: str) -> None:
        """The run reached a terminal state: on_success / on_failure alerts."""
        self._guarded(run_id)

    def close(self, timeout: float = 5.0) -> None:
        """Let queued alerts go out for up to `timeout` seconds."""
        self._dispatcher.close(timeout)

    def _guarded(self, run_id: str) -> None:
        try:
            alert = self._plan(run_id)
        except Exception:  # an alert must never take the supervisor down
            log.exception("planning the alert of run %s failed", run_id)
            return
        if alert is not None:
            self._dispatcher.submit(alert)

    def _plan(self, run_id: str) -> notify.Alert | None:
        with self._db.session() as s:
            run = repo.get_run(s, run_id)
            job = repo.get_job(s, run.job)
            spec = repo.get_job_spec(s, run.job, run.job_version)
        job = replace(job, version=run.job_version, spec=spec)
        event = notify.event_for(run)
        if event is None or not notify.wanted(event, run, spec):
            return None
        if not notify.targets_for(event, spec, self._settings):
            return None
        link = notify.run_link(self._settings, run.id) or self._local_link(run.id)
        alert = notify.plan_alert(job, run, self._settings, log_tail=self._tail(run, spec))
        if alert is None or alert.payload.get("link"):
            return alert
        return replace(alert, payload={**alert.payload, "link": link})

    def _local_link(self, run_id: str) -> str:
        """Without public_url, the server's own address (right on one machine)."""
        return f"http://{self._settings.host}:{self._settings.port}/runs/{run_id}"

    def _tail(self, run: runs.Run, spec: jobs.JobSpec) -> list[str]:
        """The log's last lines with the run's secrets masked; none if they cannot be read."""
        try:
            redactor = Redactor(self._secrets(run, spec))
        except Exception:
            log.warning("run %s: its secrets cannot be read; the alert has no log lines", run.id)
            return []
        return [redactor.mask(line) for line in read_tail(self._log_path(run.id))]

    def _secrets(self, run: runs.Run, spec: jobs.JobSpec) -> tuple[str, ...]:
        env = masking.run_env(self._db, run)  # the job's, its bindings' and the run's
        return envvars.resolve(env, self._box.decrypt)[1]

    def _record(self, run_id: str, result: notify.DeliveryResult) -> None:
        with self._db.session() as s:
            repo.add_note(s, run_id, result.describe(), self._clock())


def read_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of a text file (none if it does not exist)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - LOG_TAIL_BYTES))
            data = f.read()
    except OSError:
        return []
    text = data.decode("utf-8", "replace").splitlines()
    if size > LOG_TAIL_BYTES:
        text = text[1:]  # the first line is cut
    return _last(text, lines)


def _last(items: Iterable[str], n: int) -> list[str]:
    return list(deque(items, maxlen=n))
