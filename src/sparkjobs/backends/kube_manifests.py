"""The Kubernetes objects one run needs, as plain dicts: pure functions, no cluster.

A run becomes a `batch/v1` Job (created suspended, resumed once its Secret and
ConfigMap exist), a per-run Secret (env secrets and the download token, always
by reference, never inline) and a per-run ConfigMap (small files and Spark pod
templates). The Job's pod runs the same argv `launch.build_spark_submit_argv`
builds for every backend, with the plan's file paths rewritten to where the pod
mounts them. The backend creates these objects; the dry run prints them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Literal

import yaml

from sparkjobs import envvars, errors, jobs, launch
from sparkjobs.config import Settings

Obj = dict[str, Any]

SPARK_SUBMIT = "/opt/spark/bin/spark-submit"
FILES_DIR = "/opt/sparkjobs/files"  #: small files, from the per-run ConfigMap
TEMPLATES_DIR = "/opt/sparkjobs/templates"  #: Spark pod templates, same ConfigMap
WORK_DIR = "/opt/sparkjobs/work"  #: emptyDir: downloads land here; the working directory
EXECUTOR_TEMPLATE = "sparkjobs-executor-pod.yaml"
DRIVER_TEMPLATE = "sparkjobs-driver-pod.yaml"

MANAGED_BY = "sparkjobs"
LABEL_JOB = "sparkjobs.io/job"
LABEL_RUN = "sparkjobs.io/run"
LABEL_COMPONENT = "sparkjobs.io/component"
#: Selects every object sparkjobs made, in any namespace.
MANAGED_SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY}"
#: The Job's pod (the driver in client mode, the spark-submit launcher in cluster mode).
SUBMIT_COMPONENT = "submit"

#: Key of the token in the per-run Secret; no env name has a '-', so it cannot clash.
TOKEN_KEY = "sparkjobs-fetch-token"  # noqa: S105 - a key name
TOKEN_ENV = "SPARKJOBS_FETCH_TOKEN"  # noqa: S105 - a variable name
POD_IP_ENV = "SPARKJOBS_POD_IP"
POD_NAME_ENV = "SPARKJOBS_POD_NAME"
RESERVED_ENV = frozenset({TOKEN_ENV, POD_IP_ENV, POD_NAME_ENV})

#: A ConfigMap holds at most 1 MiB; bigger files are fetched by the init container.
SMALL_FILE_MAX_BYTES = 256 * 1024
SMALL_FILES_TOTAL_MAX_BYTES = 768 * 1024

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][-._A-Za-z0-9]{0,252}$")
OBJECT_KEY = re.compile(r"^[-._A-Za-z0-9]{1,253}$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
URL = re.compile(r"^https?://[^\s]+$")

POD_SECURITY: Obj = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY: Obj = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
#: spark-submit in cluster mode and the fetch container only wait on the network.
SMALL_RESOURCES: Obj = {
    "requests": {"cpu": "100m", "memory": "512Mi"},
    "limits": {"memory": "512Mi"},
}


@dataclass(frozen=True, kw_only=True)
class Download:
    """A file the init container fetches into WORK_DIR before Spark starts."""

    name: str
    url: str
    #: Send the run's bearer token: only for the sparkjobs server, never a third party.
    with_token: bool = True


@dataclass(frozen=True, kw_only=True)
class KubeEnvRef:
    """A binding that points at a Kubernetes object instead of carrying values.

    - service: `env` is a prefix; the pod gets `<env>_HOST` (name.namespace.svc)
      and, when a port is given, `<env>_PORT`. `namespace` defaults to the run's.
      (A binding of the inputs issue, `service=ServiceRef(...)`, maps to this kind
      with its name upper-cased as the prefix; `secret_ref` / `config_map_ref`
      map to secret / configmap without a key.)
    - secret / configmap with `key`: the pod gets `env` = that key's value.
    - secret / configmap without `key`: every key becomes a variable (envFrom),
      prefixed with `env` when given. Values never pass through the server.
    """

    kind: Literal["service", "secret", "configmap"]
    name: str
    env: str | None = None
    key: str | None = None
    port: int | None = None
    namespace: str | None = None

    def __post_init__(self) -> None:
        if not DNS_SUBDOMAIN.match(self.name):
            raise errors.Invalid(f"'{self.name}' is not a Kubernetes object name", field="name")
        if self.env is not None and not ENV_NAME.match(self.env):
            raise errors.Invalid(f"'{self.env}' is not a valid variable name", field="env")
        if self.kind == "service":
            self._check_service()
        elif self.key is not None and (self.env is None or not OBJECT_KEY.match(self.key)):
            raise errors.Invalid(
                f"a {self.kind} reference with a key needs a valid key and an 'env' name",
                field="key",
            )

    def _check_service(self) -> None:
        if self.env is None:
            raise errors.Invalid("a service reference needs an 'env' prefix", field="env")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise errors.Invalid("a service port must be 1-65535", field="port")
        if self.namespace is not None and not jobs.DNS_LABEL.match(self.namespace):
            raise errors.Invalid(f"'{self.namespace}' is not a namespace name", field="namespace")


def binding_refs(binding: envvars.Binding) -> list[KubeEnvRef]:
    """What a binding points at in the cluster: its Service's host and port as
    <NAME>_HOST/<NAME>_PORT (the binding's name upper-cased, '-' as '_'), every key
    of its Secret and ConfigMap as a variable."""
    refs: list[KubeEnvRef] = []
    if binding.service is not None:
        svc = binding.service
        prefix = binding.name.upper().replace("-", "_")
        refs.append(
            KubeEnvRef(
                kind="service", name=svc.name, env=prefix, port=svc.port, namespace=svc.namespace
            )
        )
    if binding.secret_ref is not None:
        refs.append(KubeEnvRef(kind="secret", name=binding.secret_ref.name))
    if binding.config_map_ref is not None:
        refs.append(KubeEnvRef(kind="configmap", name=binding.config_map_ref.name))
    return refs


@dataclass(frozen=True, kw_only=True)
class RunInputs:
    """What a run brings besides its plan, already resolved and placed."""

    plain_env: Mapping[str, str] = field(default_factory=dict)
    #: Goes into the per-run Secret; the pod reads it through secretKeyRef.
    secret_env: Mapping[str, str] = field(default_factory=dict)
    #: File name -> content, mounted read-only at FILES_DIR.
    small_files: Mapping[str, bytes] = field(default_factory=dict)
    downloads: tuple[Download, ...] = ()
    refs: tuple[KubeEnvRef, ...] = ()
    #: Short-lived token for downloads with_token; stored in the per-run Secret.
    fetch_token: str | None = None


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where and as what a run goes: names, namespace, image and mode."""

    job: str
    run_id: str
    namespace: str
    image: str
    fetch_image: str
    mode: Literal["client", "cluster"]
    master: str
    service_account: str | None
    ttl_seconds: int
    grace_seconds: int

    @property
    def job_name(self) -> str:
        digest = hashlib.sha256(self.run_id.encode()).hexdigest()[:10]
        return f"{self.job[:48].rstrip('-')}-{digest}"

    @property
    def secret_name(self) -> str:
        return secret_name(self.job_name)

    @property
    def configmap_name(self) -> str:
        return configmap_name(self.job_name)

    @property
    def on_kubernetes(self) -> bool:
        """True when Spark itself makes pods (executors, or the driver in cluster mode)."""
        return self.master.startswith("k8s://")

    def labels(self, component: str | None = None) -> dict[str, str]:
        labels = {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/name": "spark-job",
            LABEL_JOB: self.job,
            LABEL_RUN: self.run_id,
        }
        return labels | ({LABEL_COMPONENT: component} if component else {})


def secret_name(job_name: str) -> str:
    """The per-run Secret of the Job called job_name."""
    return f"{job_name}-env"


def configmap_name(job_name: str) -> str:
    """The per-run ConfigMap of the Job called job_name."""
    return f"{job_name}-files"


def job_label(name: str) -> str:
    """A job name as a DNS label (the supervisor names the Spark app after its job)."""
    if jobs.DNS_LABEL.match(name):
        return name
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:48].strip("-")
    return cleaned or "job"


def target_for(plan: launch.LaunchPlan, settings: Settings, *, job: str) -> Target:
    """Resolve namespace, image and mode; the plan's spark.kubernetes.* conf wins over settings."""
    if not jobs.DNS_LABEL.match(job):
        raise errors.Invalid(f"job name '{job}' is not a DNS label", field="name")
    if not jobs.LABEL_VALUE.match(plan.run_id) or not plan.run_id:
        raise errors.Invalid(f"run id '{plan.run_id}' cannot be a Kubernetes label value")
    if settings.kube_mode not in ("client", "cluster"):
        raise errors.Invalid("SPARKJOBS_KUBE_MODE must be 'client' or 'cluster'")
    image = plan.conf.get("spark.kubernetes.container.image", settings.kube_image)
    cluster = settings.kube_mode == "cluster"
    master = plan.master
    if cluster and not master.startswith("k8s://"):
        master = settings.kube_master
    return Target(
        job=job,
        run_id=plan.run_id,
        namespace=plan.conf.get("spark.kubernetes.namespace", settings.kube_namespace),
        image=image,
        fetch_image=settings.kube_fetch_image or image,
        mode="cluster" if cluster else "client",
        master=master,
        service_account=settings.kube_service_account,
        ttl_seconds=settings.kube_ttl_seconds_after_finished,
        grace_seconds=math.ceil(settings.stop_grace_seconds),
    )


def with_job_placement(
    plan: launch.LaunchPlan, spec: jobs.JobSpec, settings: Settings
) -> launch.LaunchPlan:
    """Carry the job's namespace and image in the plan, as the Spark conf that means them."""
    conf = dict(plan.conf)
    conf["spark.kubernetes.namespace"] = spec.namespace or settings.kube_namespace
    conf["spark.kubernetes.container.image"] = spec.image or settings.kube_image
    return replace(plan, conf=conf)


def literal(text: str) -> str:
    """Keep Kubernetes from expanding $(VAR) in a value we did not write ('$$' is a '$')."""
    return text.replace("$", "$$")


def memory_mib(value: str) -> int:
    """Spark's memory strings in MiB: 512m, 2g, 1t, 4096k; no unit means MiB."""
    match = re.fullmatch(r"([0-9]+)([kmgt]?)", value.strip().lower())
    if not match:
        raise errors.Invalid(f"memory '{value}' must look like 512m or 2g", field="memory")
    factor = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}[match.group(2)]
    return math.ceil(int(match.group(1)) * factor)


def pod_memory(jvm_memory: str | None) -> str:
    """The pod memory for a JVM heap: Spark adds max(10%, 384 MiB) of overhead."""
    heap = memory_mib(jvm_memory or "1g")
    return f"{heap + max(math.ceil(heap * 0.10), 384)}Mi"


def driver_resources(plan: launch.LaunchPlan) -> Obj:
    amounts = {"cpu": str(plan.driver_cores or 1), "memory": pod_memory(plan.driver_memory)}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def split_env(plan: launch.LaunchPlan) -> tuple[dict[str, str], dict[str, str]]:
    """(plain, secret): a variable whose value is one of plan.secrets goes to the Secret."""
    secrets = set(plan.secrets)
    plain = {k: v for k, v in plan.env.items() if v not in secrets}
    secret = {k: v for k, v in plan.env.items() if v in secrets}
    return plain, secret


def _check_inputs(inputs: RunInputs) -> None:
    for name in [*inputs.plain_env, *inputs.secret_env]:
        if not ENV_NAME.match(name) or name in RESERVED_ENV:
            raise errors.Invalid(f"'{name}' cannot be an environment variable name", field="env")
    names = [*inputs.small_files, *(d.name for d in inputs.downloads)]
    for name in names:
        if not FILE_NAME.match(name) or name in (EXECUTOR_TEMPLATE, DRIVER_TEMPLATE):
            raise errors.Invalid(f"file name '{name}' must be letters, digits, '.', '_', '-'")
    if len(set(names)) != len(names):
        raise errors.Invalid("two files of the run have the same name; rename one")
    for download in inputs.downloads:
        if not URL.match(download.url):
            raise errors.Invalid(f"download URL for '{download.name}' must be http(s)")
    if any(d.with_token for d in inputs.downloads) and not inputs.fetch_token:
        raise errors.Invalid("downloads from the server need a fetch token")
    if sum(len(v) for v in inputs.small_files.values()) > SMALL_FILES_TOTAL_MAX_BYTES:
        raise errors.Invalid("small files exceed what a ConfigMap holds; fetch them instead")


def in_image(path: str) -> bool:
    """A path with a scheme (local:// in the image, s3a://, https://) that Spark fetches itself."""
    return "://" in path


def _mounted_path(path: str, inputs: RunInputs, scheme: str) -> str:
    if in_image(path):
        return literal(path)
    name = PurePosixPath(path).name
    if name in inputs.small_files:
        return f"{scheme}{FILES_DIR}/{name}"
    if any(d.name == name for d in inputs.downloads):
        return f"{scheme}{WORK_DIR}/{name}"
    raise errors.Invalid(f"file '{name}' is neither mounted nor downloaded for the pod")


def _spark_conf(target: Target, plan: launch.LaunchPlan) -> dict[str, str]:
    """What Spark needs to make pods; ours, so written without escaping."""
    if not target.on_kubernetes:
        return {}
    conf = {
        "spark.kubernetes.namespace": target.namespace,
        "spark.kubernetes.container.image": target.image,
        "spark.kubernetes.executor.podTemplateFile": f"{TEMPLATES_DIR}/{EXECUTOR_TEMPLATE}",
    }
    if target.mode == "client":
        conf["spark.driver.host"] = f"$({POD_IP_ENV})"
        # Executors are owned by the driver pod, so they go when it goes.
        conf["spark.kubernetes.driver.pod.name"] = f"$({POD_NAME_ENV})"
    else:
        conf["spark.kubernetes.driver.podTemplateFile"] = f"{TEMPLATES_DIR}/{DRIVER_TEMPLATE}"
        conf["spark.kubernetes.submission.waitAppCompletion"] = "true"
        if target.service_account:
            sa = target.service_account
            conf["spark.kubernetes.authenticate.driver.serviceAccountName"] = sa
    if plan.packages:
        conf["spark.jars.ivy"] = "/tmp/.ivy2"  # noqa: S108 - an emptyDir in the pod
    return conf


def pod_plan(plan: launch.LaunchPlan, target: Target, inputs: RunInputs) -> launch.LaunchPlan:
    """The plan as the pod sees it: mounted paths, the image's spark-submit, escaped values."""
    scheme = "local://" if target.mode == "cluster" else ""

    def moved(paths: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_mounted_path(p, inputs, scheme) for p in paths)

    hidden = {f"spark.executorEnv.{name}" for name in inputs.secret_env}
    conf = {literal(k): literal(v) for k, v in plan.conf.items() if k not in hidden}
    conf.update(_spark_conf(target, plan))
    return replace(
        plan,
        spark_submit=SPARK_SUBMIT,
        master=target.master,
        deploy_mode=target.mode,
        app_name=literal(plan.app_name),
        main_file=_mounted_path(plan.main_file, inputs, scheme),
        args=tuple(literal(a) for a in plan.args),
        conf=conf,
        files=moved(plan.files),
        py_files=moved(plan.py_files),
        jars=moved(plan.jars),
        packages=tuple(literal(p) for p in plan.packages),
        env={},
        secrets=(),
    )


def command_for(plan: launch.LaunchPlan, target: Target, inputs: RunInputs) -> list[str]:
    """The pod's argv; refuses one that would carry a secret value in the clear."""
    argv = launch.build_spark_submit_argv(pod_plan(plan, target, inputs))
    secrets = [s for s in [*inputs.secret_env.values(), *plan.secrets] if len(s) >= 4]
    if any(secret in arg for arg in argv for secret in secrets):
        raise errors.SubmitError(
            "a secret value would appear in the pod's command line (args or conf); "
            "pass it as a secret environment variable instead"
        )
    return argv


def _env(target: Target, inputs: RunInputs, *, pod_fields: bool) -> list[Obj]:
    env: list[Obj] = []
    if pod_fields:
        for name, path in ((POD_IP_ENV, "status.podIP"), (POD_NAME_ENV, "metadata.name")):
            env.append({"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}})
    own = {*inputs.plain_env, *inputs.secret_env}  # the job's own env wins a clash
    env += [e for ref in inputs.refs for e in _ref_env(ref, target) if e["name"] not in own]
    env += [{"name": k, "value": literal(v)} for k, v in sorted(inputs.plain_env.items())]
    for name in sorted(inputs.secret_env):
        ref = {"name": target.secret_name, "key": name}
        env.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
    return env


def _ref_env(ref: KubeEnvRef, target: Target) -> list[Obj]:
    if ref.kind == "service":
        host = f"{ref.name}.{ref.namespace or target.namespace}.svc"
        env = [{"name": f"{ref.env}_HOST", "value": host}]
        return env + ([{"name": f"{ref.env}_PORT", "value": str(ref.port)}] if ref.port else [])
    if ref.key is None:
        return []
    source = "secretKeyRef" if ref.kind == "secret" else "configMapKeyRef"
    return [{"name": ref.env, "valueFrom": {source: {"name": ref.name, "key": ref.key}}}]


def _env_from(inputs: RunInputs) -> list[Obj]:
    env_from: list[Obj] = []
    for ref in inputs.refs:
        if ref.kind == "service" or ref.key is not None:
            continue
        source = "secretRef" if ref.kind == "secret" else "configMapRef"
        item: Obj = {source: {"name": ref.name}}
        if ref.env:
            item["prefix"] = ref.env
        env_from.append(item)
    return env_from


def _fetch_containers(target: Target, inputs: RunInputs) -> list[Obj]:
    """One init container per kind of download: with the run's token, or without any."""
    containers = []
    for with_token in (True, False):
        batch = [d for d in inputs.downloads if d.with_token == with_token]
        if batch:
            containers.append(_fetch_container(target, batch, with_token=with_token))
    return containers


def _fetch_container(target: Target, batch: list[Download], *, with_token: bool) -> Obj:
    argv = ["curl", "-fsS", "--proto", "=http,https", "--retry", "3", "--max-time", "900"]
    env: list[Obj] = []
    if with_token:
        # Kubernetes puts the token into this argv from env; the Job spec never holds it.
        argv += ["-H", f"Authorization: Bearer $({TOKEN_ENV})"]
        ref = {"name": target.secret_name, "key": TOKEN_KEY}
        env.append({"name": TOKEN_ENV, "valueFrom": {"secretKeyRef": ref}})
    for download in batch:
        argv += ["-o", f"{WORK_DIR}/{download.name}", literal(download.url)]
    return {
        "name": "fetch" if with_token else "fetch-public",
        "image": target.fetch_image,
        "command": argv,
        "env": env,
        "resources": copy.deepcopy(SMALL_RESOURCES),
        "securityContext": copy.deepcopy(CONTAINER_SECURITY),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "work", "mountPath": WORK_DIR}],
    }


def _mounts(inputs: RunInputs, *, templates: bool) -> list[Obj]:
    mounts: list[Obj] = [
        {"name": "work", "mountPath": WORK_DIR},
        {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir
    ]
    if inputs.small_files:
        mounts.append({"name": "files", "mountPath": FILES_DIR, "readOnly": True})
        # Also in the working directory, as the local backend has them: a job that
        # opens "sample.txt" finds it on every backend.
        mounts += [
            {"name": "files", "mountPath": f"{WORK_DIR}/{n}", "subPath": n, "readOnly": True}
            for n in sorted(inputs.small_files)
        ]
    if templates:
        mounts.append({"name": "templates", "mountPath": TEMPLATES_DIR, "readOnly": True})
    return mounts


def _volumes(target: Target, inputs: RunInputs, *, templates: bool) -> list[Obj]:
    volumes: list[Obj] = [{"name": "work", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    if inputs.small_files:
        items = [{"key": n, "path": n} for n in sorted(inputs.small_files)]
        volumes.append(_configmap_volume("files", target, items))
    if templates:
        names = [EXECUTOR_TEMPLATE] + ([DRIVER_TEMPLATE] if target.mode == "cluster" else [])
        volumes.append(
            _configmap_volume("templates", target, [{"key": n, "path": n} for n in names])
        )
    return volumes


def _configmap_volume(name: str, target: Target, items: list[Obj]) -> Obj:
    return {"name": name, "configMap": {"name": target.configmap_name, "items": items}}


@dataclass(frozen=True, kw_only=True)
class _PodShape:
    container: Obj
    files: bool  #: mount the run's files (and fetch the large ones first)
    templates: bool  #: mount the Spark pod templates
    api_access: bool  #: the pod makes pods itself (Spark on Kubernetes)


def _pod_spec(target: Target, inputs: RunInputs, shape: _PodShape) -> Obj:
    files_inputs = inputs if shape.files else replace(inputs, small_files={}, downloads=())
    container = {
        **shape.container,
        "securityContext": copy.deepcopy(CONTAINER_SECURITY),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": _mounts(files_inputs, templates=shape.templates),
    }
    spec: Obj = {
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "automountServiceAccountToken": shape.api_access,
        "terminationGracePeriodSeconds": target.grace_seconds,
        "securityContext": copy.deepcopy(POD_SECURITY),
        "containers": [container],
        "volumes": _volumes(target, files_inputs, templates=shape.templates),
    }
    if shape.api_access and target.service_account:
        spec["serviceAccountName"] = target.service_account
    init = _fetch_containers(target, files_inputs)
    if init:
        spec["initContainers"] = init
    return spec


def _env_container(target: Target, inputs: RunInputs, name: str, *, pod_fields: bool) -> Obj:
    container: Obj = {"name": name, "image": target.image, "workingDir": WORK_DIR}
    container["env"] = _env(target, inputs, pod_fields=pod_fields)
    env_from = _env_from(inputs)
    if env_from:
        container["envFrom"] = env_from
    return container


def _pod_template(target: Target, inputs: RunInputs, component: str) -> Obj:
    """A Spark pod template: Spark adds its own settings on top of this pod."""
    shape = _PodShape(
        container=_env_container(target, inputs, "spark", pod_fields=False),
        files=target.mode == "cluster",
        templates=False,
        api_access=component == "driver",
    )
    spec = _pod_spec(target, inputs, shape)
    del spec["restartPolicy"]  # Spark decides it for the pods it makes
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": target.labels(component)},
        "spec": spec,
    }


def pod_templates(target: Target, inputs: RunInputs) -> dict[str, Obj]:
    """Spark pod templates by file name (only when Spark makes pods itself)."""
    if not target.on_kubernetes:
        return {}
    templates = {EXECUTOR_TEMPLATE: _pod_template(target, inputs, "executor")}
    if target.mode == "cluster":
        templates[DRIVER_TEMPLATE] = _pod_template(target, inputs, "driver")
    return templates


def _submit_pod_spec(plan: launch.LaunchPlan, target: Target, inputs: RunInputs) -> Obj:
    client = target.mode == "client"
    container = _env_container(target, inputs, "spark", pod_fields=client)
    if not client:
        # The launcher only talks to the API server; the driver pod gets the env.
        container = {"name": "spark-submit", "image": target.image, "workingDir": WORK_DIR}
    container["command"] = command_for(plan, target, inputs)
    container["resources"] = driver_resources(plan) if client else copy.deepcopy(SMALL_RESOURCES)
    shape = _PodShape(
        container=container,
        files=client,
        templates=target.on_kubernetes,
        api_access=target.on_kubernetes,
    )
    return _pod_spec(target, inputs, shape)


def _metadata(target: Target, name: str) -> Obj:
    return {"name": name, "namespace": target.namespace, "labels": target.labels()}


def job_object(plan: launch.LaunchPlan, target: Target, inputs: RunInputs) -> Obj:
    spec: Obj = {
        "backoffLimit": 0,  # retries are the server's
        "suspend": True,  # resumed once the Secret and ConfigMap exist
        "ttlSecondsAfterFinished": target.ttl_seconds,
        "template": {
            "metadata": {"labels": target.labels(SUBMIT_COMPONENT)},
            "spec": _submit_pod_spec(plan, target, inputs),
        },
    }
    if plan.timeout_seconds:
        spec["activeDeadlineSeconds"] = plan.timeout_seconds
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(target, target.job_name),
        "spec": spec,
    }


def secret_object(target: Target, inputs: RunInputs) -> Obj | None:
    data = dict(inputs.secret_env)
    if inputs.fetch_token and any(d.with_token for d in inputs.downloads):
        data[TOKEN_KEY] = inputs.fetch_token
    if not data:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(target, target.secret_name),
        "type": "Opaque",
        "immutable": True,
        "stringData": data,
    }


def configmap_object(target: Target, inputs: RunInputs) -> Obj | None:
    text: dict[str, str] = {}
    binary: dict[str, str] = {}
    for name, content in inputs.small_files.items():
        try:
            text[name] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[name] = base64.b64encode(content).decode("ascii")
    for name, pod in pod_templates(target, inputs).items():
        text[name] = yaml.dump(pod, Dumper=_PlainDumper, sort_keys=False)
    if not text and not binary:
        return None
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(target, target.configmap_name),
        "immutable": True,
        "data": text,
    }
    if binary:
        obj["binaryData"] = binary
    return obj


def build_objects(plan: launch.LaunchPlan, target: Target, inputs: RunInputs) -> list[Obj]:
    """The run's objects, Job first; the others are created after it (owned by it)."""
    _check_inputs(inputs)
    objects = [job_object(plan, target, inputs)]
    objects += [o for o in (secret_object(target, inputs), configmap_object(target, inputs)) if o]
    return objects


def owned_by(obj: Obj, job: Obj) -> Obj:
    """obj with an ownerReference to the created Job, so Kubernetes deletes it with the Job."""
    reference = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": job["metadata"]["name"],
        "uid": job["metadata"]["uid"],
        # blockOwnerDeletion would need update rights on jobs/finalizers (OpenShift checks).
        "blockOwnerDeletion": False,
    }
    owned = copy.deepcopy(obj)
    owned["metadata"]["ownerReferences"] = [reference]
    return owned


def render_yaml(objects: Sequence[Obj], *, redact: bool = True) -> str:
    """Multi-document YAML for the dry run; Secret values show as *** unless redact=False."""
    shown = [_redacted(o) if redact else o for o in objects]
    return yaml.dump_all(shown, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False)


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated values out in full: no &anchors a reader must follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _redacted(obj: Obj) -> Obj:
    if obj.get("kind") != "Secret":
        return obj
    hidden = copy.deepcopy(obj)
    for key in ("stringData", "data"):
        if key in hidden:
            hidden[key] = dict.fromkeys(hidden[key], "***")
    return hidden


#: Volume types the restricted Pod Security Standard allows.
_ALLOWED_VOLUMES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim"}
    | {"projected", "secret"}
)


def restricted_violations(pod_spec: Obj) -> list[str]:
    """Why a pod spec fails the restricted Pod Security Standard or OpenShift's restricted SCC.

    Empty when it passes. Checks what those profiles check (host namespaces,
    volumes, non-root, privilege escalation, capabilities, seccomp) plus
    OpenShift's rule that the user and groups are assigned, not pinned.
    """
    found = [f"{key} is set" for key in ("hostNetwork", "hostPID", "hostIPC") if pod_spec.get(key)]
    for volume in pod_spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= _ALLOWED_VOLUMES:
            found.append(f"volume '{volume.get('name')}' uses {sorted(kinds)}")
    pod_sc = pod_spec.get("securityContext") or {}
    found += _pinned_ids("pod", pod_sc) + [
        f"pod securityContext pins {k}" for k in ("fsGroup", "supplementalGroups") if k in pod_sc
    ]
    containers = [
        *pod_spec.get("initContainers", []),
        *pod_spec.get("containers", []),
        *pod_spec.get("ephemeralContainers", []),
    ]
    if not containers:
        found.append("the pod has no containers")
    for container in containers:
        found += _container_violations(container, pod_sc)
    return found


def _pinned_ids(where: str, sc: Obj) -> list[str]:
    return [f"{where} securityContext pins {k}" for k in ("runAsUser", "runAsGroup") if k in sc]


def _container_violations(container: Obj, pod_sc: Obj) -> list[str]:
    name = f"container '{container.get('name')}'"
    sc = container.get("securityContext") or {}
    found = _pinned_ids(name, sc)
    if sc.get("privileged"):
        found.append(f"{name} is privileged")
    if sc.get("allowPrivilegeEscalation") is not False:
        found.append(f"{name} does not set allowPrivilegeEscalation: false")
    capabilities = sc.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        found.append(f"{name} does not drop ALL capabilities")
    if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
        found.append(f"{name} adds capabilities")
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
        found.append(f"{name} may run as root (runAsNonRoot is not true)")
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        found.append(f"{name} has no RuntimeDefault seccomp profile")
    if any(port.get("hostPort") for port in container.get("ports", [])):
        found.append(f"{name} uses a hostPort")
    return found
