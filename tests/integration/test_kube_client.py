"""RealKubeApi with the real `kubernetes` client over real HTTP on loopback.

No API server can run here, so a small HTTP server plays one: it stores what is
POSTed under its URL path and answers with the API server's shapes (objects,
lists, Status with 404/403). This checks our wrapper's paths, query parameters,
dict conversion and error mapping, not Kubernetes itself.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sparkjobs import launch
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends.kube_client import KubeApiError, RealKubeApi
from sparkjobs.config import Settings

NS = "team-a"
LOG = '{"looks": "like json"}\nplain line\n'


class ApiServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.forbidden: set[str] = set()


class Handler(BaseHTTPRequestHandler):
    server: ApiServer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _reply(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str) -> None:
        self._reply(
            code,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": reason,
                "code": code,
                "message": reason,
            },
        )

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.requests.append((self.command, parts.path, query))
        return parts.path, query

    def do_POST(self) -> None:
        path, _ = self._route()
        if path in self.server.forbidden:
            return self._status(403, "Forbidden")
        obj = self._body()
        obj["metadata"] |= {"uid": str(uuid.uuid4()), "creationTimestamp": "2026-11-27T12:00:00Z"}
        key = f"{path}/{obj['metadata']['name']}"
        if key in self.server.objects:
            return self._status(409, "AlreadyExists")
        self.server.objects[key] = obj
        return self._reply(201, obj)

    def do_GET(self) -> None:
        path, query = self._route()
        if path.endswith("/log"):
            pod = path.removesuffix("/log")
            return (
                self._reply(200, LOG, "text/plain")
                if pod in self.server.objects
                else (self._status(404, "NotFound"))
            )
        if path in self.server.objects:
            return self._reply(200, self.server.objects[path])
        items = [o for k, o in self.server.objects.items() if k.rsplit("/", 1)[0] == path]
        wanted = dict(t.split("=") for t in query.get("labelSelector", [""])[0].split(",") if t)
        items = [o for o in items if wanted.items() <= (o["metadata"].get("labels") or {}).items()]
        if path.endswith(("/jobs", "/pods", "/services")):
            return self._reply(
                200, {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items}
            )
        return self._status(404, "NotFound")

    def do_PATCH(self) -> None:
        path, _ = self._route()
        if path not in self.server.objects:
            return self._status(404, "NotFound")
        patch = self._body()
        self.server.objects[path]["spec"] |= patch.get("spec", {})
        return self._reply(200, self.server.objects[path])

    def do_DELETE(self) -> None:
        path, query = self._route()
        gone = self.server.objects.pop(path, None)
        if gone is None:
            return self._status(404, "NotFound")
        if "/pods/" in path or query.get("propagationPolicy") == ["Foreground"]:
            # Graceful or foreground deletion: the API server returns the object itself.
            gone["metadata"]["deletionTimestamp"] = "2026-11-27T12:05:00Z"
            return self._reply(200, gone)
        return self._reply(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})


@pytest.fixture
def server() -> Iterator[ApiServer]:
    api_server = ApiServer()
    thread = threading.Thread(target=api_server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api_server
    api_server.shutdown()
    api_server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def api(server: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RealKubeApi:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "test",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}
                ],
                "users": [{"name": "u", "user": {"token": "test-token"}}],
                "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return RealKubeApi()


def job(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS, "labels": {"sparkjobs.io/run": name}},
        "spec": {
            "suspend": True,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "spark", "image": "i"}]}
            },
        },
    }


def test_jobs_round_trip_as_plain_dicts(api: RealKubeApi, server: ApiServer) -> None:
    created = api.create(job("run-1"))
    assert created["metadata"]["uid"]
    assert created["spec"]["suspend"] is True
    api.resume_job(NS, "run-1")
    got = api.get_job(NS, "run-1")
    assert got is not None and got["spec"]["suspend"] is False
    assert [j["metadata"]["name"] for j in api.list_jobs(NS, "sparkjobs.io/run=run-1")] == ["run-1"]
    assert api.list_jobs(NS, "sparkjobs.io/run=other") == []
    assert api.delete_job(NS, "run-1", "Foreground") is True
    method, path, query = server.requests[-1]
    assert (method, path) == ("DELETE", f"/apis/batch/v1/namespaces/{NS}/jobs/run-1")
    assert query["propagationPolicy"] == ["Foreground"]


def test_not_found_is_a_value(api: RealKubeApi) -> None:
    assert api.get_job(NS, "nope") is None
    assert api.delete_job(NS, "nope", "Foreground") is False
    assert api.delete("Secret", NS, "nope") is False
    assert api.delete_pod(NS, "nope", 0) is False
    assert api.pod_log(NS, "nope", "spark") is None


def test_refusals_become_our_errors(api: RealKubeApi, server: ApiServer) -> None:
    server.forbidden.add(f"/api/v1/namespaces/{NS}/secrets")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": NS},
        "stringData": {"A": "b"},
    }
    with pytest.raises(KubeApiError, match="lacks the rights") as caught:
        api.create(secret)
    assert caught.value.status == 403
    api.create(job("dup"))
    with pytest.raises(KubeApiError, match="exists already"):
        api.create(job("dup"))


def test_configmaps_secrets_pods_logs_and_services(api: RealKubeApi, server: ApiServer) -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "files", "namespace": NS},
        "data": {"a.py": "print(1)"},
    }
    assert api.create(cm)["data"] == {"a.py": "print(1)"}
    assert api.delete("ConfigMap", NS, "files") is True
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p1", "namespace": NS, "labels": {"sparkjobs.io/run": "r"}},
        "spec": {"containers": [{"name": "spark", "image": "i"}]},
    }
    server.objects[f"/api/v1/namespaces/{NS}/pods/p1"] = pod
    assert [p["metadata"]["name"] for p in api.list_pods(NS, "sparkjobs.io/run=r")] == ["p1"]
    assert api.pod_log(NS, "p1", "spark") == LOG  # not parsed as JSON
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "redis", "namespace": NS},
        "spec": {"ports": [{"port": 6379}]},
    }
    server.objects[f"/api/v1/namespaces/{NS}/services/redis"] = svc
    assert api.list_services(NS)[0]["spec"]["ports"] == [{"port": 6379}]
    assert api.delete_pod(NS, "p1", 0) is True


def test_an_unreachable_api_is_our_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "t",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "x"}}],
                "contexts": [{"name": "t", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    api = RealKubeApi()
    with pytest.raises(KubeApiError, match="cannot reach the Kubernetes API"):
        api.get_job(NS, "x")


def test_no_configuration_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(KubeApiError, match="no Kubernetes configuration"):
        RealKubeApi().list_services(NS)


def test_the_api_server_receives_exactly_the_objects_we_built(
    api: RealKubeApi, server: ApiServer
) -> None:
    """The client's models must not drop or rename a field of our manifests."""
    plan = launch.LaunchPlan(
        run_id="r42",
        app_name="wc",
        spark_submit="s",
        master="k8s://https://kubernetes.default.svc",
        kind="python",
        main_file="/x/wc.py",
        timeout_seconds=60,
        driver_memory="1g",
        env={"A": "1", "P": "secret-value"},
        secrets=("secret-value",),
    )
    settings = Settings(kube_namespace=NS, kube_service_account="spark")
    target = km.target_for(plan, settings, job="wc")
    inputs = km.RunInputs(
        plain_env={"A": "1"},
        secret_env={"P": "secret-value"},
        small_files={"wc.py": b"print(1)"},
        fetch_token="tok",
        downloads=(km.Download(name="big.jar", url="http://server/big.jar"),),
        refs=(km.KubeEnvRef(kind="secret", name="creds"),),
    )
    for obj in km.build_objects(plan, target, inputs):
        created = api.create(obj)
        stored = dict(created)
        stored["metadata"] = {
            k: v for k, v in created["metadata"].items() if k not in ("uid", "creationTimestamp")
        }
        assert stored == obj
