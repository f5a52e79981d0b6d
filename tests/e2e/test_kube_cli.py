"""`sparkjobs jobs manifests` and `sparkjobs kubernetes services` as a user meets them:
the real `sparkjobs serve` (local backend only, no cluster anywhere) and the real command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import kubernetes_validate
import pytest
import yaml

from sparkjobs.backends import kube_manifests as km

if TYPE_CHECKING:
    from conftest import CliServer

pytestmark = pytest.mark.xdist_group("cli-e2e")  # one server for the module

SECRET = "opensesame-4711"

JOB = f"""\
name: kwc
source: {{type: file, path: kwc.py}}
files:
  - {{type: file, path: words.txt}}
backend: kubernetes
namespace: team-a
args: ["words.txt"]
env:
  - {{name: MODE, value: fast}}
  - {{name: TOKEN, secret: {SECRET}}}
"""


def test_jobs_manifests_prints_the_objects_of_a_run_without_a_cluster(
    cli_server: CliServer,
) -> None:
    (cli_server.apps_dir / "kwc.py").write_text("print(open('words.txt').read())\n")
    (cli_server.apps_dir / "words.txt").write_text("a b a\n")
    job = cli_server.apps_dir / "kwc.yaml"
    job.write_text(JOB)
    applied = cli_server.cli("jobs", "apply", "-f", str(job))
    assert applied.returncode == 0, applied.stderr

    shown = cli_server.cli("jobs", "manifests", "kwc")
    assert shown.returncode == 0, shown.stderr
    assert SECRET not in shown.stdout
    objects = [o for o in yaml.safe_load_all(shown.stdout) if o]
    assert [o["kind"] for o in objects] == ["Job", "Secret", "ConfigMap"]
    for obj in objects:
        kubernetes_validate.validate(obj, "1.30", strict=True)
        assert obj["metadata"]["namespace"] == "team-a"
    assert set(objects[1]["stringData"].values()) == {"***"}
    assert set(objects[2]["data"]) == {"kwc.py", "words.txt"}
    assert km.restricted_violations(objects[0]["spec"]["template"]["spec"]) == []

    missing = cli_server.cli("jobs", "manifests", "no-such-job")
    assert missing.returncode == 1 and "no-such-job" in missing.stderr


def test_kubernetes_services_says_what_to_configure(cli_server: CliServer) -> None:
    listed = cli_server.cli("kubernetes", "services")
    assert listed.returncode == 1
    assert "503" in listed.stderr and "SPARKJOBS_KUBE_ENABLED" in listed.stderr
