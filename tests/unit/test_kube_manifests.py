"""Every object a run can produce validates against the official Kubernetes schemas
(1.30 and the newest kubernetes-validate knows) and passes the restricted profile."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from sparkjobs import errors, launch
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends import kubernetes as kb
from sparkjobs.config import Settings
from sparkjobs.jobs import JobSpec

VERSIONS = ("1.30", kubernetes_validate.latest_version())
K8S = "k8s://https://kubernetes.default.svc"
SECRET = "hunter2-very-secret"


def validate(obj: dict) -> None:
    for version in VERSIONS:
        kubernetes_validate.validate(obj, version, strict=True)


def make_plan(**changes: object) -> launch.LaunchPlan:
    plan = launch.LaunchPlan(
        run_id="0123abcd4567",
        app_name="wordcount",
        spark_submit="/srv/venv/bin/spark-submit",
        master="local[*]",
        kind="python",
        main_file="/srv/data/artifacts/ab12/wordcount.py",
        args=("input.txt",),
    )
    return replace(plan, **changes)


SECRET_ENV = {"plain_env": {"MODE": "fast"}, "secret_env": {"DB_PASSWORD": SECRET}}
SMALL = {"small_files": {"wordcount.py": b"print('hi')\n", "words.txt": b"a b\n"}}
BINARY = {"small_files": {"wordcount.py": b"x", "blob.bin": bytes(range(256))}}
LARGE = {
    "small_files": {"wordcount.py": b"x"},
    "downloads": (
        km.Download(name="big.jar", url="http://sparkjobs:8080/api/v1/runs/r/files/big.jar"),
        km.Download(name="data.csv", url="https://example.org/data.csv", with_token=False),
    ),
    "fetch_token": "run-token-123456",
}
REFS = {
    "refs": (
        km.KubeEnvRef(kind="service", name="redis", env="CACHE", port=6379),
        km.KubeEnvRef(kind="service", name="pg", env="DB", namespace="data"),
        km.KubeEnvRef(kind="secret", name="db-creds", key="password", env="DB_PASS"),
        km.KubeEnvRef(kind="secret", name="api-keys"),
        km.KubeEnvRef(kind="configmap", name="settings", env="APP_"),
        km.KubeEnvRef(kind="configmap", name="settings", key="level", env="LOG_LEVEL"),
    )
}
ONLY_MAIN = {"small_files": {"wordcount.py": b"x"}}

CASES = {
    "bare": ({}, ONLY_MAIN, {}),
    "secrets": (
        {"env": {"MODE": "fast", "DB_PASSWORD": SECRET}, "secrets": (SECRET,)},
        ONLY_MAIN | SECRET_ENV,
        {},
    ),
    "small-files": ({"files": ("/srv/f/words.txt",)}, SMALL, {}),
    "binary-file": ({"files": ("/srv/f/blob.bin",)}, BINARY, {}),
    "large-files": ({"jars": ("/srv/a/big.jar",), "files": ("/srv/u/data.csv",)}, LARGE, {}),
    "bindings": ({}, ONLY_MAIN | REFS, {}),
    "timeout-resources": (
        {
            "timeout_seconds": 900,
            "driver_memory": "2g",
            "driver_cores": 2,
            "executor_memory": "4g",
            "executor_instances": 3,
        },
        ONLY_MAIN,
        {},
    ),
    "k8s-master": (
        {"master": K8S},
        ONLY_MAIN | SECRET_ENV | REFS,
        {"kube_service_account": "spark"},
    ),
    "k8s-master-files": (
        {"master": K8S, "jars": ("/srv/a/big.jar",), "files": ("/srv/u/data.csv",)},
        LARGE,
        {},
    ),
    "cluster": (
        {"packages": ("org.example:lib:1.0",)},
        ONLY_MAIN | SECRET_ENV,
        {"kube_mode": "cluster", "kube_service_account": "spark"},
    ),
    "cluster-files": (
        {"jars": ("/srv/a/big.jar",), "files": ("/srv/u/data.csv",), "timeout_seconds": 60},
        LARGE | REFS,
        {"kube_mode": "cluster"},
    ),
    "image-and-namespace": (
        {
            "conf": {
                "spark.kubernetes.namespace": "team-a",
                "spark.kubernetes.container.image": "registry.example/spark:4",
            }
        },
        ONLY_MAIN,
        {},
    ),
}


def build(case: str) -> tuple[list[dict], km.Target, km.RunInputs]:
    plan_changes, input_fields, settings_fields = CASES[case]
    plan = make_plan(**plan_changes)
    settings = Settings(**settings_fields)
    target = km.target_for(plan, settings, job="wordcount")
    inputs = km.RunInputs(**input_fields)
    return km.build_objects(plan, target, inputs), target, inputs


def pod_specs(objects: list[dict]) -> list[tuple[str, dict]]:
    """Every pod spec a run makes: the Job's, and the Spark pod templates in the ConfigMap."""
    specs = [("job", objects[0]["spec"]["template"]["spec"])]
    for obj in objects[1:]:
        if obj["kind"] == "ConfigMap":
            for key, text in obj["data"].items():
                if key.startswith("sparkjobs-") and key.endswith("-pod.yaml"):
                    specs.append((key, yaml.safe_load(text)["spec"]))
    return specs


@pytest.mark.parametrize("case", sorted(CASES))
def test_objects_validate_against_the_official_schemas(case: str) -> None:
    objects, _, _ = build(case)
    assert objects[0]["kind"] == "Job"
    for obj in objects:
        validate(obj)
    for cm in (o for o in objects if o["kind"] == "ConfigMap"):
        for key in (km.EXECUTOR_TEMPLATE, km.DRIVER_TEMPLATE):
            if key in cm["data"]:
                validate(yaml.safe_load(cm["data"][key]))  # Spark pod templates are Pods


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_pod_passes_the_restricted_profile(case: str) -> None:
    objects, _, _ = build(case)
    for where, spec in pod_specs(objects):
        assert km.restricted_violations(spec) == [], where


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_object_and_pod_carries_the_run_labels(case: str) -> None:
    objects, target, _ = build(case)
    wanted = {
        "app.kubernetes.io/managed-by": "sparkjobs",
        "app.kubernetes.io/name": "spark-job",
        "sparkjobs.io/job": "wordcount",
        "sparkjobs.io/run": "0123abcd4567",
    }
    for obj in objects:
        assert obj["metadata"]["labels"].items() >= wanted.items()
        assert obj["metadata"]["namespace"] == target.namespace
    assert objects[0]["spec"]["template"]["metadata"]["labels"].items() >= wanted.items()
    for cm in (o for o in objects if o["kind"] == "ConfigMap"):
        for key, text in cm["data"].items():
            if key.endswith("-pod.yaml"):
                assert yaml.safe_load(text)["metadata"]["labels"].items() >= wanted.items()


def test_job_shape() -> None:
    objects, target, _ = build("timeout-resources")
    job = objects[0]
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["suspend"] is True
    assert spec["activeDeadlineSeconds"] == 900
    assert spec["ttlSecondsAfterFinished"] == Settings().kube_ttl_seconds_after_finished
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False  # local[*] in the pod needs no API
    resources = pod["containers"][0]["resources"]
    assert resources["requests"] == {"cpu": "2", "memory": f"{2048 + 384}Mi"}
    assert resources["limits"] == resources["requests"]
    assert job["metadata"]["name"] == target.job_name
    assert len(target.job_name) <= 63


def test_the_command_is_the_launch_argv_with_pod_paths() -> None:
    plan = make_plan(files=("/srv/f/words.txt",), args=("input.txt", "--n", "3"))
    target = km.target_for(plan, Settings(), job="wordcount")
    objects = km.build_objects(plan, target, km.RunInputs(**SMALL))
    command = objects[0]["spec"]["template"]["spec"]["containers"][0]["command"]
    expected = launch.build_spark_submit_argv(
        replace(
            plan,
            spark_submit="/opt/spark/bin/spark-submit",
            main_file="/opt/sparkjobs/files/wordcount.py",
            files=("/opt/sparkjobs/files/words.txt",),
        )
    )
    assert command == expected


def test_cluster_mode_uses_local_uris_and_the_k8s_master() -> None:
    objects, _, _ = build("cluster-files")
    command = objects[0]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[command.index("--deploy-mode") + 1] == "cluster"
    assert command[command.index("--master") + 1] == Settings().kube_master
    assert "local:///opt/sparkjobs/files/wordcount.py" in command
    assert "local:///opt/sparkjobs/work/big.jar" in command[command.index("--jars") + 1]
    driver = yaml.safe_load(objects[-1]["data"][km.DRIVER_TEMPLATE])
    assert [c["name"] for c in driver["spec"]["initContainers"]] == ["fetch", "fetch-public"]


def test_client_mode_on_kubernetes_points_executors_at_the_pod() -> None:
    objects, _, _ = build("k8s-master")
    pod = objects[0]["spec"]["template"]["spec"]
    command = pod["containers"][0]["command"]
    assert "spark.driver.host=$(SPARKJOBS_POD_IP)" in command
    assert "spark.kubernetes.driver.pod.name=$(SPARKJOBS_POD_NAME)" in command
    assert pod["serviceAccountName"] == "spark"
    assert pod["automountServiceAccountToken"] is True
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["SPARKJOBS_POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"


def test_secrets_travel_only_in_the_secret() -> None:
    plan = make_plan(
        env={"MODE": "fast", "DB_PASSWORD": SECRET},
        secrets=(SECRET,),
        conf={"spark.executorEnv.DB_PASSWORD": SECRET, "spark.executorEnv.MODE": "fast"},
        master=K8S,
    )
    plain, secret = km.split_env(plan)
    assert (plain, secret) == ({"MODE": "fast"}, {"DB_PASSWORD": SECRET})
    target = km.target_for(plan, Settings(), job="wordcount")
    inputs = km.RunInputs(plain_env=plain, secret_env=secret, **ONLY_MAIN)
    job, secret_obj, configmap = km.build_objects(plan, target, inputs)
    assert SECRET not in json.dumps(job)
    assert SECRET not in json.dumps(configmap)
    assert secret_obj["stringData"] == {"DB_PASSWORD": SECRET}
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    ref = env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": target.secret_name, "key": "DB_PASSWORD"}
    executor = yaml.safe_load(configmap["data"][km.EXECUTOR_TEMPLATE])
    names = {e["name"] for e in executor["spec"]["containers"][0]["env"]}
    assert {"DB_PASSWORD", "MODE"} <= names


def test_a_secret_in_the_args_is_refused() -> None:
    plan = make_plan(args=(f"--password={SECRET}",), secrets=(SECRET,), env={"P": SECRET})
    target = km.target_for(plan, Settings(), job="wordcount")
    inputs = km.RunInputs(secret_env={"P": SECRET}, **ONLY_MAIN)
    with pytest.raises(errors.SubmitError, match="secret value would appear"):
        km.build_objects(plan, target, inputs)


def test_user_text_is_never_expanded_by_kubernetes() -> None:
    plan = make_plan(args=("$(SPARKJOBS_POD_IP)", "cost$5"), conf={"spark.x": "$(HOME)"})
    target = km.target_for(plan, Settings(), job="wordcount")
    inputs = km.RunInputs(plain_env={"GREETING": "hi $(USER)"}, **ONLY_MAIN)
    pod = km.build_objects(plan, target, inputs)[0]["spec"]["template"]["spec"]
    command = pod["containers"][0]["command"]
    assert command[-2:] == ["$$(SPARKJOBS_POD_IP)", "cost$$5"]
    assert "spark.x=$$(HOME)" in command
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["GREETING"] == "hi $$(USER)"


def test_the_token_is_read_from_the_secret_by_the_fetch_container() -> None:
    objects, target, _ = build("large-files")
    pod = objects[0]["spec"]["template"]["spec"]
    fetch, public = pod["initContainers"]
    assert fetch["env"][0]["valueFrom"]["secretKeyRef"] == {
        "name": target.secret_name,
        "key": km.TOKEN_KEY,
    }
    assert "Authorization: Bearer $(SPARKJOBS_FETCH_TOKEN)" in fetch["command"]
    assert "run-token-123456" not in json.dumps(objects[0])
    assert not any("Authorization" in arg for arg in public["command"])  # third party: no token
    assert objects[1]["stringData"][km.TOKEN_KEY] == "run-token-123456"


def test_bindings_become_references() -> None:
    objects, _, _ = build("bindings")
    container = objects[0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["CACHE_HOST"]["value"] == "redis.default.svc"
    assert env["CACHE_PORT"]["value"] == "6379"
    assert env["DB_HOST"]["value"] == "pg.data.svc"
    assert "DB_PORT" not in env
    assert env["DB_PASS"]["valueFrom"]["secretKeyRef"] == {"name": "db-creds", "key": "password"}
    assert env["LOG_LEVEL"]["valueFrom"]["configMapKeyRef"] == {"name": "settings", "key": "level"}
    assert container["envFrom"] == [
        {"secretRef": {"name": "api-keys"}},
        {"configMapRef": {"name": "settings"}, "prefix": "APP_"},
    ]


def test_the_jobs_own_env_wins_over_a_binding() -> None:
    plan = make_plan()
    target = km.target_for(plan, Settings(), job="wordcount")
    ref = km.KubeEnvRef(kind="service", name="redis", env="CACHE", port=6379)
    inputs = km.RunInputs(plain_env={"CACHE_HOST": "mine"}, refs=(ref,), **ONLY_MAIN)
    env = km.build_objects(plan, target, inputs)[0]["spec"]["template"]["spec"]["containers"][0][
        "env"
    ]
    assert [e for e in env if e["name"] == "CACHE_HOST"] == [
        {"name": "CACHE_HOST", "value": "mine"}
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "service", "name": "redis"}, "prefix"),
        ({"kind": "service", "name": "redis", "env": "C", "port": 70000}, "1-65535"),
        ({"kind": "secret", "name": "Bad_Name"}, "object name"),
        ({"kind": "secret", "name": "s", "key": "k"}, "'env' name"),
        ({"kind": "configmap", "name": "c", "env": "1BAD"}, "variable name"),
    ],
)
def test_bad_references_are_refused(fields: dict, problem: str) -> None:
    with pytest.raises(errors.Invalid, match=problem):
        km.KubeEnvRef(**fields)


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (
            km.RunInputs(plain_env={"SPARKJOBS_POD_IP": "x"}, **ONLY_MAIN),
            "cannot be an environment",
        ),
        (km.RunInputs(small_files={"wordcount.py": b"", "../x": b""}), "file name"),
        (
            km.RunInputs(
                small_files={"wordcount.py": b""},
                downloads=(km.Download(name="wordcount.py", url="http://s/x"),),
                fetch_token="t",
            ),
            "same name",
        ),
        (
            km.RunInputs(
                small_files={"wordcount.py": b""},
                downloads=(km.Download(name="a.jar", url="file:///etc/passwd"),),
                fetch_token="t",
            ),
            "http",
        ),
        (
            km.RunInputs(
                small_files={"wordcount.py": b""},
                downloads=(km.Download(name="a.jar", url="http://s/a.jar"),),
            ),
            "token",
        ),
        (km.RunInputs(), "neither mounted nor downloaded"),
    ],
)
def test_bad_inputs_are_refused(inputs: km.RunInputs, problem: str) -> None:
    plan = make_plan()
    target = km.target_for(plan, Settings(), job="wordcount")
    with pytest.raises(errors.Invalid, match=problem):
        km.build_objects(plan, target, inputs)


@pytest.mark.parametrize(
    ("jvm", "pod"),
    [
        (None, "1408Mi"),
        ("512m", "896Mi"),
        ("2g", "2432Mi"),
        ("8g", "9012Mi"),
        ("1024", "1408Mi"),
        ("4194304k", "4506Mi"),
        ("1t", "1153434Mi"),
    ],
)
def test_pod_memory_adds_sparks_overhead(jvm: str | None, pod: str) -> None:
    assert km.pod_memory(jvm) == pod


def test_restricted_checker_finds_what_is_wrong() -> None:
    bad = {
        "hostNetwork": True,
        "securityContext": {"runAsUser": 1000, "fsGroup": 2000},
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        "containers": [
            {
                "name": "a",
                "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                "ports": [{"containerPort": 80, "hostPort": 80}],
            },
            {
                "name": "b",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "runAsNonRoot": False,
                    "seccompProfile": {"type": "Unconfined"},
                },
            },
        ],
    }
    found = "\n".join(km.restricted_violations(bad))
    for problem in (
        "hostNetwork",
        "hostPath",
        "pins runAsUser",
        "pins fsGroup",
        "'a' is privileged",
        "'a' does not set allowPrivilegeEscalation",
        "'a' does not drop ALL",
        "'a' adds capabilities",
        "'a' uses a hostPort",
        "'b' may run as root",
        "'b' has no RuntimeDefault seccomp",
    ):
        assert problem in found


def test_render_yaml_hides_secret_values_and_parses_back() -> None:
    objects, _, _ = build("secrets")
    text = km.render_yaml(objects)
    assert SECRET not in text
    docs = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in docs] == ["Job", "Secret", "ConfigMap"][: len(docs)]
    assert docs[1]["stringData"] == {"DB_PASSWORD": "***"}
    assert docs[0] == objects[0]
    assert SECRET in km.render_yaml(objects, redact=False)


def test_owned_by_points_at_the_created_job() -> None:
    objects, _, _ = build("secrets")
    job = objects[0] | {"metadata": objects[0]["metadata"] | {"uid": "u-1"}}
    owned = km.owned_by(objects[1], job)
    assert owned["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert "ownerReferences" not in objects[1]["metadata"]
    validate(owned)


def test_job_names_are_stable_distinct_and_dns_labels() -> None:
    names = set()
    for run_id in ("r1", "r2", "01HZZZZZZZZZZZZZZZZZZZZZZZ", "01HZZZZZZZZZZZZZZZZZZZZZZY"):
        plan = make_plan(run_id=run_id)
        target = km.target_for(plan, Settings(), job="a" * 63)
        assert len(target.job_name) <= 63
        assert target.job_name == km.target_for(plan, Settings(), job="a" * 63).job_name
        names.add(target.job_name)
    assert len(names) == 4
    assert km.job_label("Word Count!") == "word-count"


def test_manifests_for_a_dry_run_places_files_by_size(tmp_path: Path) -> None:
    main = tmp_path / "wordcount.py"
    main.write_text("print('hi')\n")
    big = tmp_path / "big.jar"
    big.write_bytes(b"\0" * (km.SMALL_FILE_MAX_BYTES + 1))
    spec = JobSpec.model_validate(
        {
            "name": "wordcount",
            "source": {"type": "path", "path": str(main)},
            "namespace": "team-a",
            "image": "registry.example/spark:4",
        }
    )
    plan = make_plan(
        main_file=str(main), jars=(str(big),), env={"TOKEN": SECRET}, secrets=(SECRET,)
    )
    objects = kb.manifests_for(spec, plan, Settings(public_url="https://jobs.example"), "run9")
    job = objects[0]
    assert job["metadata"]["namespace"] == "team-a"
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example/spark:4"
    assert (
        "https://jobs.example/api/v1/downloads/run9/big.jar" in pod["initContainers"][0]["command"]
    )
    assert objects[2]["data"]["wordcount.py"] == "print('hi')\n"
    for obj in objects:
        validate(obj)
    assert SECRET not in km.render_yaml(objects)
