"""build_spark_submit_argv by table: what goes in, exactly what comes out."""

from __future__ import annotations

from typing import Any

import pytest

from sparkjobs.launch import LaunchPlan, build_spark_submit_argv

BASE: dict[str, Any] = {
    "run_id": "r1",
    "app_name": "wc-r1",
    "spark_submit": "/spark/bin/spark-submit",
    "master": "local[*]",
    "kind": "python",
    "main_file": "/work/wc.py",
}
HEAD = ["/spark/bin/spark-submit", "--master", "local[*]", "--deploy-mode", "client"]
HEAD += ["--name", "wc-r1"]

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("minimal python", {}, [*HEAD, "/work/wc.py"]),
    (
        "args verbatim, shell metacharacters untouched",
        {"args": ("$(touch /tmp/x)", "; rm -rf ~", "--master", "a b")},
        [*HEAD, "/work/wc.py", "$(touch /tmp/x)", "; rm -rf ~", "--master", "a b"],
    ),
    (
        "jar with main class",
        {"kind": "jar", "main_file": "/work/app.jar", "main_class": "org.example.Main"},
        [*HEAD, "--class", "org.example.Main", "/work/app.jar"],
    ),
    (
        "main class ignored for python",
        {"main_class": "org.example.Main"},
        [*HEAD, "/work/wc.py"],
    ),
    (
        "resources",
        {"driver_cores": 2, "driver_memory": "2g", "executor_cores": 1, "executor_memory": "1g"},
        [
            *HEAD,
            "--driver-cores", "2", "--driver-memory", "2g",
            "--executor-cores", "1", "--executor-memory", "1g",
            "/work/wc.py",
        ],
    ),
    (
        "conf sorted, executor instances as conf",
        {"conf": {"spark.b": "2", "spark.a": "x=y"}, "executor_instances": 3},
        [
            *HEAD,
            "--conf", "spark.a=x=y", "--conf", "spark.b=2",
            "--conf", "spark.executor.instances=3",
            "/work/wc.py",
        ],
    ),
    (
        "files, py-files, jars and packages joined by commas",
        {
            "files": ("/w/a.txt", "/w/b.csv"),
            "py_files": ("/w/lib.zip",),
            "jars": ("/w/x.jar",),
            "packages": ("org.postgresql:postgresql:42.7.3",),
        },
        [
            *HEAD,
            "--files", "/w/a.txt,/w/b.csv", "--py-files", "/w/lib.zip",
            "--jars", "/w/x.jar", "--packages", "org.postgresql:postgresql:42.7.3",
            "/work/wc.py",
        ],
    ),
    (
        "standalone master",
        {"master": "spark://127.0.0.1:7077"},
        [
            "/spark/bin/spark-submit", "--master", "spark://127.0.0.1:7077",
            "--deploy-mode", "client", "--name", "wc-r1", "/work/wc.py",
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fields", "expected"), CASES, ids=[c[0] for c in CASES])
def test_argv(case: str, fields: dict[str, Any], expected: list[str]) -> None:
    assert build_spark_submit_argv(LaunchPlan(**{**BASE, **fields})) == expected


def test_env_and_secrets_never_reach_the_argv() -> None:
    plan = LaunchPlan(**BASE, env={"DB_PASSWORD": "hunter2"}, secrets=("hunter2",))
    assert not any("hunter2" in part for part in build_spark_submit_argv(plan))


def test_a_properties_file_is_passed_before_the_application() -> None:
    argv = build_spark_submit_argv(LaunchPlan(**BASE, properties_file="/work/p.properties"))
    assert argv[-3:] == ["--properties-file", "/work/p.properties", "/work/wc.py"]
