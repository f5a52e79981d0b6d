"""The Kubernetes backend driven by the REAL supervisor over a real store (SQLite and
PostgreSQL), with FakeKubeApi (our own thin wrapper's fake) playing the cluster.

The cluster's side is scripted in the shapes a real API server returns; the
clock is injected and the loop stepped with tick(), so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sparkjobs import envvars, jobs, runs
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends.base import Backend
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.backends.kube_client import KubeApiError
from sparkjobs.backends.kube_fake import FakeKubeApi
from sparkjobs.backends.kubernetes import KubernetesBackend
from sparkjobs.config import Settings
from sparkjobs.runs import RunState
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import Supervisor
from tests.support import Clock, InlineLauncher

S = RunState
NS = "team-a"
IMAGE = "registry.example/spark:4.0.1"
SECRET = "hunter2-but-longer"


class FlakyKubeApi(FakeKubeApi):
    """The fake cluster, whose API can be made unreachable."""

    down = False

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        if self.down:
            raise KubeApiError("cannot reach the Kubernetes API to read a Job: timed out")
        return super().get_job(namespace, name)


@dataclass
class World:
    sup: Supervisor
    kube: FlakyKubeApi
    db: Database
    clock: Clock
    settings: Settings
    apps: Path

    def backends(self) -> dict[str, Backend]:
        kube = KubernetesBackend(self.settings, self.kube, clock=self.clock.epoch)
        return {"kubernetes": kube, "fake": FakeBackend()}

    def supervisor(self, instance_id: str) -> Supervisor:
        return Supervisor(
            self.settings,
            self.db,
            self.backends(),
            clock=self.clock,
            instance_id=instance_id,
            launcher=InlineLauncher(),
        )

    def job(self, name: str = "wc", **fields: Any) -> None:
        app = self.apps / "app.py"
        app.write_text("print('hi')\n")
        spec = jobs.JobSpec.model_validate(
            {"name": name, "source": {"type": "path", "path": str(app)}, **fields}
        )
        spec = spec.model_copy(update={"env": envvars.seal(spec.env, self.sup.box.encrypt)})
        with self.db.session() as s:
            repo.create_job(s, spec, self.clock())

    def kube_job(self, name: str = "wc") -> None:
        self.job(
            name,
            backend="kubernetes",
            namespace=NS,
            image=IMAGE,
            env=[{"name": "MODE", "value": "fast"}, {"name": "PASSWORD", "secret": SECRET}],
        )

    def request(self, job: str = "wc") -> str:
        return self.sup.request_run(job, runs.RunOverrides()).id

    def run(self, run_id: str) -> runs.Run:
        with self.db.session() as s:
            return repo.get_run(s, run_id)

    def reasons(self, run_id: str) -> list[str]:
        with self.db.session() as s:
            return [e.reason for e in repo.list_events(s, run_id)]

    def job_name(self, run_id: str) -> str:
        handle = self.run(run_id).handle
        assert handle is not None
        return str(handle["job_name"])

    def log(self, run_id: str) -> str:
        path = self.settings.logs_dir / f"{run_id}.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def w(db_url: str, tmp_path: Path) -> Iterator[World]:
    apps = tmp_path / "apps"
    apps.mkdir()
    settings = Settings(
        data_dir=tmp_path / "data",
        default_backend="fake",
        allowed_source_dirs=[apps],
        kube_namespace="sparkjobs",
        kube_start_timeout_seconds=300,
        kube_keep_failed_hours=1,
        stop_grace_seconds=10,
    )
    db = Database(db_url)
    db.migrate()
    clock = Clock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    kube = FlakyKubeApi(clock=clock)
    w = World(None, kube, db, clock, settings, apps)  # type: ignore[arg-type]
    w.sup = w.supervisor("server-a")
    yield w
    db.dispose()


def running() -> dict[str, Any]:
    state = {"running": {"startedAt": "2026-11-27T12:00:05Z"}}
    return {"phase": "Running", "containerStatuses": [_container(state)]}


def waiting(reason: str, message: str) -> dict[str, Any]:
    state = {"waiting": {"reason": reason, "message": message}}
    return {"phase": "Pending", "containerStatuses": [_container(state)]}


def terminated(code: int) -> dict[str, Any]:
    state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}
    phase = "Succeeded" if code == 0 else "Failed"
    return {"phase": phase, "containerStatuses": [_container(state)]}


def _container(state: dict[str, Any]) -> dict[str, Any]:
    return {"name": "spark", "image": IMAGE, "ready": "running" in state, "state": state}


def ended(clock: Clock, *, ok: bool) -> dict[str, Any]:
    kind, reason = ("Complete", None) if ok else ("Failed", "BackoffLimitExceeded")
    condition = {"type": kind, "status": "True", "lastTransitionTime": clock.stamp()}
    if reason:
        condition["reason"] = reason
    return {("succeeded" if ok else "failed"): 1, "conditions": [condition]}


def started(w: World) -> tuple[str, str]:
    """A kubernetes run whose pod is up: (run id, pod name)."""
    w.kube_job()
    run_id = w.request()
    w.sup.tick()  # claimed and submitted
    assert w.run(run_id).state is S.STARTING
    pod = w.kube.start_pod(NS, w.job_name(run_id), running())
    w.sup.tick()
    assert w.run(run_id).state is S.RUNNING
    return run_id, pod


def test_a_run_goes_through_its_states_with_the_pods_exit_code_and_log(w: World) -> None:
    run_id, pod = started(w)
    job = w.kube.get_job(NS, w.job_name(run_id))
    assert job is not None
    assert job["metadata"]["labels"][km.LABEL_JOB] == "wc"  # the job's name, not the app name
    assert job["metadata"]["labels"][km.LABEL_RUN] == run_id
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    secret = w.kube.objects[("Secret", NS, km.secret_name(w.job_name(run_id)))]
    assert secret["stringData"]["PASSWORD"] == SECRET  # decrypted into the per-run Secret only

    w.kube.logs[(NS, pod, "spark")] = "line 1\n"
    w.sup.tick()  # too soon after the last copy: rate-limited
    assert w.log(run_id) == ""
    w.clock.advance(5)
    w.sup.tick()
    assert w.log(run_id) == "line 1\n"

    w.kube.logs[(NS, pod, "spark")] = "line 1\nline 2\nthe end\n"
    w.kube.set_pod_status(NS, pod, terminated(0))
    w.kube.set_job_status(NS, w.job_name(run_id), ended(w.clock, ok=True))
    w.sup.tick()  # no time passed: the last copy happens because the pod ended
    run = w.run(run_id)
    assert (run.state, run.exit_code) == (S.SUCCEEDED, 0)
    assert w.log(run_id) == "line 1\nline 2\nthe end\n"
    for kind in ("Job", "Secret", "ConfigMap", "Pod"):
        assert w.kube.names(kind, NS) == set(), kind


def test_a_failed_pod_fails_the_run_and_its_job_is_kept_then_swept(w: World) -> None:
    run_id, pod = started(w)
    name = w.job_name(run_id)
    w.kube.set_pod_status(NS, pod, terminated(3))
    w.kube.set_job_status(NS, name, ended(w.clock, ok=False))
    w.sup.tick()
    run = w.run(run_id)
    assert (run.state, run.exit_code) == (S.FAILED, 3)
    assert run.reason is not None and run.reason.startswith("exit code 3")
    # Kept for debugging (kube_keep_failed_hours), but not the run's secrets and files.
    assert w.kube.names("Job", NS) == {name} and w.kube.names("Pod", NS) == {pod}
    assert w.kube.names("Secret", NS) == set() and w.kube.names("ConfigMap", NS) == set()

    w.clock.advance(2 * 3600)  # past the keep time; the next poll of any run sweeps
    w.job("other", backend="kubernetes", namespace=NS)
    w.request("other")
    w.sup.tick()
    w.sup.tick()
    assert name not in w.kube.names("Job", NS)
    assert pod not in w.kube.names("Pod", NS)


def test_why_a_run_is_pending_is_noted_once_and_the_start_timeout_fails_it(w: World) -> None:
    w.kube_job()
    run_id = w.request()
    w.sup.tick()
    pod = w.kube.start_pod(NS, w.job_name(run_id), waiting("ErrImagePull", "not found"))
    w.sup.tick()
    w.kube.set_pod_status(NS, pod, waiting("ImagePullBackOff", "Back-off pulling image"))
    for _ in range(3):
        w.clock.advance(10)
        w.sup.tick()
    w.kube.set_pod_status(NS, pod, waiting("ErrImagePull", "not found"))
    w.sup.tick()
    notes = [r for r in w.reasons(run_id) if r.startswith("pending: image pull failed")]
    assert notes == [
        f"pending: image pull failed: ErrImagePull for image {IMAGE}: not found",
        f"pending: image pull failed: ImagePullBackOff for image {IMAGE}: Back-off pulling image",
    ]
    assert w.run(run_id).state is S.STARTING

    w.clock.advance(300)
    w.sup.tick()
    run = w.run(run_id)
    assert run.state is S.FAILED and run.exit_code is None
    pull = f"image pull failed: ErrImagePull for image {IMAGE}: not found"
    assert run.reason == f"did not start within 300 s: {pull}"
    assert w.kube.names("Secret", NS) == set()


def test_stop_deletes_the_job_in_the_foreground_and_the_run_ends_stopped(w: World) -> None:
    run_id, _ = started(w)
    name = w.job_name(run_id)
    w.sup.request_stop(run_id)
    w.sup.tick()
    assert (NS, name, "Foreground") in w.kube.job_deletions
    w.sup.tick()
    run = w.run(run_id)
    assert (run.state, run.reason) == (S.STOPPED, "stopped on request")
    assert w.kube.names("Job", NS) == set() and w.kube.names("Pod", NS) == set()


def test_a_job_deleted_behind_our_back_makes_the_run_lost(w: World) -> None:
    run_id, _ = started(w)
    w.kube.delete_job(NS, w.job_name(run_id), "Background")  # kubectl delete job ...
    w.sup.tick()
    run = w.run(run_id)
    assert (run.state, run.reason) == (S.LOST, "the Job no longer exists")


def test_another_server_can_watch_and_finish_a_kubernetes_run_but_not_a_local_one(
    w: World,
) -> None:
    run_id, pod = started(w)
    w.job("here")  # the default backend: "fake", a process of server-a
    local_id = w.request("here")
    w.sup.tick()
    assert w.run(local_id).state is S.STARTING

    other = w.supervisor("server-b")  # same database, same cluster; server-a is gone
    w.kube.logs[(NS, pod, "spark")] = "from the pod\n"
    w.kube.set_pod_status(NS, pod, terminated(0))
    w.kube.set_job_status(NS, w.job_name(run_id), ended(w.clock, ok=True))
    other.tick()
    run = w.run(run_id)
    assert (run.state, run.exit_code, run.owner) == (S.SUCCEEDED, 0, "server-a")
    assert w.log(run_id) == "from the pod\n"
    assert w.kube.names("Job", NS) == set()
    # A local run can only be watched where it runs: server-b leaves it alone.
    w.clock.advance(3600)
    other.tick()
    assert w.run(local_id).state is S.STARTING


def test_a_cluster_api_that_does_not_answer_holds_up_no_other_run(w: World) -> None:
    run_id, _ = started(w)
    w.job("here")
    local_id = w.request("here")
    w.kube.down = True
    w.sup.tick()  # claims the local run although polling the kubernetes run fails
    w.sup.tick()
    assert w.run(local_id).state is S.RUNNING
    assert w.run(run_id).state is S.RUNNING
    w.kube.down = False
    w.kube.delete_job(NS, w.job_name(run_id), "Background")
    w.sup.tick()
    assert w.run(run_id).state is S.LOST
