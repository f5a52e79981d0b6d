"""Pure parts of planning: Java properties escaping and executor env placement."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sparkjobs.launch import LaunchPlan
from sparkjobs.supervisor import planning


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("spark.executorEnv.A", "plain", "spark.executorEnv.A=plain\n"),
        ("k", "a=b:c#d!e", "k=a\\=b\\:c\\#d\\!e\n"),
        ("k", " leading space", "k=\\ leading space\n"),
        ("k", "back\\slash", "k=back\\\\slash\n"),
        ("k", "two\nlines\ttab", "k=two\\nlines\\ttab\n"),
        ("k", "ünïcode €", "k=ünïcode €\n"),
        ("k", "bell\x07", "k=bell\\u0007\n"),
    ],
)
def test_java_properties_escaping(key: str, value: str, line: str) -> None:
    assert planning.java_property(key, value) == line


def _plan(master: str, env: dict[str, str], secrets: tuple[str, ...]) -> LaunchPlan:
    return LaunchPlan(
        run_id="r", app_name="a", spark_submit="s", master=master, kind="python",
        main_file="/m.py", env=env, secrets=secrets,
    )  # fmt: skip


def test_cluster_executors_get_plain_env_as_conf_and_secrets_in_a_private_file(
    tmp_path: Path,
) -> None:
    plan = _plan("spark://127.0.0.1:7077", {"HOST": "db", "PASSWORD": "hunter2"}, ("hunter2",))
    placed = planning.with_executor_env(plan, tmp_path)
    assert placed.conf == {"spark.executorEnv.HOST": "db"}
    assert placed.properties_file is not None
    props = Path(placed.properties_file)
    assert props.read_text() == "spark.executorEnv.PASSWORD=hunter2\n"
    assert stat.S_IMODE(props.stat().st_mode) == 0o600


def test_local_masters_need_no_executor_env(tmp_path: Path) -> None:
    plan = _plan("local[*]", {"PASSWORD": "hunter2"}, ("hunter2",))
    assert planning.with_executor_env(plan, tmp_path) == plan
    assert list(tmp_path.iterdir()) == []
