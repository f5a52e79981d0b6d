"""FakeKubeApi: the KubeApi protocol in memory, for tests of the Kubernetes backend.

It keeps objects the way the API server returns them (uid, creationTimestamp,
status) and deletes like Kubernetes does: a Job's pods and the objects it owns
(ownerReferences) go with it unless the propagation is Orphan. Tests play the
cluster's part by scripting statuses in the real shapes, for example
``fake.set_job_status(ns, name, {"failed": 1, "conditions": [...]})``.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sparkjobs.backends.kube_client import KubeApiError, Obj, Propagation, SimpleKind

Key = tuple[str, str, str]  # kind, namespace, name


def _now() -> datetime:
    return datetime.now(UTC)


def matches(labels: dict[str, str], selector: str) -> bool:
    """Equality-based label selectors (a=b,c=d), the only kind the backend uses."""
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


class FakeKubeApi:
    """An in-memory cluster: objects, pod statuses and logs that tests script."""

    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        self.clock = clock
        self.objects: dict[Key, Obj] = {}
        self.logs: dict[tuple[str, str, str], str] = {}
        #: (namespace, name, propagation) of every delete_job call, in order.
        self.job_deletions: list[tuple[str, str, str]] = []
        #: Kinds whose next create fails with a 403, to test a submit that breaks halfway.
        self.refuse_create: set[str] = set()
        self._pod_numbers = itertools.count(1)

    # --- KubeApi ---------------------------------------------------------------

    def create(self, obj: Obj) -> Obj:
        kind, ns, name = obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]
        if kind in self.refuse_create:
            self.refuse_create.discard(kind)
            raise KubeApiError(f"Kubernetes refused to create {kind} {name}: 403", status=403)
        if (kind, ns, name) in self.objects:
            raise KubeApiError(f"{kind} {name} exists already", status=409)
        stored = copy.deepcopy(obj)
        stored["metadata"]["uid"] = str(uuid.uuid4())
        stored["metadata"]["creationTimestamp"] = self._stamp()
        if kind == "Job":
            stored["status"] = {}
        self.objects[(kind, ns, name)] = stored
        return copy.deepcopy(stored)

    def get_job(self, namespace: str, name: str) -> Obj | None:
        job = self.objects.get(("Job", namespace, name))
        return copy.deepcopy(job) if job else None

    def list_jobs(self, namespace: str, label_selector: str) -> list[Obj]:
        return self._list("Job", namespace, label_selector)

    def resume_job(self, namespace: str, name: str) -> None:
        job = self.objects.get(("Job", namespace, name))
        if job is None:
            raise KubeApiError(f"Job {name} vanished before it could be resumed", status=404)
        job["spec"]["suspend"] = False

    def delete_job(self, namespace: str, name: str, propagation: Propagation) -> bool:
        self.job_deletions.append((namespace, name, propagation))
        job = self.objects.pop(("Job", namespace, name), None)
        if job is None:
            return False
        if propagation != "Orphan":
            self._collect(job["metadata"]["uid"])
        return True

    def delete(self, kind: SimpleKind, namespace: str, name: str) -> bool:
        return self.objects.pop((kind, namespace, name), None) is not None

    def list_pods(self, namespace: str, label_selector: str) -> list[Obj]:
        return self._list("Pod", namespace, label_selector)

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None) -> bool:
        return self.objects.pop(("Pod", namespace, name), None) is not None

    def pod_log(self, namespace: str, pod: str, container: str) -> str | None:
        if ("Pod", namespace, pod) not in self.objects:
            return None
        return self.logs.get((namespace, pod, container))

    def list_services(self, namespace: str) -> list[Obj]:
        return self._list("Service", namespace, "")

    # --- scripting the cluster's side ----------------------------------------------

    def set_job_status(self, namespace: str, name: str, status: Obj) -> None:
        self.objects[("Job", namespace, name)]["status"] = copy.deepcopy(status)

    def start_pod(self, namespace: str, job_name: str, status: Obj | None = None) -> str:
        """Make the Job's pod as the Job controller would; return its name."""
        job = self.objects[("Job", namespace, job_name)]
        name = f"{job_name}-{next(self._pod_numbers):05d}"
        labels = dict(job["spec"]["template"]["metadata"]["labels"])
        labels |= {"batch.kubernetes.io/job-name": job_name, "job-name": job_name}
        owner = {"apiVersion": "batch/v1", "kind": "Job", "name": job_name}
        self.objects[("Pod", namespace, name)] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": labels,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": self._stamp(),
                "ownerReferences": [owner | {"uid": job["metadata"]["uid"]}],
            },
            "spec": copy.deepcopy(job["spec"]["template"]["spec"]),
            "status": copy.deepcopy(status or {"phase": "Pending"}),
        }
        return name

    def set_pod_status(self, namespace: str, pod: str, status: Obj) -> None:
        self.objects[("Pod", namespace, pod)]["status"] = copy.deepcopy(status)

    def add_object(self, obj: Obj) -> Obj:
        """Put any object (a Service, an old Job) in place, keeping its creationTimestamp."""
        stored = copy.deepcopy(obj)
        meta = stored["metadata"]
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", self._stamp())
        self.objects[(stored["kind"], meta["namespace"], meta["name"])] = stored
        return stored

    def names(self, kind: str, namespace: str) -> set[str]:
        return {name for (k, ns, name) in self.objects if k == kind and ns == namespace}

    # --- internals -------------------------------------------------------------------

    def _stamp(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    def _list(self, kind: str, namespace: str, selector: str) -> list[Obj]:
        found = [
            copy.deepcopy(obj)
            for (k, ns, _), obj in self.objects.items()
            if k == kind
            and ns == namespace
            and matches(obj["metadata"].get("labels") or {}, selector)
        ]
        return sorted(found, key=lambda o: str(o["metadata"]["creationTimestamp"]))

    def _collect(self, owner_uid: str) -> None:
        """Kubernetes' garbage collector: remove what the deleted owner owned."""
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == owner_uid for ref in refs):
                del self.objects[key]
