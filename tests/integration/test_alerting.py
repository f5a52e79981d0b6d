"""Alerts of real supervised runs (FakeBackend) to a real webhook server and a real SMTP server.

The supervisor is stepped with tick() and an injected clock; the alerts go out
on the dispatcher's thread over real loopback connections, so the tests wait
(boundedly) for them to arrive and for the run's notes to be recorded.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from sparkjobs import envvars, jobs, runs
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import Supervisor
from tests.support import InlineLauncher, WebhookReceiver

SECRET = "hunter2-very-secret"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WAIT_S = 10.0


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@dataclass
class Rig:
    sup: Supervisor
    fake: FakeBackend
    db: Database
    settings: Settings
    clock: list[datetime]

    def job(self, **fields: Any) -> None:
        app = self.settings.data_dir.parent / "apps" / "app.py"
        env = [envvars.EnvVar.model_validate({"name": "TOKEN", "secret": SECRET})]
        sealed = envvars.seal(env, SecretBox.from_settings(self.settings).encrypt)
        spec = jobs.JobSpec.model_validate(
            {"name": "nightly", "source": {"type": "path", "path": str(app)}, **fields}
        ).model_copy(update={"env": sealed})
        with self.db.session() as s:
            repo.create_job(s, spec, self.clock[0])

    def fail_a_run(self, run_id: str) -> None:
        self.sup.tick()
        self.sup.tick()  # running
        log = self.settings.logs_dir / f"{run_id}.log"
        with log.open("a") as f:
            f.write(f"connecting with token {SECRET}\nTraceback: boom\n")
        self.fake.finish(run_id, 3)
        self.sup.tick()

    def notes(self, run_id: str, expected: int) -> list[str]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self.db.session() as s:
                events = repo.list_events(s, run_id)
            found = [e.reason for e in events if e.reason.startswith("alert")]
            if len(found) >= expected:
                return found
            time.sleep(0.05)
        pytest.fail(f"run {run_id} got no alert note within {WAIT_S} s")


@pytest.fixture
def rig(tmp_path: Path, db_url: str, inbox: tuple[Inbox, int]) -> Iterator[Rig]:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "app.py").write_text("print('hi')\n")
    settings = Settings(
        data_dir=tmp_path / "data",
        default_backend="fake",
        allowed_source_dirs=[tmp_path / "apps"],
        port=8123,
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        smtp_from="sj@example.com",
    )
    db = Database(db_url)
    db.migrate()
    clock = [T0]
    fake = FakeBackend()
    sup = Supervisor(
        settings,
        db,
        {"fake": fake},
        clock=lambda: clock[0],
        instance_id="alerts",
        launcher=InlineLauncher(),
    )
    yield Rig(sup, fake, db, settings, clock)
    sup.shutdown()
    db.dispose()


def test_a_failed_run_posts_its_alert_with_secrets_masked_and_notes_it(
    rig: Rig, hook: WebhookReceiver
) -> None:
    rig.job(notify={"on_failure": [{"webhook": hook.url}]})
    run = rig.sup.request_run("nightly", runs.RunOverrides())
    rig.fail_a_run(run.id)
    [note] = rig.notes(run.id, 1)
    assert note.startswith("alert sent to webhook http://127.0.0.1:") and note.endswith("/...")
    assert "SECRET-PATH-TOKEN" not in note
    [body] = hook.bodies
    assert (body["job"], body["run_id"], body["state"]) == ("nightly", run.id, "failed")
    assert body["reason"].startswith("exit code 3")
    assert body["link"] == f"http://127.0.0.1:8123/runs/{run.id}"
    assert "connecting with token ***" in body["log_tail"]
    assert SECRET not in json.dumps(body)


def test_with_retries_only_the_last_attempt_alerts_and_start_only_the_first(
    rig: Rig, hook: WebhookReceiver
) -> None:
    rig.job(
        retries={"max_attempts": 2, "backoff_seconds": 5},
        notify={"on_failure": [{"webhook": hook.url}], "on_start": [{"webhook": hook.url}]},
    )
    first = rig.sup.request_run("nightly", runs.RunOverrides())
    rig.fail_a_run(first.id)
    rig.notes(first.id, 1)  # the start alert; its failure is quiet (a retry follows)
    rig.clock[0] += timedelta(seconds=6)
    with rig.db.session() as s:
        [retry] = repo.list_runs(s, job="nightly", states=[runs.RunState.QUEUED])[0]
    rig.fail_a_run(retry.id)
    rig.notes(retry.id, 1)
    time.sleep(0.3)  # room for an alert that must not come
    assert [(b["event"], b["attempt"]) for b in hook.bodies] == [("start", 1), ("failure", 2)]


def test_a_refusing_webhook_is_noted_and_the_run_still_ends(
    rig: Rig, hook: WebhookReceiver
) -> None:
    hook.statuses = [404]
    rig.job(notify={"on_failure": [{"webhook": hook.url}]})
    run = rig.sup.request_run("nightly", runs.RunOverrides())
    rig.fail_a_run(run.id)
    [note] = rig.notes(run.id, 1)
    assert note.startswith("alert to webhook http://127.0.0.1:")
    assert "failed after 1 attempt(s): webhook answered HTTP 404" in note
    with rig.db.session() as s:
        assert repo.get_run(s, run.id).state is runs.RunState.FAILED


def test_a_failure_alert_email_reaches_the_smtp_server(rig: Rig, inbox: tuple[Inbox, int]) -> None:
    box = inbox[0]
    rig.job(notify={"on_failure": [{"email": "ops@example.com"}]})
    run = rig.sup.request_run("nightly", runs.RunOverrides())
    rig.fail_a_run(run.id)
    assert rig.notes(run.id, 1) == ["alert sent to email ops@example.com"]
    [envelope] = box.envelopes
    assert envelope.rcpt_tos == ["ops@example.com"]
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content)
    subject = " ".join(str(message["Subject"]).split())  # unfolded
    assert subject == (
        f"sparkjobs: job nightly run {run.id} failed (exit code 3: the fake run exited with code 3)"
    )
    text = message.get_payload(decode=True)
    assert isinstance(text, bytes) and b"connecting with token ***" in text
    assert SECRET.encode() not in envelope.content
