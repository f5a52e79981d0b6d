"""Job spec validation: good specs pass, bad ones say which field and why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sparkjobs import errors, jobs

GOOD: dict[str, Any] = {"name": "wordcount", "source": {"type": "path", "path": "/srv/wc.py"}}


def spec(**changes: Any) -> jobs.JobSpec:
    return jobs.JobSpec.model_validate({**GOOD, **changes})


def test_minimal_spec_has_safe_defaults() -> None:
    s = spec()
    assert s.args == [] and s.conf == {} and s.retries.max_attempts == 1
    assert s.master is None and s.timeout_seconds is None


BAD: list[tuple[dict[str, Any], str]] = [
    ({"name": "Word_Count"}, "name"),
    ({"name": "-wc"}, "name"),
    ({"name": "a" * 64}, "name"),
    ({"name": ""}, "name"),
    ({"source": {"type": "path", "path": "relative/wc.py"}}, "source"),
    ({"source": {"type": "path", "path": "/srv/../etc/passwd"}}, "source"),
    ({"source": {"type": "ftp", "path": "/x"}}, "source"),
    ({"source": {"type": "artifact", "id": "../../x"}}, "source"),
    ({"args": ["ok", 3]}, "args"),
    ({"args": "one string"}, "args"),
    ({"conf": {"hadoop.x": "1"}}, "conf"),
    ({"conf": {"spark.x": 1}}, "conf"),
    ({"main_class": "not a class"}, "main_class"),
    ({"kind": "python", "main_class": "org.Main"}, "main_class"),
    ({"driver": {"memory": "lots"}}, "driver"),
    ({"executor": {"instances": 0}}, "executor"),
    ({"master": "yarn"}, "master"),
    ({"master": "spark://host:7077; rm -rf /"}, "master"),
    ({"retries": {"max_attempts": 0}}, "retries"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"namespace": "Bad_NS"}, "namespace"),
    ({"labels": {"team": "a b"}}, "labels"),
    ({"unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize(("changes", "field"), BAD)
def test_bad_specs_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        spec(**changes)
    assert any(str(e["loc"][0]) == field for e in info.value.errors())


def test_missing_source_is_refused() -> None:
    with pytest.raises(ValidationError, match="source"):
        jobs.JobSpec.model_validate({"name": "wc"})


@pytest.mark.parametrize(
    "key",
    [
        "spark.master",
        "spark.submit.deployMode",
        "spark.driver.extraClassPath",
        "spark.executor.extraJavaOptions",
        "spark.driver.extraJavaOptions",
        "spark.pyspark.python",
        "spark.kubernetes.authenticate.driver.serviceAccountName",
    ],
)
def test_guarded_conf_is_refused_unless_allowed(key: str) -> None:
    with pytest.raises(errors.RefusedConf, match=key):
        jobs.check_conf({key: "x"}, allowed=[])
    jobs.check_conf({key: "x"}, allowed=[key])


def test_prefix_allowance_and_ordinary_conf() -> None:
    jobs.check_conf(
        {"spark.executor.memoryOverhead": "1g", "spark.sql.shuffle.partitions": "4"}, []
    )
    jobs.check_conf({"spark.kubernetes.driver.label.x": "y"}, allowed=["spark.kubernetes."])


@pytest.mark.parametrize(
    ("filename", "declared", "kind"),
    [("wc.py", None, "python"), ("APP.JAR", None, "jar"), ("app.bin", "jar", "jar")],
)
def test_kind_follows_the_file_unless_declared(filename: str, declared: Any, kind: str) -> None:
    assert jobs.kind_of(filename, declared) == kind


def test_unknown_kind_says_what_to_do() -> None:
    with pytest.raises(errors.Invalid, match='set "kind"'):
        jobs.kind_of("app.zip", None)


@pytest.mark.parametrize(("attempt", "delay"), [(1, 10.0), (2, 10.0), (3, 20.0), (4, 40.0)])
def test_retry_backoff_is_exponential(attempt: int, delay: float) -> None:
    assert jobs.RetryPolicy(max_attempts=5, backoff_seconds=10).delay_before(attempt) == delay


@pytest.mark.parametrize("field", ["name", "namespace"])
def test_a_trailing_newline_is_not_a_valid_name(field: str) -> None:
    with pytest.raises(ValidationError):
        spec(**{field: "wordcount\n"})
