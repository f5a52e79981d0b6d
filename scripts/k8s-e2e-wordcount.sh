#!/usr/bin/env bash
# End-to-end word count on a real Kubernetes or OpenShift cluster, through the
# Kubernetes backend itself (submit, poll, logs, cleanup), from your machine.
#
# NOT RUN in sparkjobs' own CI: no cluster can run there. Run it yourself with
# kind, minikube or OpenShift when you change the backend.
#
# Needs: kubectl (or oc) logged in to the cluster, the cluster able to pull
# SPARK_IMAGE, and this repository's venv (`make install`).
#
#   NAMESPACE=sparkjobs-e2e scripts/k8s-e2e-wordcount.sh
#
# Environment:
#   NAMESPACE    namespace to use; created if missing, left in place (default sparkjobs-e2e)
#   SPARK_IMAGE  Spark image for the run (default: the server's default, apache/spark:4.0.1-python3)
#   TIMEOUT      seconds to wait for the run (default 600)
#
# What it checks: the Job's pod (the driver, master local[*]) counts the words of
# examples/wordcount/sample.txt, mounted from the per-run ConfigMap; the run ends
# with exit code 0; its log holds "word: count" lines; cleanup leaves no Job,
# Secret or ConfigMap of the run behind.
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=${NAMESPACE:-sparkjobs-e2e}
TIMEOUT=${TIMEOUT:-600}
PYTHON=${PYTHON:-.venv/bin/python}

kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
# Our pods must pass the restricted profile: make the namespace enforce it.
kubectl label --overwrite namespace "$NAMESPACE" \
  pod-security.kubernetes.io/enforce=restricted >/dev/null

export SPARKJOBS_KUBE_NAMESPACE="$NAMESPACE"
if [ -n "${SPARK_IMAGE:-}" ]; then export SPARKJOBS_KUBE_IMAGE="$SPARK_IMAGE"; fi
export E2E_TIMEOUT="$TIMEOUT"

exec "$PYTHON" - <<'PY'
import os, sys, tempfile, time, uuid
from pathlib import Path

from sparkjobs import launch
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends.base import Status
from sparkjobs.backends.kubernetes import KubernetesBackend
from sparkjobs.config import Settings

settings = Settings()
backend = KubernetesBackend(settings)
run_id = uuid.uuid4().hex[:12]
examples = Path("examples/wordcount").resolve()
plan = launch.LaunchPlan(
    run_id=run_id,
    app_name="wordcount",
    spark_submit="spark-submit",  # replaced by the image's /opt/spark/bin/spark-submit
    master="local[*]",
    kind="python",
    main_file=str(examples / "wordcount.py"),
    files=(str(examples / "sample.txt"),),
    args=(f"{km.FILES_DIR}/sample.txt", "10"),
    env={"E2E_RUN": run_id},
    timeout_seconds=int(os.environ["E2E_TIMEOUT"]),
)
work = Path(tempfile.mkdtemp(prefix="sparkjobs-e2e-"))
log = work / "run.log"
handle = backend.submit(plan, work_dir=work, log_path=log)
print(f"submitted Job {handle['namespace']}/{handle['job_name']} (run {run_id})")
deadline = time.monotonic() + int(os.environ["E2E_TIMEOUT"]) + 60
seen = backend.poll(handle)
while seen.status in (Status.PENDING, Status.RUNNING) and time.monotonic() < deadline:
    print(f"  {seen.status}: {seen.message or ''}")
    backend.pump_logs(handle, log)
    time.sleep(5)
    seen = backend.poll(handle)
backend.pump_logs(handle, log)
print(f"ended: {seen}")
text = log.read_text() if log.exists() else ""
print("---- log (last 30 lines) ----")
print("\n".join(text.splitlines()[-30:]))
backend.cleanup(handle, work_dir=work)
ns, name = handle["namespace"], handle["job_name"]
left = backend.api.get_job(ns, name)
failed = []
if seen.status != Status.EXITED or seen.exit_code != 0:
    failed.append(f"the run did not succeed: {seen}")
if not any(line.count(": ") == 1 and line.split(": ")[1].isdigit() for line in text.splitlines()):
    failed.append("no 'word: count' lines in the log")
if left is not None and seen.exit_code == 0:
    failed.append(f"Job {name} is still there after cleanup")
for problem in failed:
    print(f"FAIL: {problem}", file=sys.stderr)
print("PASS" if not failed else "FAILED")
sys.exit(1 if failed else 0)
PY
