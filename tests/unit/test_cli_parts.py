"""The CLI's own logic, without a server: options, job files, config, errors and outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sparkjobs import cli
from sparkjobs.cli import common, jobs, runs
from sparkjobs.client import ApiError, RunOut, ServerUnreachable

runner = CliRunner()


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (None, None),
        ([], None),
        (["spark.a=1"], {"spark.a": "1"}),
        (["spark.a=x=y", "spark.b="], {"spark.a": "x=y", "spark.b": ""}),
        (["spark.a=1", "spark.a=2"], {"spark.a": "2"}),
    ],
)
def test_parse_conf(items: list[str] | None, expected: dict[str, str] | None) -> None:
    assert runs.parse_conf(items) == expected


@pytest.mark.parametrize("bad", ["novalue", "=1", ""])
def test_parse_conf_refuses_non_pairs(bad: str) -> None:
    with pytest.raises(typer.BadParameter, match="KEY=VALUE"):
        runs.parse_conf(["spark.ok=1", bad])


def test_file_source_is_uploaded_relative_to_the_yaml(tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "wc.py").write_text("print(1)\n")
    job = tmp_path / "job.yaml"
    (tmp_path / "apps" / "in.txt").write_text("a b\n")
    job.write_text(
        "name: wc\nsource: {type: file, path: apps/wc.py}\nargs: ['$(x)', '; rm']\n"
        "files: [{type: file, path: apps/in.txt}, {type: path, path: /srv/x.txt}]\n"
    )
    uploaded: list[Path] = []

    def upload(path: Path) -> str:
        uploaded.append(path)
        return f"{len(uploaded):016d}"

    spec = jobs.load_spec(job, upload)
    assert uploaded == [tmp_path / "apps" / "wc.py", tmp_path / "apps" / "in.txt"]
    assert spec == {
        "name": "wc",
        "source": {"type": "artifact", "id": "0000000000000001"},
        "args": ["$(x)", "; rm"],
        "files": [
            {"type": "artifact", "id": "0000000000000002"},
            {"type": "path", "path": "/srv/x.txt"},
        ],
    }


def test_other_sources_and_json_pass_unchanged(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    sent = {"name": "wc", "source": {"type": "path", "path": "/srv/apps/wc.py"}}
    job.write_text(json.dumps(sent))
    assert jobs.load_spec(job, lambda p: pytest.fail("nothing to upload")) == sent


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("name: wc\nsource: {type: file, path: missing.py}\n", "does not exist"),
        ("name: wc\nfiles: [{type: file, path: gone.txt}]\n", "gone.txt does not exist"),
        ("- just\n- a list\n", "mapping"),
        ("name: [unclosed\n", "cannot read"),
    ],
)
def test_bad_job_files(tmp_path: Path, content: str, words: str) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(content)
    with pytest.raises(typer.BadParameter, match=words):
        jobs.load_spec(job, lambda p: "never")


def test_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert common.load_config(config) == {}
    config.write_text('url = "http://10.0.0.1:9000"\ntoken = "t0k"\nother = 1\n')
    assert common.load_config(config) == {"url": "http://10.0.0.1:9000", "token": "t0k"}
    config.write_text("url = \n")
    with pytest.raises(typer.BadParameter, match="config file"):
        common.load_config(config)


def test_config_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARKJOBS_CONFIG", str(tmp_path / "c.toml"))
    assert common.config_path() == tmp_path / "c.toml"
    monkeypatch.delenv("SPARKJOBS_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert common.config_path() == tmp_path / ".config" / "sparkjobs" / "config.toml"


def test_target_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    monkeypatch.setenv("SPARKJOBS_CONFIG", str(config))
    ctx = typer.Context(typer.main.get_command(cli.app))
    cli.main(ctx, url=None, token=None)
    assert ctx.obj == common.Target(url="http://127.0.0.1:8080", token=None)
    config.write_text('url = "http://from-file:1"\ntoken = "file-token"\n')
    cli.main(ctx, url=None, token=None)
    assert ctx.obj == common.Target(url="http://from-file:1", token="file-token")
    cli.main(ctx, url="http://flag:2", token="flag-token")
    assert ctx.obj == common.Target(url="http://flag:2", token="flag-token")


def test_api_errors_print_fields_and_exit_2_for_bad_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = ApiError(
        422, "Invalid request", "fix it", [{"field": "args.0", "message": "not a string"}]
    )
    with pytest.raises(typer.Exit) as caught:
        common.fail_on(error)
    assert caught.value.exit_code == 2
    printed = capsys.readouterr().err
    assert "fix it" in printed and "args.0: not a string" in printed


@pytest.mark.parametrize(
    "error",
    [ApiError(404, "Job not found", "no such job"), ApiError(409, "Conflict", "ended"),
     ServerUnreachable("cannot reach the server")],
)  # fmt: skip
def test_other_errors_exit_1(error: Exception, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as caught:
        common.fail_on(error)  # type: ignore[arg-type]
    assert caught.value.exit_code == 1
    assert capsys.readouterr().err.strip()


def a_run(state: str, exit_code: int | None, reason: str | None) -> RunOut:
    return RunOut(
        id="abc123", job="wc", job_version=1, state=state, trigger="api", attempt=1,
        exit_code=exit_code, reason=reason, spark_app_id=None, spark_ui_url=None,
        created_at="", started_at=None, finished_at=None, args=[], conf=None, parent_id=None,
        scheduled_for=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("run", "code", "words"),
    [
        (a_run("succeeded", 0, "exit code 0"), 0, "succeeded"),
        (a_run("failed", 3, "exit code 3"), 1, "exit code 3"),
        (a_run("stopped", 143, "stop requested"), 1, "stop requested"),
        (a_run("lost", None, "the process vanished"), 1, "vanished"),
    ],
)
def test_outcome_sets_the_exit_code(
    run: RunOut, code: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as caught:
        runs.outcome(run)
    assert caught.value.exit_code == code
    assert words in capsys.readouterr().err


def test_help_lists_the_commands() -> None:
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "jobs", "run", "runs", "logs", "stop", "rerun", "artifacts"):
        assert command in result.output


def test_apply_help_documents_file_sources() -> None:
    result = runner.invoke(cli.app, ["jobs", "apply", "--help"])
    assert result.exit_code == 0
    assert "type: file" in " ".join(result.output.split())


def test_bad_conf_is_a_usage_error_before_any_call() -> None:
    result = runner.invoke(cli.app, ["--url", "http://127.0.0.1:9", "run", "wc", "--conf", "oops"])
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.output


def test_parse_env_makes_plain_api_entries() -> None:
    assert runs.parse_env(["A=1", "B=x=y"]) == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "x=y"},
    ]
    assert runs.parse_env(None) is None
    with pytest.raises(typer.BadParameter, match="KEY=VALUE"):
        runs.parse_env(["NOVALUE"])
