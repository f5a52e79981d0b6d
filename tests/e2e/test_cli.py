"""The `sparkjobs` command as a user meets it: the real server, real spark-submit, real HTTP.

Three applications run for real: the word count (~10 s), one that exits with
code 3 and one that prints its argv (neither starts a SparkContext: ~2 s each).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import CliServer

pytestmark = pytest.mark.xdist_group("cli-e2e")  # one server for the module

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLE = EXAMPLES / "wordcount" / "sample.txt"


def expected_counts(top: int) -> list[str]:
    """What wordcount.py must print for sample.txt, computed here without Spark."""
    words = Counter(
        w.strip(".,;:!?\"'()")
        for line in SAMPLE.read_text().splitlines()
        for w in line.lower().split()
    )
    del words[""]
    ranked = sorted(words.items(), key=lambda pair: (-pair[1], pair[0]))[:top]
    return [f"{word}: {count}" for word, count in ranked]


def write_job(server: CliServer, name: str, code: str, **yaml_lines: str) -> Path:
    app = server.apps_dir / f"{name}.py"
    app.write_text(code)
    job = server.apps_dir / f"{name}.yaml"
    extra = "".join(f"{k}: {v}\n" for k, v in yaml_lines.items())
    job.write_text(f"name: {name}\nsource: {{type: file, path: {name}.py}}\n{extra}")
    return job


def test_cli_errors_are_clear(cli_server: CliServer) -> None:
    missing = cli_server.cli("jobs", "show", "nope")
    assert missing.returncode == 1
    assert "not found" in missing.stderr.lower() and "sparkjobs jobs list" in missing.stderr
    no_token = cli_server.cli("--token", "wrong", "jobs", "list")
    assert no_token.returncode == 1 and "token" in no_token.stderr
    assert cli_server.env["SPARKJOBS_TOKEN"] not in no_token.stderr + no_token.stdout
    bad = cli_server.cli("jobs", "apply", "-f", str(write_job(cli_server, "Bad_Name", "")))
    assert bad.returncode == 2 and "name" in bad.stderr
    unreachable = cli_server.cli("--url", "http://127.0.0.1:9", "jobs", "list")
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr


@pytest.mark.spark
@pytest.mark.usefixtures("spark_available")
def test_wordcount_from_job_yaml(cli_server: CliServer) -> None:
    applied = cli_server.cli("jobs", "apply", "-f", str(EXAMPLES / "wordcount" / "job.yaml"))
    assert applied.returncode == 0, applied.stderr
    assert "wordcount created: version 1" in applied.stdout
    again = cli_server.cli("jobs", "apply", "-f", str(EXAMPLES / "wordcount" / "job.yaml"))
    assert "wordcount updated: version 1" in again.stdout  # unchanged: no new version

    run = cli_server.cli("run", "wordcount", "--follow")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    counts = [line for line in run.stdout.splitlines() if re.fullmatch(r"\S+: \d+", line)]
    assert counts == expected_counts(10)
    assert "succeeded" in run.stderr

    listed = cli_server.cli("runs", "list", "--job", "wordcount")
    assert listed.returncode == 0 and "succeeded" in listed.stdout
    run_id = listed.stdout.splitlines()[1].split()[0]
    tail = cli_server.cli("logs", run_id, "--tail", "500")
    assert expected_counts(10)[0] in tail.stdout


@pytest.mark.spark
@pytest.mark.usefixtures("spark_available")
def test_exit_code_3_makes_run_wait_exit_1(cli_server: CliServer) -> None:
    code = "import sys\nprint('failing on purpose')\nsys.exit(3)\n"
    job = write_job(cli_server, "exits3", code)
    assert cli_server.cli("jobs", "apply", "-f", str(job)).returncode == 0
    run = cli_server.cli("run", "exits3", "--wait")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed" in run.stderr and "exit code 3" in run.stderr


@pytest.mark.spark
@pytest.mark.usefixtures("spark_available")
def test_args_reach_the_app_verbatim(cli_server: CliServer, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = (
        "import json, os, sys\nprint('ARGV=' + json.dumps(sys.argv[1:]))\n"
        "print('GREETING=' + os.environ.get('GREETING', '<unset>'))\n"
    )
    job = write_job(cli_server, "argv", code)
    assert cli_server.cli("jobs", "apply", "-f", str(job)).returncode == 0
    tricky = [f"$(touch {marker})", "; rm -rf ~", "`id`", "a b", "--conf=x", "*"]
    argv = [f"--arg={arg}" for arg in tricky]
    run = cli_server.cli("run", "argv", *argv, "--env", "GREETING=$(id) hi", "--follow")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    printed = [line for line in run.stdout.splitlines() if line.startswith("ARGV=")]
    assert printed == ["ARGV=" + json.dumps(tricky)]
    assert "GREETING=$(id) hi" in run.stdout.splitlines()  # --env reaches the driver verbatim
    assert not marker.exists()

    run_id = cli_server.cli("runs", "list", "--job", "argv").stdout.splitlines()[1].split()[0]
    rerun = cli_server.cli("rerun", run_id, "--wait")
    assert rerun.returncode == 0, rerun.stderr
    rerun_id = cli_server.cli("runs", "list", "--job", "argv").stdout.splitlines()[1].split()[0]
    shown = cli_server.cli("runs", "show", rerun_id)
    assert shown.returncode == 0
    assert re.search(rf"parent_id:\s+{run_id}", shown.stdout)
    assert re.search(r"trigger:\s+rerun", shown.stdout) and "succeeded" in shown.stdout
    assert json.dumps(tricky)[1:-1].split(", ")[0] in shown.stdout  # the args were kept
    assert not marker.exists()
