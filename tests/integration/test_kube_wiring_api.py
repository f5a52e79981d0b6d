"""The Kubernetes parts of the API, served for real (uvicorn on loopback, real store on
SQLite and PostgreSQL): the dry run, the Service list, and the per-run download route
that pods fetch large files from. The cluster is FakeKubeApi, our own wrapper's fake."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from sparkjobs import store
from sparkjobs.api import downloads
from sparkjobs.api.app import create_app
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.backends.kube_fake import FakeKubeApi
from sparkjobs.backends.kubernetes import KubernetesBackend
from sparkjobs.config import Settings
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)

NS = "team-a"
SECRET = "correct-horse-battery-staple"
BIG = 300 * 1024  # more than a ConfigMap entry takes: fetched by the pod


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "app.py").write_text("print('hello')\n")
    (apps / "words.txt").write_text("a b c\n")
    (apps / "big.bin").write_bytes(bytes(range(256)) * (BIG // 256))
    return apps


class Cluster:
    """A served app whose kubernetes backend talks to a FakeKubeApi."""

    def __init__(self, settings: Settings, db_url: str, apps: Path) -> None:
        self.settings = settings.model_copy(
            update={
                "database_url": db_url,
                "allowed_source_dirs": [apps],
                "public_url": "http://sparkjobs.test:8080",
                "kube_namespace": NS,
            }
        )
        self.kube = FakeKubeApi()
        self.apps = apps
        #: Added to the issuer's clock: a negative one issues tokens that have expired.
        self.clock_offset = 0.0
        self.db = store.Database(db_url)
        issuer = downloads.TokenIssuer(
            self.settings, self.db, clock=lambda: time.time() + self.clock_offset
        )
        backend = KubernetesBackend(self.settings, self.kube, issuer=issuer)
        app = create_app(self.settings, backends={"local": FakeBackend(), "kubernetes": backend})
        self.served = fx.Served(app)
        self.api = httpx.Client(base_url=self.served.url, headers=fx.AUTH, timeout=30)
        self.anon = httpx.Client(base_url=self.served.url, timeout=30)

    def close(self) -> None:
        self.api.close()
        self.anon.close()
        self.served.stop()
        self.db.dispose()

    def add_job(self, name: str = "wc", **fields: Any) -> None:
        body = fx.job_body(name, self.apps, backend="kubernetes", **fields)
        response = self.api.post("/api/v1/jobs", json=body)
        assert response.status_code == 201, response.text

    def start(self, job: str = "wc") -> tuple[str, str, str]:
        """A run of job, submitted to the fake cluster: (run id, token, big.bin's URL path)."""
        run_id = str(self.api.post(f"/api/v1/jobs/{job}/runs").json()["id"])
        job_obj = fx.wait_for(lambda: self._job_of(run_id), what="the run's Job")
        secret = self.kube.objects[("Secret", NS, km.secret_name(job_obj["metadata"]["name"]))]
        command = job_obj["spec"]["template"]["spec"]["initContainers"][0]["command"]
        url = next(a for a in command if a.startswith("http") and a.endswith("/big.bin"))
        return run_id, secret["stringData"][km.TOKEN_KEY], httpx.URL(url).path

    def _job_of(self, run_id: str) -> dict[str, Any] | None:
        found = self.kube.list_jobs(NS, f"{km.LABEL_RUN}={run_id}")
        return found[0] if found else None

    def fetch(self, path: str, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.anon.get(path, headers=headers)


@pytest.fixture
def cluster(settings: Settings, db_url: str, apps: Path) -> Iterator[Cluster]:
    made = Cluster(settings, db_url, apps)
    yield made
    made.close()


# --- the dry run ---------------------------------------------------------------------


def test_the_dry_run_prints_valid_objects_with_secrets_masked(cluster: Cluster) -> None:
    cluster.add_job(
        namespace=NS,
        image="registry.example/spark:4.0.1",
        timeout_seconds=600,
        env=[{"name": "MODE", "value": "fast"}, {"name": "PASSWORD", "secret": SECRET}],
        files=[
            {"type": "path", "path": str(cluster.apps / "words.txt")},
            {"type": "path", "path": str(cluster.apps / "big.bin")},
            {"type": "url", "url": "https://data.example/lookup.csv"},
        ],
    )
    response = cluster.api.get("/api/v1/jobs/wc/manifests")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/yaml")
    assert SECRET not in response.text
    objects = [o for o in yaml.safe_load_all(response.text) if o]
    assert [o["kind"] for o in objects] == ["Job", "Secret", "ConfigMap"]
    for obj in objects:
        for version in ("1.30", kubernetes_validate.latest_version()):
            kubernetes_validate.validate(obj, version, strict=True)
        assert obj["metadata"]["namespace"] == NS
        assert obj["metadata"]["labels"][km.LABEL_JOB] == "wc"
    job, secret, configmap = objects
    assert set(secret["stringData"].values()) == {"***"}
    assert set(secret["stringData"]) == {"PASSWORD", km.TOKEN_KEY}
    assert set(configmap["data"]) == {"app.py", "words.txt"}  # small files mounted
    pod = job["spec"]["template"]["spec"]
    assert km.restricted_violations(pod) == []
    assert pod["containers"][0]["image"] == "registry.example/spark:4.0.1"
    mounted = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert f"{km.WORK_DIR}/words.txt" in mounted  # in the working directory, as locally
    fetched = " ".join(pod["initContainers"][0]["command"])
    assert "http://sparkjobs.test:8080/api/v1/downloads/dry-run/big.bin" in fetched
    assert "/api/v1/downloads/dry-run/lookup.csv" in fetched  # fetched when a run starts
    assert cluster.kube.objects == {}  # nothing was created


def test_the_dry_run_of_an_unknown_job_is_404(cluster: Cluster) -> None:
    fx.assert_problem(cluster.api.get("/api/v1/jobs/nope/manifests"), 404)


def test_the_dry_run_needs_the_admin_token(cluster: Cluster) -> None:
    cluster.add_job()
    fx.assert_problem(cluster.anon.get("/api/v1/jobs/wc/manifests"), 401)


# --- Services for the binding form ---------------------------------------------------------


def test_services_are_listed_from_the_cluster(cluster: Cluster) -> None:
    cluster.kube.add_object(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "redis", "namespace": NS},
            "spec": {"ports": [{"name": "tcp", "port": 6379, "protocol": "TCP"}]},
        }
    )
    response = cluster.api.get("/api/v1/kubernetes/services", params={"namespace": NS})
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "name": "redis",
            "namespace": NS,
            "ports": [{"name": "tcp", "port": 6379, "protocol": "TCP"}],
        }
    ]
    assert (
        cluster.api.get("/api/v1/kubernetes/services", params={"namespace": "x_y"}).status_code
        == 422
    )


def test_services_without_the_kubernetes_backend_is_a_clear_503(
    make_api: Callable[..., httpx.Client],
) -> None:
    body = fx.assert_problem(make_api().get("/api/v1/kubernetes/services"), 503)
    assert "SPARKJOBS_KUBE_ENABLED" in body["detail"]


def test_services_without_cluster_access_is_a_clear_503(
    settings: Settings, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # not in a pod
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    chosen = settings.model_copy(update={"database_url": db_url, "kube_enabled": True})
    served = fx.Served(create_app(chosen))  # the server's own backends: local and kubernetes
    try:
        with httpx.Client(base_url=served.url, headers=fx.AUTH, timeout=30) as api:
            body = fx.assert_problem(api.get("/api/v1/kubernetes/services"), 503)
    finally:
        served.stop()
    assert "no Kubernetes configuration" in body["detail"] and "KUBECONFIG" in body["detail"]


# --- downloads by the run's pod ---------------------------------------------------------------


def test_the_runs_token_fetches_its_file_and_nothing_else(cluster: Cluster) -> None:
    big = {"type": "path", "path": str(cluster.apps / "big.bin")}
    cluster.add_job(files=[big])
    run_id, token, path = cluster.start()
    assert path == f"/api/v1/downloads/{run_id}/big.bin"
    response = cluster.fetch(path, token)
    assert response.status_code == 200, response.text
    assert response.content == (cluster.apps / "big.bin").read_bytes()

    fx.assert_problem(cluster.fetch(path, None), 401)
    fx.assert_problem(cluster.fetch(path, token + "x"), 401)
    fx.assert_problem(cluster.fetch(path, fx.TOKEN), 401)  # not even the admin's
    _, other_token, other_path = cluster.start()
    fx.assert_problem(cluster.fetch(path, other_token), 401)
    assert cluster.fetch(other_path, other_token).status_code == 200
    # Only the granted files, by their plain names.
    base = f"/api/v1/downloads/{run_id}"
    for name in ("app.py", "secret.key", "..", "%2e%2e%2fsecret.key", "..%2F..%2Fsecret.key"):
        assert cluster.fetch(f"{base}/{name}", token).status_code == 404, name


def test_the_token_dies_with_the_run_and_with_time(cluster: Cluster) -> None:
    cluster.add_job(files=[{"type": "path", "path": str(cluster.apps / "big.bin")}])
    run_id, token, path = cluster.start()
    cluster.clock_offset = -2 * cluster.settings.kube_download_token_seconds
    _, old_token, old_path = cluster.start()
    body = fx.assert_problem(cluster.fetch(old_path, old_token), 401)
    assert "expired" in body["detail"]

    assert cluster.fetch(path, token).status_code == 200
    cluster.api.post(f"/api/v1/runs/{run_id}/stop")
    fx.wait_for(
        lambda: cluster.api.get(f"/api/v1/runs/{run_id}").json()["state"] == "stopped",
        what="the run to stop",
    )
    body = fx.assert_problem(cluster.fetch(path, token), 401)
    assert "expired" in body["detail"]
