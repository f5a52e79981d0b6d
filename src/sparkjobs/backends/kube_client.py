"""Our thin wrapper over the official Kubernetes client: the only module that imports it.

The backend talks to `KubeApi`, a small protocol of plain dicts in and out;
`RealKubeApi` keeps it with the `kubernetes` package (in-cluster config, else
kubeconfig), and `kube_fake.FakeKubeApi` keeps it in memory for tests.
"Not found" is a value (None / False), never an exception; any other refusal
of the API server becomes a KubeApiError that says what was refused.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, Protocol

from sparkjobs import errors

Obj = dict[str, Any]
Propagation = Literal["Foreground", "Background", "Orphan"]
#: Kinds the backend creates and deletes by name besides Jobs.
SimpleKind = Literal["Secret", "ConfigMap"]
#: No call to the API server may hang the supervisor.
REQUEST_TIMEOUT_SECONDS = 30


class KubeApiError(errors.SparkJobsError):
    """The Kubernetes API refused the request; check the server's service account and RBAC."""

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class KubeApi(Protocol):
    """What the Kubernetes backend needs of a cluster, namespaced, in plain dicts."""

    def create(self, obj: Obj) -> Obj:
        """Create a Job, Secret or ConfigMap; return it as stored (with uid). 409 raises."""
        ...

    def get_job(self, namespace: str, name: str) -> Obj | None:
        """The Job with its status, or None when there is none."""
        ...

    def list_jobs(self, namespace: str, label_selector: str) -> list[Obj]: ...

    def resume_job(self, namespace: str, name: str) -> None:
        """Set spec.suspend to false (the backend creates Jobs suspended)."""
        ...

    def delete_job(self, namespace: str, name: str, propagation: Propagation) -> bool:
        """Delete a Job and, unless Orphan, its pods; False when it was already gone."""
        ...

    def delete(self, kind: SimpleKind, namespace: str, name: str) -> bool:
        """Delete a Secret or ConfigMap by name; False when it was already gone."""
        ...

    def list_pods(self, namespace: str, label_selector: str) -> list[Obj]: ...

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None) -> bool: ...

    def pod_log(self, namespace: str, pod: str, container: str) -> str | None:
        """The container's whole log so far, or None when the pod or log is not there."""
        ...

    def list_services(self, namespace: str) -> list[Obj]: ...


def _api_error(exc: Exception, doing: str) -> KubeApiError:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or type(exc).__name__
    hint = {
        401: "the server's Kubernetes credentials were refused",
        403: "the server's service account lacks the rights for it (see deploy/kubernetes)",
        409: "an object with that name exists already",
        422: "the object is not valid for this cluster",
    }.get(status or 0, "")
    text = f"Kubernetes refused to {doing}: {status or ''} {reason}".strip()
    return KubeApiError(f"{text}; {hint}" if hint else text, status=status)


def _load_config(configuration: Any) -> None:
    """In-cluster service account first, else the kubeconfig (KUBECONFIG, ~/.kube/config)."""
    from kubernetes import config as kube_config

    config: Any = kube_config  # partly typed upstream; used as untyped
    try:
        config.load_incluster_config(client_configuration=configuration)
        return
    except config.ConfigException:
        pass
    try:
        # KUBECONFIG is read now: the package reads it once, when first imported.
        path = os.environ.get("KUBECONFIG") or "~/.kube/config"
        config.load_kube_config(config_file=path, client_configuration=configuration)
    except (config.ConfigException, OSError) as exc:
        raise KubeApiError(
            "no Kubernetes configuration: run the server in a pod with a "
            "service account, or point KUBECONFIG at a kubeconfig"
        ) from exc


class RealKubeApi:
    """KubeApi over the `kubernetes` package; config loads on first use."""

    def __init__(self) -> None:
        self._clients: tuple[Any, Any] | None = None

    def _apis(self) -> tuple[Any, Any]:
        if self._clients is None:
            from kubernetes import client

            # Our own Configuration: the package's global default stays untouched.
            configuration = client.Configuration()
            _load_config(configuration)
            api_client = client.ApiClient(configuration=configuration)
            self._clients = (client.BatchV1Api(api_client), client.CoreV1Api(api_client))
        return self._clients

    def _call(self, doing: str, fn: Any, *args: Any, **kwargs: Any) -> Obj | None:
        """Run one client call; None on 404, a plain dict otherwise."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            # The raw JSON, as the API server sent it: the client's models would drop
            # fields they do not know and refuse shapes they do not expect.
            response = fn(
                *args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise _api_error(exc, doing) from exc
        except (HTTPError, OSError) as exc:
            raise KubeApiError(f"cannot reach the Kubernetes API to {doing}: {exc}") from exc
        plain: Obj = json.loads(response.data or b"{}")
        return plain

    def create(self, obj: Obj) -> Obj:
        batch, core = self._apis()
        kind, ns = obj["kind"], obj["metadata"]["namespace"]
        fn = {
            "Job": batch.create_namespaced_job,
            "Secret": core.create_namespaced_secret,
            "ConfigMap": core.create_namespaced_config_map,
        }[kind]
        created = self._call(f"create {kind} {obj['metadata']['name']}", fn, ns, obj)
        if created is None:
            raise KubeApiError(f"namespace '{ns}' does not exist; create it or pick another")
        return created

    def get_job(self, namespace: str, name: str) -> Obj | None:
        batch = self._apis()[0]
        return self._call(f"read Job {name}", batch.read_namespaced_job, name, namespace)

    def list_jobs(self, namespace: str, label_selector: str) -> list[Obj]:
        batch = self._apis()[0]
        fn = batch.list_namespaced_job
        found = self._call("list Jobs", fn, namespace, label_selector=label_selector)
        return list((found or {}).get("items") or [])

    def resume_job(self, namespace: str, name: str) -> None:
        batch = self._apis()[0]
        body = {"spec": {"suspend": False}}
        if self._call(f"resume Job {name}", batch.patch_namespaced_job, name, namespace, body):
            return
        raise KubeApiError(f"Job {name} vanished before it could be resumed")

    def delete_job(self, namespace: str, name: str, propagation: Propagation) -> bool:
        batch = self._apis()[0]
        fn = batch.delete_namespaced_job
        done = self._call(f"delete Job {name}", fn, name, namespace, propagation_policy=propagation)
        return done is not None

    def delete(self, kind: SimpleKind, namespace: str, name: str) -> bool:
        core = self._apis()[1]
        fn = {
            "Secret": core.delete_namespaced_secret,
            "ConfigMap": core.delete_namespaced_config_map,
        }[kind]
        return self._call(f"delete {kind} {name}", fn, name, namespace) is not None

    def list_pods(self, namespace: str, label_selector: str) -> list[Obj]:
        core = self._apis()[1]
        fn = core.list_namespaced_pod
        found = self._call("list pods", fn, namespace, label_selector=label_selector)
        return list((found or {}).get("items") or [])

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None) -> bool:
        core = self._apis()[1]
        fn = core.delete_namespaced_pod
        done = self._call(
            f"delete pod {name}", fn, name, namespace, grace_period_seconds=grace_seconds
        )
        return done is not None

    def pod_log(self, namespace: str, pod: str, container: str) -> str | None:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        core = self._apis()[1]
        try:
            # Raw bytes: with preloading, the client would parse a log that looks like JSON.
            response = core.read_namespaced_pod_log(
                pod,
                namespace,
                container=container,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            )
        except ApiException as exc:
            if exc.status in (400, 404):  # 400: the container has not started yet
                return None
            raise _api_error(exc, f"read the log of pod {pod}") from exc
        except (HTTPError, OSError) as exc:
            raise KubeApiError(f"cannot reach the Kubernetes API to read a log: {exc}") from exc
        text: str = response.data.decode("utf-8", errors="replace")
        return text

    def list_services(self, namespace: str) -> list[Obj]:
        core = self._apis()[1]
        found = self._call("list Services", core.list_namespaced_service, namespace)
        return list((found or {}).get("items") or [])
