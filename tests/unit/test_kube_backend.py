"""KubernetesBackend against FakeKubeApi: the cluster's side is scripted with the
status shapes a real API server returns for Jobs and pods."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sparkjobs import errors, launch
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends.base import Backend, Status
from sparkjobs.backends.kube_fake import FakeKubeApi
from sparkjobs.backends.kubernetes import KubernetesBackend
from sparkjobs.config import Settings

NS = "default"
SECRET = "s3cr3t-value-xyz"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def as_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeKubeApi:
    return FakeKubeApi(clock=clock.as_datetime)


@pytest.fixture
def backend(fake: FakeKubeApi, clock: Clock, tmp_path: Path) -> KubernetesBackend:
    settings = Settings(data_dir=tmp_path / "data", kube_start_timeout_seconds=300)
    return KubernetesBackend(settings, fake, clock=clock)


@pytest.fixture
def plan(tmp_path: Path) -> launch.LaunchPlan:
    main = tmp_path / "wordcount.py"
    main.write_text("print('hello')\n")
    return launch.LaunchPlan(
        run_id="run0001",
        app_name="wordcount",
        spark_submit="/venv/bin/spark-submit",
        master="local[*]",
        kind="python",
        main_file=str(main),
        env={"MODE": "x", "PASSWORD": SECRET},
        secrets=(SECRET,),
        timeout_seconds=600,
    )


def submit(backend: KubernetesBackend, plan: launch.LaunchPlan, tmp_path: Path) -> dict:
    return backend.submit(plan, work_dir=tmp_path / "work", log_path=tmp_path / "run.log")


def running(image: str = "apache/spark:4.0.1-python3") -> dict:
    return {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "spark",
                "image": image,
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2026-11-27T12:00:05Z"}},
            }
        ],
    }


def waiting(reason: str, message: str = "", image: str = "apache/spark:nope") -> dict:
    return {
        "phase": "Pending",
        "containerStatuses": [
            {
                "name": "spark",
                "image": image,
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": message}},
            }
        ],
    }


def terminated(code: int, reason: str = "Error", message: str = "") -> dict:
    state = {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "message": message,
            "startedAt": "2026-11-27T12:00:05Z",
            "finishedAt": "2026-11-27T12:01:00Z",
        }
    }
    return {
        "phase": "Succeeded" if code == 0 else "Failed",
        "containerStatuses": [
            {"name": "spark", "image": "i", "ready": False, "restartCount": 0, "state": state}
        ],
    }


COMPLETE = {
    "succeeded": 1,
    "conditions": [
        {"type": "SuccessCriteriaMet", "status": "True"},
        {"type": "Complete", "status": "True", "lastTransitionTime": "2026-11-27T12:01:00Z"},
    ],
}
FAILED = {
    "failed": 1,
    "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"},
        {
            "type": "Failed",
            "status": "True",
            "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit",
            "lastTransitionTime": "2026-11-27T12:01:00Z",
        },
    ],
}
DEADLINE = {
    "failed": 1,
    "conditions": [
        {
            "type": "Failed",
            "status": "True",
            "reason": "DeadlineExceeded",
            "message": "Job was active longer than specified deadline",
            "lastTransitionTime": "2026-11-27T12:10:00Z",
        }
    ],
}


def test_it_keeps_the_backend_protocol(backend: KubernetesBackend) -> None:
    checked: Backend = backend
    assert checked.name == "kubernetes"


def test_submit_creates_the_job_and_its_owned_objects(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    handle = submit(backend, plan, tmp_path)
    assert handle == {
        "namespace": NS,
        "job_name": handle["job_name"],
        "run_id": "run0001",
        "submitted_at": T0,
        "log_path": str(tmp_path / "run.log"),
        "log_base": 0,
    }
    job = fake.get_job(NS, handle["job_name"])
    assert job is not None and job["spec"]["suspend"] is False  # resumed after the rest
    secret = fake.objects[("Secret", NS, km.secret_name(handle["job_name"]))]
    configmap = fake.objects[("ConfigMap", NS, km.configmap_name(handle["job_name"]))]
    for owned in (secret, configmap):
        assert owned["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    assert secret["stringData"] == {"PASSWORD": SECRET}
    assert configmap["data"]["wordcount.py"] == "print('hello')\n"
    assert backend.poll(handle).status == Status.PENDING


def test_a_submit_that_breaks_halfway_leaves_nothing(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    fake.refuse_create.add("ConfigMap")
    with pytest.raises(errors.SubmitError, match="could not start Job"):
        submit(backend, plan, tmp_path)
    assert fake.objects == {}  # the Job went, and took its Secret along


def test_a_refused_job_is_a_submit_error(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    fake.refuse_create.add("Job")
    with pytest.raises(errors.SubmitError, match="403"):
        submit(backend, plan, tmp_path)


def test_large_files_need_a_download_issuer(
    backend: KubernetesBackend, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    big = tmp_path / "big.jar"
    big.write_bytes(b"\0" * (km.SMALL_FILE_MAX_BYTES + 1))
    with pytest.raises(errors.SubmitError, match="SPARKJOBS_PUBLIC_URL"):
        submit(backend, replace(plan, jars=(str(big),)), tmp_path)


def test_large_files_are_fetched_with_the_issued_token(
    fake: FakeKubeApi, clock: Clock, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    class Issuer:
        def issue(self, run_id: str, paths: list[Path]) -> tuple[str, dict[Path, str]]:
            return f"tok-{run_id}", {p: f"http://server/{run_id}/{p.name}" for p in paths}

    big = tmp_path / "big.jar"
    big.write_bytes(b"\0" * (km.SMALL_FILE_MAX_BYTES + 1))
    backend = KubernetesBackend(Settings(), fake, issuer=Issuer(), clock=clock)
    handle = submit(backend, replace(plan, jars=(str(big),)), tmp_path)
    job = fake.get_job(NS, handle["job_name"])
    assert job is not None
    fetch = job["spec"]["template"]["spec"]["initContainers"][0]
    assert fetch["command"][-3:] == [
        "-o",
        "/opt/sparkjobs/work/big.jar",
        "http://server/run0001/big.jar",
    ]
    secret = fake.objects[("Secret", NS, km.secret_name(handle["job_name"]))]
    assert secret["stringData"][km.TOKEN_KEY] == "tok-run0001"


def test_bindings_reach_the_pod_through_refs_for(
    fake: FakeKubeApi, clock: Clock, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    refs = {"run0001": [km.KubeEnvRef(kind="service", name="redis", env="CACHE", port=6379)]}
    backend = KubernetesBackend(Settings(), fake, refs_for=lambda r: refs.get(r, []), clock=clock)
    handle = submit(backend, plan, tmp_path)
    job = fake.get_job(NS, handle["job_name"])
    assert job is not None
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["CACHE_HOST"] == "redis.default.svc"


# --- poll: state mapping ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_status", "status", "words"),
    [
        (None, Status.PENDING, "waiting for the Job's pod"),
        ({"phase": "Pending"}, Status.PENDING, "pod pending"),
        (
            waiting("ImagePullBackOff", 'Back-off pulling image "apache/spark:nope"'),
            Status.PENDING,
            "image pull failed: ImagePullBackOff for image apache/spark:nope",
        ),
        (
            waiting("ErrImagePull", "manifest unknown"),
            Status.PENDING,
            "image pull failed: ErrImagePull for image apache/spark:nope: manifest unknown",
        ),
        (
            waiting("CrashLoopBackOff", "back-off 40s restarting failed container"),
            Status.PENDING,
            "crash loop: container 'spark' keeps failing",
        ),
        (
            waiting("CreateContainerConfigError", 'secret "db" not found'),
            Status.PENDING,
            "cannot start container 'spark': CreateContainerConfigError: secret \"db\" not found",
        ),
        (
            {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient memory.",
                    }
                ],
            },
            Status.PENDING,
            "unschedulable: 0/3 nodes are available: 3 Insufficient memory.",
        ),
        (
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    {
                        "name": "fetch",
                        "image": "curl:1",
                        "ready": False,
                        "restartCount": 0,
                        "state": {"waiting": {"reason": "ErrImagePull", "message": "not found"}},
                    }
                ],
            },
            Status.PENDING,
            "image pull failed: ErrImagePull for image curl:1",
        ),
        (running(), Status.RUNNING, None),
    ],
)
def test_poll_while_it_starts(
    backend: KubernetesBackend,
    fake: FakeKubeApi,
    plan: launch.LaunchPlan,
    tmp_path: Path,
    pod_status: dict | None,
    status: Status,
    words: str | None,
) -> None:
    handle = submit(backend, plan, tmp_path)
    fake.set_job_status(NS, handle["job_name"], {"active": 1} if pod_status else {})
    if pod_status is not None:
        fake.start_pod(NS, handle["job_name"], pod_status)
    seen = backend.poll(handle)
    assert seen.status == status
    if words is None:
        assert seen.message is None
    else:
        assert seen.message is not None and seen.message.startswith(words)


@pytest.mark.parametrize(
    ("job_status", "pod_status", "code", "words"),
    [
        (COMPLETE, terminated(0, "Completed"), 0, None),
        (COMPLETE, None, 0, None),  # the pod went already (TTL, eviction)
        ({"active": 1}, terminated(0, "Completed"), 0, None),  # pod ahead of the Job
        (
            FAILED,
            terminated(3, "Error", "Traceback...\nValueError: bad input"),
            3,
            "the Spark application exited with code 3 (Error: Traceback... ValueError: bad input)",
        ),
        (
            {"active": 1},
            terminated(137, "OOMKilled"),
            137,
            "the Spark application exited with code 137 (OOMKilled)",
        ),
        (DEADLINE, None, None, "timed out: the Job ran past its deadline of 600 s"),
        (
            FAILED,
            {"phase": "Failed", "reason": "Evicted", "message": "low on ephemeral-storage"},
            None,
            "the pod failed: Evicted: low on ephemeral-storage",
        ),
        (FAILED, None, None, "the Job failed: BackoffLimitExceeded: Job has reached"),
        (
            {"active": 1},
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    {
                        "name": "fetch",
                        "image": "i",
                        "ready": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": 22,
                                "reason": "Error",
                                "message": "curl: (22) The requested URL returned error: 403",
                            }
                        },
                    }
                ],
            },
            22,
            "fetching the run's files failed in 'fetch' (Error: curl: (22)",
        ),
    ],
)
def test_poll_when_it_ends(
    backend: KubernetesBackend,
    fake: FakeKubeApi,
    plan: launch.LaunchPlan,
    tmp_path: Path,
    job_status: dict,
    pod_status: dict | None,
    code: int | None,
    words: str | None,
) -> None:
    handle = submit(backend, plan, tmp_path)
    if pod_status is not None:
        fake.start_pod(NS, handle["job_name"], pod_status)
    fake.set_job_status(NS, handle["job_name"], job_status)
    seen = backend.poll(handle)
    assert seen.status == Status.EXITED
    assert seen.exit_code == code
    if words is None:
        assert seen.message is None
    else:
        assert seen.message is not None and seen.message.startswith(words)


def test_a_run_stuck_pending_fails_after_the_start_timeout(
    backend: KubernetesBackend,
    fake: FakeKubeApi,
    clock: Clock,
    plan: launch.LaunchPlan,
    tmp_path: Path,
) -> None:
    handle = submit(backend, plan, tmp_path)
    fake.start_pod(NS, handle["job_name"], waiting("ImagePullBackOff"))
    clock.now += 299
    assert backend.poll(handle).status == Status.PENDING
    clock.now += 2
    seen = backend.poll(handle)
    assert seen.status == Status.EXITED and seen.exit_code is None
    assert seen.message == (
        "did not start within 300 s: "
        "image pull failed: ImagePullBackOff for image apache/spark:nope"
    )
    fake.set_pod_status(NS, fake.list_pods(NS, "")[0]["metadata"]["name"], running())
    assert backend.poll(handle).status == Status.RUNNING  # running is never timed out here


def test_a_job_deleted_behind_our_back_is_not_found(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    handle = submit(backend, plan, tmp_path)
    fake.start_pod(NS, handle["job_name"], running())
    fake.delete_job(NS, handle["job_name"], "Background")
    assert backend.poll(handle).status == Status.NOT_FOUND
    assert fake.names("Pod", NS) == set()
    assert fake.names("Secret", NS) == set()  # owned by the Job: collected with it


# --- stop, cleanup, sweep, reattach ------------------------------------------------------


def test_stop_deletes_the_job_in_the_foreground_and_is_idempotent(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    handle = submit(backend, plan, tmp_path)
    fake.start_pod(NS, handle["job_name"], running())
    backend.stop(handle)
    backend.stop(handle)
    backend.stop(handle, force=True)
    assert fake.job_deletions == [(NS, handle["job_name"], "Foreground")] * 3
    assert fake.objects == {}
    assert backend.poll(handle).status == Status.NOT_FOUND


def test_stop_in_cluster_mode_also_ends_the_driver_pod(
    fake: FakeKubeApi, clock: Clock, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    backend = KubernetesBackend(Settings(kube_mode="cluster"), fake, clock=clock)
    handle = submit(backend, plan, tmp_path)
    driver = km.Target.labels(km.target_for(plan, Settings(), job="wordcount"), "driver")
    fake.add_object(
        {"kind": "Pod", "metadata": {"name": "wordcount-driver", "namespace": NS, "labels": driver}}
    )
    backend.stop(handle)
    assert "wordcount-driver" not in fake.names("Pod", NS)


def test_cleanup_removes_everything_of_a_successful_run(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    handle = submit(backend, plan, tmp_path)
    fake.start_pod(NS, handle["job_name"], terminated(0, "Completed"))
    fake.set_job_status(NS, handle["job_name"], COMPLETE)
    work = tmp_path / "work"
    work.mkdir()
    backend.cleanup(handle, work_dir=work)
    backend.cleanup(handle, work_dir=work)  # idempotent
    assert fake.objects == {}
    assert not work.exists()


def test_cleanup_keeps_a_failed_runs_job_and_pod_but_not_its_secret(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    handle = submit(backend, plan, tmp_path)
    pod = fake.start_pod(NS, handle["job_name"], terminated(1))
    fake.set_job_status(NS, handle["job_name"], FAILED)
    backend.cleanup(handle, work_dir=tmp_path / "work")
    assert fake.names("Job", NS) == {handle["job_name"]}
    assert fake.names("Pod", NS) == {pod}
    assert fake.names("Secret", NS) == set() and fake.names("ConfigMap", NS) == set()


def test_cleanup_removes_a_failed_run_when_the_policy_keeps_nothing(
    fake: FakeKubeApi, clock: Clock, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    backend = KubernetesBackend(Settings(kube_keep_failed_hours=0), fake, clock=clock)
    handle = submit(backend, plan, tmp_path)
    fake.start_pod(NS, handle["job_name"], terminated(1))
    fake.set_job_status(NS, handle["job_name"], FAILED)
    backend.cleanup(handle, work_dir=tmp_path / "work")
    assert fake.objects == {}


def old_job(
    fake: FakeKubeApi, name: str, run: str, status: dict, created: str, suspend: bool = False
) -> None:
    labels = {"app.kubernetes.io/managed-by": "sparkjobs", "sparkjobs.io/run": run}
    fake.add_object(
        {
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": NS,
                "labels": labels,
                "creationTimestamp": created,
            },
            "spec": {"suspend": suspend},
            "status": status,
        }
    )


def test_sweep_removes_jobs_past_the_policy_and_orphan_drivers(
    backend: KubernetesBackend, fake: FakeKubeApi, clock: Clock
) -> None:
    failed_long_ago = {
        "failed": 1,
        "conditions": [
            {"type": "Failed", "status": "True", "lastTransitionTime": "2026-11-26T11:00:00Z"}
        ],
    }
    failed_recently = {
        "failed": 1,
        "conditions": [
            {"type": "Failed", "status": "True", "lastTransitionTime": "2026-11-27T11:00:00Z"}
        ],
    }
    done_long_ago = {
        "succeeded": 1,
        "conditions": [
            {"type": "Complete", "status": "True", "lastTransitionTime": "2026-11-27T10:00:00Z"}
        ],
    }
    old_job(fake, "a-failed-old", "r1", failed_long_ago, "2026-11-26T10:00:00Z")
    old_job(fake, "b-failed-new", "r2", failed_recently, "2026-11-27T10:00:00Z")
    old_job(fake, "c-done-old", "r3", done_long_ago, "2026-11-27T09:00:00Z")
    old_job(fake, "d-running", "r4", {"active": 1}, "2026-11-20T00:00:00Z")
    old_job(fake, "e-half-made", "r5", {}, "2026-11-27T11:00:00Z", suspend=True)
    old_job(fake, "f-half-made-now", "r6", {}, "2026-11-27T11:59:00Z", suspend=True)
    fake.add_object(
        {
            "kind": "Job",
            "metadata": {
                "name": "not-ours",
                "namespace": NS,
                "creationTimestamp": "2020-01-01T00:00:00Z",
            },
            "spec": {},
            "status": failed_long_ago,
        }
    )
    for run in ("r1", "r2", "r9"):
        labels = {
            "app.kubernetes.io/managed-by": "sparkjobs",
            "sparkjobs.io/run": run,
            "sparkjobs.io/component": "driver",
        }
        fake.add_object(
            {
                "kind": "Pod",
                "metadata": {"name": f"driver-{run}", "namespace": NS, "labels": labels},
            }
        )
    deleted = backend.sweep()
    assert sorted(deleted) == [
        "Job/default/a-failed-old",
        "Job/default/c-done-old",
        "Job/default/e-half-made",
        "Pod/default/driver-r9",
    ]
    assert fake.names("Job", NS) == {"b-failed-new", "d-running", "f-half-made-now", "not-ours"}
    assert fake.names("Pod", NS) == {"driver-r1", "driver-r2"}  # r1's goes at the next sweep


def test_reattach_finds_our_jobs_by_label(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    first = submit(backend, plan, tmp_path)
    second = submit(backend, replace(plan, run_id="run0002"), tmp_path)
    fake.add_object(
        {
            "kind": "Job",
            "metadata": {"name": "someone-elses", "namespace": NS, "labels": {"app": "x"}},
            "spec": {},
        }
    )
    found = backend.reattach()
    assert sorted((h["job_name"], h["run_id"]) for h in found) == sorted(
        [(first["job_name"], "run0001"), (second["job_name"], "run0002")]
    )
    assert all(h["submitted_at"] == T0 for h in found)
    for handle in found:
        assert backend.poll(handle).status == Status.PENDING


# --- logs --------------------------------------------------------------------------------


def test_pump_logs_appends_only_new_text(
    backend: KubernetesBackend, fake: FakeKubeApi, plan: launch.LaunchPlan, tmp_path: Path
) -> None:
    handle = submit(backend, plan, tmp_path)
    log = tmp_path / "run.log"
    assert backend.pump_logs(handle, log) == 0  # no pod yet
    pod = fake.start_pod(NS, handle["job_name"], running())
    fake.logs[(NS, pod, "spark")] = "line 1\n"
    assert backend.pump_logs(handle, log) == 7
    assert backend.pump_logs(handle, log) == 0
    fake.logs[(NS, pod, "spark")] = "line 1\nline 2 ünïcode\n"
    backend.pump_logs(handle, log)
    assert log.read_text(encoding="utf-8") == "line 1\nline 2 ünïcode\n"


def test_services_for_the_binding_form(backend: KubernetesBackend, fake: FakeKubeApi) -> None:
    fake.add_object(
        {
            "kind": "Service",
            "metadata": {"name": "redis", "namespace": NS},
            "spec": {"ports": [{"name": "redis", "port": 6379, "protocol": "TCP"}]},
        }
    )
    assert backend.services() == [
        {
            "name": "redis",
            "namespace": NS,
            "ports": [{"name": "redis", "port": 6379, "protocol": "TCP"}],
        }
    ]
