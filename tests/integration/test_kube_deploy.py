"""deploy/: `kubectl kustomize` output and the OpenShift template validate against the
official schemas, pods pass the restricted profile, and the server's rights stay small."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from sparkjobs.backends import kube_manifests as km

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ("1.30", kubernetes_validate.latest_version())
#: What the backend does, and so the most the server's Role may grant.
NEEDED = {
    ("batch", "jobs"): {"create", "get", "list", "watch", "delete", "patch"},
    ("", "pods"): {"get", "list", "watch", "delete"},
    ("", "pods/log"): {"get"},
    ("", "configmaps"): {"create", "delete"},
    ("", "secrets"): {"create", "delete"},
    ("", "services"): {"get", "list"},
}


def require_kubectl() -> None:
    """kubectl renders kustomize offline; missing, the test skips here and fails in CI."""
    if shutil.which("kubectl"):
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail("kubectl is required in CI but missing", pytrace=False)
    pytest.skip("kubectl not available on this machine")


@pytest.fixture(scope="module")
def kustomized() -> list[dict]:
    require_kubectl()
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "kubernetes")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module")
def openshift() -> list[dict]:
    template = yaml.safe_load((ROOT / "deploy" / "openshift" / "template.yaml").read_text())
    assert template["apiVersion"] == "template.openshift.io/v1"
    assert template["kind"] == "Template"
    values = {p["name"]: p.get("value") or "x" for p in template["parameters"]}
    values["STORAGE"] = "10Gi"
    text = yaml.safe_dump(template["objects"])
    used = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    assert used <= set(values), used - set(values)
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)  # what `oc process` does
    return list(yaml.safe_load(text))


def kinds(objects: list[dict]) -> list[str]:
    return sorted(o["kind"] for o in objects)


def test_kustomize_renders_what_the_server_needs(kustomized: list[dict]) -> None:
    assert kinds(kustomized) == sorted(
        [
            "ServiceAccount",
            "ServiceAccount",
            "Role",
            "Role",
            "RoleBinding",
            "RoleBinding",
            "PersistentVolumeClaim",
            "Deployment",
            "Service",
            "Ingress",
        ]
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_kustomize_output_validates(kustomized: list[dict], version: str) -> None:
    for obj in kustomized:
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_openshift_objects_validate(openshift: list[dict], version: str) -> None:
    for obj in openshift:
        if obj["kind"] != "Route":  # not in the Kubernetes schemas; checked below
            kubernetes_validate.validate(obj, version, strict=True)


def test_openshift_route_points_at_the_service(openshift: list[dict]) -> None:
    (route,) = [o for o in openshift if o["kind"] == "Route"]
    (service,) = [o for o in openshift if o["kind"] == "Service"]
    assert route["apiVersion"] == "route.openshift.io/v1"
    assert route["spec"]["to"] == {
        "kind": "Service",
        "name": service["metadata"]["name"],
        "weight": 100,
    }
    assert route["spec"]["port"]["targetPort"] in {p["name"] for p in service["spec"]["ports"]}
    assert route["spec"]["tls"]["termination"] == "edge"
    assert kinds([o for o in openshift if o["kind"] != "Route"]) == sorted(
        [
            "ServiceAccount",
            "ServiceAccount",
            "Role",
            "Role",
            "RoleBinding",
            "RoleBinding",
            "PersistentVolumeClaim",
            "Deployment",
            "Service",
        ]
    )


@pytest.mark.parametrize("source", ["kustomize", "openshift"])
def test_server_pod_is_restricted_and_read_only(
    source: str, kustomized: list[dict], openshift: list[dict]
) -> None:
    objects = kustomized if source == "kustomize" else openshift
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert km.restricted_violations(pod) == []
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SPARKJOBS_HOST"] == "0.0.0.0"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "persistentVolumeClaim" in volumes[mounts[env["SPARKJOBS_DATA_DIR"]]]
    assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize("source", ["kustomize", "openshift"])
def test_rbac_grants_only_what_the_backend_needs(
    source: str, kustomized: list[dict], openshift: list[dict]
) -> None:
    objects = kustomized if source == "kustomize" else openshift
    assert not [o for o in objects if o["kind"].startswith("Cluster")]
    roles = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Role"}
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in roles["sparkjobs"]["rules"]:
        assert "resourceNames" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    assert granted == NEEDED
    assert not {"get", "list", "watch"} & granted[("", "secrets")]  # cannot read Secrets
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    server = next(b for b in bindings if b["roleRef"]["name"] == "sparkjobs")
    assert server["subjects"] == [{"kind": "ServiceAccount", "name": "sparkjobs"}]
    spark_rules = roles["sparkjobs-spark"]["rules"]
    assert all("secrets" not in r["resources"] for r in spark_rules)


def test_dockerfile_runs_the_server_as_a_numeric_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1].isdigit() and users[-1] != "0"
    assert "pyspark" not in text.split("FROM", 1)[1].replace("no pyspark", "")
