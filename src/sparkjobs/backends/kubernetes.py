"""The Kubernetes backend: each run is one batch/v1 Job whose pod runs the run's spark-submit.

submit() creates the Job suspended, then the per-run Secret and ConfigMap
(owned by the Job, so Kubernetes deletes them with it), then resumes the Job.
poll() reads the Job and its pod and says what a person would want to know
(image pull failures, unschedulable pods, exit codes, deadlines). The handle
carries submitted_at so a run stuck pending fails after kube_start_timeout_seconds,
even across a server restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sparkjobs import errors, jobs, launch
from sparkjobs.backends import kube_client
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends.base import Handle, Observation, Status
from sparkjobs.config import Settings

Obj = dict[str, Any]
log = logging.getLogger(__name__)

IMAGE_PULL = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
CANNOT_START = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)


class DownloadIssuer(Protocol):
    """Lets a pod fetch a run's large files from this server (the API implements it)."""

    def issue(self, run_id: str, paths: Sequence[Path]) -> tuple[str, dict[Path, str]]:
        """A short-lived bearer token for the run and, for each path, the URL to fetch it."""
        ...


def download_url(base_url: str, run_id: str, name: str) -> str:
    """Where the server serves a run's file to its pod (api/downloads.py; per-run token only)."""
    return f"{base_url.rstrip('/')}/api/v1/downloads/{run_id}/{name}"


class _DryRunIssuer:
    """URLs as the real issuer would make them, with a token that is never valid."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def issue(self, run_id: str, paths: Sequence[Path]) -> tuple[str, dict[Path, str]]:
        return "dry-run", {p: download_url(self.base_url, run_id, p.name) for p in paths}


def _place_files(
    plan: launch.LaunchPlan, *, missing_as_large: bool = False
) -> tuple[dict[str, bytes], list[Path]]:
    """Small files (read now, for the ConfigMap) and large ones (fetched by the pod).

    missing_as_large (the dry run): a file the server has not fetched yet (a url or
    git source) counts as large, since its size is unknown until the run fetches it.
    """
    small: dict[str, bytes] = {}
    large: list[Path] = []
    wanted = dict.fromkeys([plan.main_file, *plan.files, *plan.py_files, *plan.jars])
    for path in (Path(p) for p in wanted if not km.in_image(p)):
        if missing_as_large and not path.exists():
            large.append(path)
            continue
        try:
            size = path.stat().st_size
            total = sum(map(len, small.values())) + size
            if size <= km.SMALL_FILE_MAX_BYTES and total <= km.SMALL_FILES_TOTAL_MAX_BYTES:
                small[path.name] = path.read_bytes()
            else:
                large.append(path)
        except OSError as exc:
            raise errors.SubmitError(f"cannot read the run's file '{path.name}': {exc}") from exc
    return small, large


def run_inputs(
    plan: launch.LaunchPlan,
    *,
    refs: Sequence[km.KubeEnvRef] = (),
    issuer: DownloadIssuer | None = None,
    dry_run: bool = False,
) -> km.RunInputs:
    """Split the env, place the files and get download URLs: all a run's pod needs."""
    plain, secret = km.split_env(plan)
    small, large = _place_files(plan, missing_as_large=dry_run)
    token: str | None = None
    downloads: tuple[km.Download, ...] = ()
    if large:
        if issuer is None:
            names = ", ".join(p.name for p in large)
            raise errors.SubmitError(
                f"{names}: too large for a ConfigMap, and the pod cannot download it because "
                "this server has no public URL; set SPARKJOBS_PUBLIC_URL"
            )
        token, urls = issuer.issue(plan.run_id, large)
        downloads = tuple(km.Download(name=p.name, url=urls[p]) for p in large)
    return km.RunInputs(
        plain_env=plain,
        secret_env=secret,
        small_files=small,
        downloads=downloads,
        refs=tuple(refs),
        fetch_token=token,
    )


def manifests_for(
    spec: jobs.JobSpec,
    plan: launch.LaunchPlan,
    settings: Settings,
    run_id: str | None = None,
    *,
    refs: Sequence[km.KubeEnvRef] = (),
) -> list[Obj]:
    """The objects a run of spec would create, for the dry run; render with km.render_yaml."""
    plan = replace(plan, run_id=run_id or plan.run_id, job=spec.name)
    plan = km.with_job_placement(plan, spec, settings)
    target = km.target_for(plan, settings, job=spec.name)
    issuer = _DryRunIssuer(settings.public_url or "http://sparkjobs:8080")
    inputs = run_inputs(plan, refs=refs, issuer=issuer, dry_run=True)
    return km.build_objects(plan, target, inputs)


# --- what the Job and its pod say ---------------------------------------------------


def _condition(obj: Obj, kind: str) -> Obj | None:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next(
        (c for c in conditions if c.get("type") == kind and c.get("status") == "True"), None
    )


def _statuses(pod: Obj, key: str) -> list[Obj]:
    return list((pod.get("status") or {}).get(key) or [])


def _main_state(pod: Obj | None) -> Obj:
    statuses = _statuses(pod, "containerStatuses") if pod else []
    return dict(statuses[0].get("state") or {}) if statuses else {}


def _terminated_text(term: Obj) -> str:
    detail = (term.get("message") or "").strip().splitlines()[-3:]
    return f"{term.get('reason') or 'Error'}" + (f": {' '.join(detail)}" if detail else "")


def _say(head: str, detail: str | None) -> str:
    detail = (detail or "").strip()
    return f"{head}: {detail}" if detail else head


def _finished(job: Obj, pod: Obj | None) -> Observation | None:
    """EXITED when the Job or its pod says the run is over, else None."""
    term = _main_state(pod).get("terminated")
    code = term.get("exitCode") if term else None
    if _condition(job, "Complete"):
        return Observation(status=Status.EXITED, exit_code=code if code is not None else 0)
    failed = _condition(job, "Failed")
    if failed and failed.get("reason") == "DeadlineExceeded":
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        text = f"timed out: the Job ran past its deadline of {deadline} s and was ended"
        return Observation(status=Status.EXITED, exit_code=code, message=text)
    if term:
        why = f"the Spark application exited with code {code} ({_terminated_text(term)})"
        return Observation(status=Status.EXITED, exit_code=code, message=why if code else None)
    return _failed_early(job, failed, pod)


def _failed_early(job: Obj, failed: Obj | None, pod: Obj | None) -> Observation | None:
    """The run ended before Spark did: a failed download, an evicted pod, a deleted Job."""
    for status in _statuses(pod, "initContainerStatuses") if pod else []:
        term = (status.get("state") or {}).get("terminated") or {}
        if term.get("exitCode"):
            head = f"fetching the run's files failed in '{status.get('name')}'"
            text = f"{head} ({_terminated_text(term)})"
            return Observation(status=Status.EXITED, exit_code=term["exitCode"], message=text)
    pod_status = (pod or {}).get("status") or {}
    if pod_status.get("phase") == "Failed":
        text = _say(f"the pod failed: {pod_status.get('reason', '')}", pod_status.get("message"))
        return Observation(status=Status.EXITED, message=text)
    if failed:
        text = _say(f"the Job failed: {failed.get('reason', '')}", failed.get("message"))
        return Observation(status=Status.EXITED, message=text)
    if job["metadata"].get("deletionTimestamp") and pod is None:
        return Observation(status=Status.EXITED, message="the Job was deleted")
    return None


def _container_trouble(status: Obj) -> str | None:
    waiting = (status.get("state") or {}).get("waiting") or {}
    reason, detail, name = waiting.get("reason"), waiting.get("message"), status.get("name")
    if reason in IMAGE_PULL:
        return _say(f"image pull failed: {reason} for image {status.get('image')}", detail)
    if reason == "CrashLoopBackOff":
        return _say(f"crash loop: container '{name}' keeps failing (CrashLoopBackOff)", detail)
    if reason in CANNOT_START:
        return _say(f"cannot start container '{name}': {reason}", detail)
    return None


def _waiting(pod: Obj) -> str | None:
    """Why the pod is not running yet, in words, or None when nothing is wrong."""
    for status in [*_statuses(pod, "initContainerStatuses"), *_statuses(pod, "containerStatuses")]:
        trouble = _container_trouble(status)
        if trouble:
            return trouble
    unschedulable = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if all(condition.get(k) == v for k, v in unschedulable.items()):
            return _say("unschedulable", condition.get("message"))
    return None


def _progress(job: Obj, pod: Obj | None) -> Observation:
    if (job.get("spec") or {}).get("suspend"):
        return Observation(status=Status.PENDING, message="the Job is being created")
    if pod is None:
        return Observation(status=Status.PENDING, message="waiting for the Job's pod")
    if "running" in _main_state(pod):
        return Observation(status=Status.RUNNING)
    phase = (pod.get("status") or {}).get("phase", "Pending")
    return Observation(status=Status.PENDING, message=_waiting(pod) or f"pod {phase.lower()}")


def observe(
    job: Obj | None, pods: Sequence[Obj], *, pending_for: float, start_timeout: float
) -> Observation:
    """What a Job and its pods mean for the run (pure; pods oldest first)."""
    if job is None:
        return Observation(status=Status.NOT_FOUND, message="the Job no longer exists")
    pod = pods[-1] if pods else None
    seen = _finished(job, pod) or _progress(job, pod)
    if seen.status == Status.PENDING and pending_for > start_timeout:
        text = f"did not start within {start_timeout:.0f} s: {seen.message}"
        return Observation(status=Status.EXITED, message=text)
    return seen


def _epoch(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None


# --- the backend ---------------------------------------------------------------------


def append_beyond(path: Path, data: bytes, base: int) -> int:
    """Append the part of data the file lacks after offset base; return bytes added.

    Under an exclusive lock, so two servers copying the same pod's log into one
    file never write a line twice.
    """
    with path.open("ab") as out:
        fcntl.flock(out, fcntl.LOCK_EX)  # released when the file closes
        have = max(out.seek(0, os.SEEK_END) - base, 0)
        if len(data) <= have:
            return 0
        out.write(data[have:])
        return len(data) - have


class KubernetesBackend:
    """Runs each plan as a Kubernetes Job; see the module docstring and docs/kubernetes.md.

    Constructing it is cheap and touches no cluster: the client loads its
    configuration on the first call, so a server without cluster access starts fine.
    """

    name = "kubernetes"
    #: A run's state lives in the cluster: any server sharing the database can watch it.
    shared = True
    #: poll() copies the pod's log into the run's log at most this often (it reads it whole).
    log_pump_seconds = 3.0
    #: poll() sweeps orphans at most this often (every server may; deletes are idempotent).
    sweep_seconds = 300.0

    def __init__(
        self,
        settings: Settings,
        api: kube_client.KubeApi | None = None,
        *,
        issuer: DownloadIssuer | None = None,
        refs_for: Callable[[str], Sequence[km.KubeEnvRef]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._api = api
        self.issuer = issuer
        #: Run id -> the Kubernetes objects its bindings point at (wired by the inputs issue).
        self.refs_for = refs_for or (lambda run_id: ())
        self.clock = clock
        #: Run id -> when poll() last copied its pod's log.
        self._pumped: dict[str, float] = {}
        self._swept_at: float | None = None
        #: Namespaces the sweep looks at: the default and every one a run went to.
        self._namespaces: set[str] = {settings.kube_namespace}

    @property
    def api(self) -> kube_client.KubeApi:
        if self._api is None:
            self._api = kube_client.RealKubeApi()
        return self._api

    def submit(self, plan: launch.LaunchPlan, *, work_dir: Path, log_path: Path) -> Handle:
        """Create the run's objects. The handle carries the log path and its size now, so
        that poll() appends the pod's log after what the server wrote there before."""
        try:
            job = plan.job or km.job_label(plan.app_name)
            target = km.target_for(plan, self.settings, job=job)
            inputs = run_inputs(plan, refs=self.refs_for(plan.run_id), issuer=self.issuer)
            objects = km.build_objects(plan, target, inputs)
        except errors.Invalid as exc:
            raise errors.SubmitError(exc.message) from exc
        self._create(objects, target)
        self._namespaces.add(target.namespace)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.touch()  # the run's log exists from now on, empty until the pod writes
        return {
            "namespace": target.namespace,
            "job_name": target.job_name,
            "run_id": plan.run_id,
            "submitted_at": self.clock(),
            "log_path": str(log_path),
            "log_base": log_path.stat().st_size,
        }

    def _create(self, objects: list[Obj], target: km.Target) -> None:
        ns, name = target.namespace, target.job_name
        try:
            job = self.api.create(objects[0])
        except kube_client.KubeApiError as exc:
            raise errors.SubmitError(f"could not create Job {ns}/{name}: {exc.message}") from exc
        try:
            for obj in objects[1:]:
                self.api.create(km.owned_by(obj, job))
            self.api.resume_job(ns, name)
        except kube_client.KubeApiError as exc:
            with contextlib.suppress(kube_client.KubeApiError):
                self.api.delete_job(ns, name, "Background")  # takes what it owns along
            raise errors.SubmitError(f"could not start Job {ns}/{name}: {exc.message}") from exc

    def _pods(self, handle: Handle, component: str = km.SUBMIT_COMPONENT) -> list[Obj]:
        selector = f"{km.LABEL_RUN}={handle['run_id']},{km.LABEL_COMPONENT}={component}"
        return self.api.list_pods(handle["namespace"], selector)

    def poll(self, handle: Handle) -> Observation:
        """What the Job and its pod say; also copies the pod's log and sweeps (rate-limited).

        Raises KubeApiError when the cluster cannot be asked (the supervisor tries again).
        """
        job = self.api.get_job(handle["namespace"], handle["job_name"])
        pods = self._pods(handle) if job else []
        seen = observe(
            job,
            pods,
            pending_for=self.clock() - float(handle.get("submitted_at", self.clock())),
            start_timeout=self.settings.kube_start_timeout_seconds,
        )
        self._housekeep(handle, pods, ended=seen.status in (Status.EXITED, Status.NOT_FOUND))
        return seen

    def _housekeep(self, handle: Handle, pods: list[Obj], *, ended: bool) -> None:
        """poll()'s chores: the pod log (always once more when the run ended), the sweep."""
        now, run_id = self.clock(), str(handle["run_id"])
        due = now - self._pumped.get(run_id, -math.inf) >= self.log_pump_seconds
        if "log_path" in handle and pods and (due or ended):
            self._pumped[run_id] = now
            self._quietly("copy the pod's log", self.pump_logs, handle, None, pods)
        if ended:
            self._pumped.pop(run_id, None)
        if self._swept_at is None or now - self._swept_at >= self.sweep_seconds:
            self._swept_at = now
            # Runs another server finished leave entries behind; forget the stale ones.
            stale = [r for r, at in self._pumped.items() if now - at > self.sweep_seconds]
            for gone in stale:
                self._pumped.pop(gone, None)
            self._quietly("sweep orphans", self.sweep, now, sorted(self._namespaces))

    @staticmethod
    def _quietly(doing: str, chore: Callable[..., object], *args: Any) -> None:
        """A chore that fails is logged, never raised: poll()'s answer matters more."""
        try:
            chore(*args)
        except (errors.SparkJobsError, OSError) as exc:
            log.warning("kubernetes backend could not %s: %s", doing, exc)

    def stop(self, handle: Handle, *, force: bool = False) -> None:
        """Delete the Job (Foreground: its pods first) and a cluster-mode driver. Idempotent."""
        ns = handle["namespace"]
        doomed = self._pods(handle, "driver") + (self._pods(handle) if force else [])
        for pod in doomed:
            self.api.delete_pod(ns, pod["metadata"]["name"], 0 if force else None)
        self.api.delete_job(ns, handle["job_name"], "Foreground")

    def cleanup(self, handle: Handle, *, work_dir: Path) -> None:
        """Copy the last of the pod's log, delete the per-run Secret and ConfigMap, and the
        Job too unless it failed and kube_keep_failed_hours keeps it (sweep() removes it later)."""
        ns, name = handle["namespace"], handle["job_name"]
        if "log_path" in handle:
            self._quietly("copy the pod's log", self.pump_logs, handle)
        self.api.delete("Secret", ns, km.secret_name(name))
        self.api.delete("ConfigMap", ns, km.configmap_name(name))
        job = self.api.get_job(ns, name)
        if job is not None and not self._keep(job, self._pods(handle)):
            for pod in self._pods(handle, "driver"):
                self.api.delete_pod(ns, pod["metadata"]["name"], None)
            self.api.delete_job(ns, name, "Background")
        shutil.rmtree(work_dir, ignore_errors=True)

    def _keep(self, job: Obj, pods: list[Obj]) -> bool:
        seen = observe(job, pods, pending_for=0.0, start_timeout=1.0)
        failed = seen.status == Status.EXITED and seen.exit_code != 0
        return failed and self.settings.kube_keep_failed_hours > 0

    def pump_logs(
        self, handle: Handle, log_path: Path | None = None, pods: list[Obj] | None = None
    ) -> int:
        """Append the pod's log text that the run's log does not have yet; return bytes added.

        log_path defaults to the handle's; the pod's text starts at the handle's
        log_base there. The pod log API has no byte offsets, so this reads the
        whole log and appends what lies beyond: only this pod's log may follow
        log_base. Text the kubelet rotated away before a pump is lost.
        """
        pods = self._pods(handle) if pods is None else pods
        if not pods:
            return 0
        pod = pods[-1]
        container = pod["spec"]["containers"][0]["name"]
        text = self.api.pod_log(handle["namespace"], pod["metadata"]["name"], container)
        path = Path(handle["log_path"]) if log_path is None else log_path
        return append_beyond(path, (text or "").encode("utf-8"), int(handle.get("log_base", 0)))

    def reattach(self, namespace: str | None = None) -> list[Handle]:
        """Handles of every Job this server's backend made in namespace (after a restart)."""
        ns = namespace or self.settings.kube_namespace
        handles = []
        for job in self.api.list_jobs(ns, km.MANAGED_SELECTOR):
            meta = job["metadata"]
            handles.append(
                {
                    "namespace": ns,
                    "job_name": meta["name"],
                    "run_id": meta["labels"][km.LABEL_RUN],
                    "submitted_at": _epoch(meta.get("creationTimestamp")) or self.clock(),
                }
            )
        return handles

    def sweep(self, now: float | None = None, namespaces: Iterable[str] = ()) -> list[str]:
        """Delete Jobs past their keep time, half-made ones, and drivers whose Job is gone.

        Kept: failed Jobs for kube_keep_failed_hours, finished ones for
        kube_ttl_seconds_after_finished (when no TTL controller did it), running
        ones always. Returns what it deleted, as 'kind/namespace/name'.
        """
        at = self.clock() if now is None else now
        deleted: list[str] = []
        for ns in list(namespaces) or [self.settings.kube_namespace]:
            jobs_here = self.api.list_jobs(ns, km.MANAGED_SELECTOR)
            for job in jobs_here:
                if self._expired(job, at):
                    self.api.delete_job(ns, job["metadata"]["name"], "Background")
                    deleted.append(f"Job/{ns}/{job['metadata']['name']}")
            runs = {j["metadata"]["labels"].get(km.LABEL_RUN) for j in jobs_here}
            deleted += self._sweep_drivers(ns, runs)
        return deleted

    def _expired(self, job: Obj, now: float) -> bool:
        created = _epoch(job["metadata"].get("creationTimestamp")) or now
        if (job.get("spec") or {}).get("suspend"):
            return now - created > self.settings.kube_start_timeout_seconds
        for kind, keep in (
            ("Failed", self.settings.kube_keep_failed_hours * 3600),
            ("Complete", float(self.settings.kube_ttl_seconds_after_finished)),
        ):
            condition = _condition(job, kind)
            if condition:
                return now - (_epoch(condition.get("lastTransitionTime")) or created) > keep
        return False

    def _sweep_drivers(self, ns: str, live_runs: set[str | None]) -> list[str]:
        """Cluster mode: Spark's driver pods are not owned by our Job, so remove orphans."""
        selector = f"{km.MANAGED_SELECTOR},{km.LABEL_COMPONENT}=driver"
        gone = []
        for pod in self.api.list_pods(ns, selector):
            if pod["metadata"]["labels"].get(km.LABEL_RUN) not in live_runs:
                self.api.delete_pod(ns, pod["metadata"]["name"], None)
                gone.append(f"Pod/{ns}/{pod['metadata']['name']}")
        return gone

    def services(self, namespace: str | None = None) -> list[Obj]:
        """Services a binding may point at: name, namespace and ports, for the form."""
        ns = namespace or self.settings.kube_namespace
        return [
            {
                "name": svc["metadata"]["name"],
                "namespace": ns,
                "ports": [
                    {"name": p.get("name"), "port": p["port"], "protocol": p.get("protocol", "TCP")}
                    for p in (svc.get("spec") or {}).get("ports") or []
                ],
            }
            for svc in self.api.list_services(ns)
        ]
