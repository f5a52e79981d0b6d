"""Launch plans and the one function that turns them into a spark-submit argv.

Every backend runs the same argv: the local backend as a child process, a
standalone cluster with another --master, Kubernetes inside a pod. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sparkjobs.jobs import Kind


@dataclass(frozen=True, kw_only=True)
class LaunchPlan:
    """Everything needed to start one run, resolved to local paths and plain values."""

    run_id: str
    app_name: str
    #: The job's name (Kubernetes labels its objects with it); "" in plans made by hand.
    job: str = ""
    spark_submit: str
    master: str
    kind: Kind
    main_file: str
    main_class: str | None = None
    deploy_mode: str = "client"
    args: tuple[str, ...] = ()
    conf: dict[str, str] = field(default_factory=dict)
    driver_cores: int | None = None
    driver_memory: str | None = None
    executor_cores: int | None = None
    executor_memory: str | None = None
    executor_instances: int | None = None
    files: tuple[str, ...] = ()
    py_files: tuple[str, ...] = ()
    jars: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    #: Environment of the driver process (executors get it through spark.executorEnv.*).
    env: dict[str, str] = field(default_factory=dict)
    #: Values that must never be shown (decrypted secrets): logs and events mask them.
    secrets: tuple[str, ...] = ()
    timeout_seconds: int | None = None
    #: A Spark properties file (mode 0600) for conf that must not show on a command line.
    properties_file: str | None = None


def _option(flag: str, value: object | None) -> list[str]:
    return [] if value is None else [flag, str(value)]


def _joined(flag: str, items: tuple[str, ...]) -> list[str]:
    return [flag, ",".join(items)] if items else []


def build_spark_submit_argv(plan: LaunchPlan) -> list[str]:
    """The spark-submit argv for a plan; the application's args come last, verbatim."""
    conf = dict(plan.conf)
    if plan.executor_instances is not None:
        conf["spark.executor.instances"] = str(plan.executor_instances)
    argv = [
        plan.spark_submit,
        "--master",
        plan.master,
        "--deploy-mode",
        plan.deploy_mode,
        "--name",
        plan.app_name,
    ]
    if plan.kind == "jar" and plan.main_class:
        argv += ["--class", plan.main_class]
    argv += _option("--driver-cores", plan.driver_cores)
    argv += _option("--driver-memory", plan.driver_memory)
    argv += _option("--executor-cores", plan.executor_cores)
    argv += _option("--executor-memory", plan.executor_memory)
    for key in sorted(conf):
        argv += ["--conf", f"{key}={conf[key]}"]
    argv += _option("--properties-file", plan.properties_file)
    argv += _joined("--files", plan.files)
    argv += _joined("--py-files", plan.py_files)
    argv += _joined("--jars", plan.jars)
    argv += _joined("--packages", plan.packages)
    argv.append(plan.main_file)
    argv.extend(plan.args)
    return argv
