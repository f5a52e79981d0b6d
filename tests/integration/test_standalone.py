"""A run on a Spark standalone cluster: the same argv as local, another --master."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sparkjobs.backends.base import Status
from sparkjobs.backends.local import LocalBackend
from sparkjobs.config import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "wordcount"


@pytest.mark.spark
@pytest.mark.xdist_group("spark-standalone")
def test_wordcount_on_a_standalone_cluster(
    settings: Settings, tmp_path: Path, spark_plan: Callable[..., Any], standalone_cluster: str
) -> None:
    backend = LocalBackend(settings)
    log = tmp_path / "run.log"
    plan = spark_plan(
        EXAMPLES / "wordcount.py", str(EXAMPLES / "sample.txt"), master=standalone_cluster
    )
    handle = backend.submit(plan, work_dir=tmp_path, log_path=log)
    deadline = time.monotonic() + 90
    while (seen := backend.poll(handle)).status == Status.RUNNING:
        assert time.monotonic() < deadline, "the word count was still running"
        time.sleep(0.2)
    text = log.read_text()
    assert (seen.status, seen.exit_code) == (Status.EXITED, 0), text[-3000:]
    assert "job: 2388" in text and "spark: 1171" in text
    assert seen.spark_app_id and re.fullmatch(r"app-\d{14}-\d{4}", seen.spark_app_id)
    assert seen.spark_ui_url and seen.spark_ui_url.startswith("http://127.0.0.1:")
