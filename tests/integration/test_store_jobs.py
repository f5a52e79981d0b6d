"""Jobs, their versions, artifacts and key/values in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sparkjobs import errors, jobs, runs
from sparkjobs.store import Database, repo

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def spec(name: str = "wordcount", artifact: str = "abcdef12", **fields: object) -> jobs.JobSpec:
    return jobs.JobSpec.model_validate(
        {"name": name, "source": {"type": "artifact", "id": artifact}, **fields}
    )


def test_create_job_is_version_1_and_reads_back(db: Database) -> None:
    with db.session() as s:
        created = repo.create_job(s, spec(args=["in.txt"]), NOW)
    with db.session() as s:
        job = repo.get_job(s, "wordcount")
        assert repo.get_job_spec(s, "wordcount", 1) == spec(args=["in.txt"])
    assert created == job
    assert (job.version, job.spec.args, job.created_at, job.updated_at) == (1, ["in.txt"], NOW, NOW)


def test_create_job_twice_raises_job_exists(db: Database) -> None:
    with db.session() as s:
        repo.create_job(s, spec(), NOW)
    with pytest.raises(errors.JobExists, match="job 'wordcount' exists already"), db.session() as s:
        repo.create_job(s, spec(description="other"), NOW)
    with db.session() as s:
        assert repo.get_job(s, "wordcount").spec.description == ""


def test_update_job_stores_next_version_and_keeps_old_ones(db: Database) -> None:
    later = NOW + timedelta(minutes=5)
    with db.session() as s:
        repo.create_job(s, spec(), NOW)
    with db.session() as s:
        updated = repo.update_job(s, spec(args=["x"]), later)
    with db.session() as s:
        job = repo.get_job(s, "wordcount")
        assert repo.get_job_spec(s, "wordcount", 1).args == []
        assert repo.get_job_spec(s, "wordcount", 2).args == ["x"]
    assert updated == job
    assert (job.version, job.created_at, job.updated_at) == (2, NOW, later)


def test_applying_the_same_spec_again_changes_nothing(db: Database) -> None:
    with db.session() as s:
        repo.create_job(s, spec(labels={"team": "data"}), NOW)
    with db.session() as s:
        again = repo.update_job(s, spec(labels={"team": "data"}), NOW + timedelta(hours=1))
    assert (again.version, again.updated_at) == (1, NOW)
    with (
        pytest.raises(errors.JobNotFound, match="has no version 2; its versions are 1 to 1"),
        db.session() as s,
    ):
        repo.get_job_spec(s, "wordcount", 2)


def test_missing_job_raises_job_not_found_with_a_hint(db: Database) -> None:
    hint = "job 'nope' not found; list jobs with 'sparkjobs jobs list'"
    with db.session() as s:
        for call in (
            lambda: repo.get_job(s, "nope"),
            lambda: repo.get_job_spec(s, "nope", 1),
            lambda: repo.update_job(s, spec("nope"), NOW),
            lambda: repo.delete_job(s, "nope"),
        ):
            with pytest.raises(errors.JobNotFound) as caught:
                call()
            assert caught.value.message == hint


def test_list_jobs_by_name_and_labels(db: Database) -> None:
    with db.session() as s:
        repo.create_job(s, spec("etl-daily", labels={"team": "data", "tier": "1"}), NOW)
        repo.create_job(s, spec("etl-hourly", labels={"team": "data"}), NOW)
        repo.create_job(s, spec("report", labels={"team": "bi", "tier": "1"}), NOW)
    with db.session() as s:

        def names(**filters: Any) -> list[str]:
            return [job.name for job in repo.list_jobs(s, **filters)]

        assert names() == ["etl-daily", "etl-hourly", "report"]
        assert names(name_contains="ETL") == ["etl-daily", "etl-hourly"]
        assert names(name_contains="%") == []
        assert names(labels={"tier": "1"}) == ["etl-daily", "report"]
        assert names(labels={"tier": "1", "team": "data"}) == ["etl-daily"]
        assert names(name_contains="report", labels={"team": "data"}) == []


def test_list_jobs_shows_the_current_version(db: Database) -> None:
    with db.session() as s:
        repo.create_job(s, spec(), NOW)
        repo.update_job(s, spec(args=["v2"]), NOW)
    with db.session() as s:
        [job] = repo.list_jobs(s)
    assert (job.version, job.spec.args) == (2, ["v2"])


def test_delete_job_removes_versions_runs_and_events(db: Database) -> None:
    run = runs.Run(
        id=repo.new_run_id(),
        job="wordcount",
        job_version=1,
        state=runs.RunState.QUEUED,
        trigger=runs.Trigger.API,
        created_at=NOW,
    )
    with db.session() as s:
        repo.create_job(s, spec(), NOW)
        repo.update_job(s, spec(args=["2"]), NOW)
        repo.insert_run(s, run)
    with db.session() as s:
        repo.delete_job(s, "wordcount")
    with db.session() as s:
        assert repo.list_jobs(s) == []
        assert repo.list_events(s, run.id) == []
        assert repo.list_runs(s) == ([], None)
        with pytest.raises(errors.RunNotFound):
            repo.get_run(s, run.id)
        with pytest.raises(errors.JobNotFound):
            repo.get_job_spec(s, "wordcount", 1)
    with db.session() as s:  # the name is free again
        assert repo.create_job(s, spec(), NOW).version == 1


def test_artifact_users_finds_every_version_that_names_it(db: Database) -> None:
    with db.session() as s:
        repo.create_job(s, spec("a", artifact="aaaaaaaa"), NOW)
        repo.update_job(s, spec("a", artifact="bbbbbbbb"), NOW)
        repo.create_job(s, spec("b", artifact="aaaaaaaa"), NOW)
        repo.create_job(s, jobs.JobSpec(name="c", source=jobs.PathSource(path="/srv/x.py")), NOW)
    with db.session() as s:
        assert repo.artifact_users(s, "aaaaaaaa") == [("a", 1), ("b", 1)]
        assert repo.artifact_users(s, "bbbbbbbb") == [("a", 2)]
        assert repo.artifact_users(s, "cccccccc") == []


def artifact(artifact_id: str, created_at: datetime) -> jobs.Artifact:
    return jobs.Artifact(
        id=artifact_id, filename="app.py", sha256="0" * 64, size=5 * 2**32, created_at=created_at
    )


def test_artifacts_create_get_list_delete(db: Database) -> None:
    older, newer = artifact("aaaaaaaa", NOW), artifact("bbbbbbbb", NOW + timedelta(seconds=1))
    with db.session() as s:
        repo.create_artifact(s, older)
        repo.create_artifact(s, newer)
    with db.session() as s:
        assert repo.get_artifact(s, "aaaaaaaa") == older
        assert repo.list_artifacts(s) == [newer, older]
        repo.delete_artifact(s, "aaaaaaaa")
    with db.session() as s:
        assert repo.list_artifacts(s) == [newer]
        with pytest.raises(errors.ArtifactNotFound, match="artifact 'aaaaaaaa' not found"):
            repo.get_artifact(s, "aaaaaaaa")
        with pytest.raises(errors.ArtifactNotFound, match="'sparkjobs artifacts list'"):
            repo.delete_artifact(s, "aaaaaaaa")


def test_artifact_with_a_taken_id_is_a_conflict(db: Database) -> None:
    with db.session() as s:
        repo.create_artifact(s, artifact("aaaaaaaa", NOW))
    with (
        pytest.raises(errors.Conflict, match="artifact 'aaaaaaaa' exists already"),
        db.session() as s,
    ):
        repo.create_artifact(s, artifact("aaaaaaaa", NOW))


def test_values_set_get_and_insert_if_absent(db: Database) -> None:
    with db.session() as s:
        assert repo.get_value(s, "admin_token_hash") is None
        assert repo.insert_value_if_absent(s, "admin_token_hash", "first") is True
    with db.session() as s:
        assert repo.insert_value_if_absent(s, "admin_token_hash", "second") is False
        assert repo.get_value(s, "admin_token_hash") == "first"
        repo.set_value(s, "admin_token_hash", "third")
        repo.set_value(s, "other", "x")
    with db.session() as s:
        assert repo.get_value(s, "admin_token_hash") == "third"
        assert repo.get_value(s, "other") == "x"


def test_datetimes_come_back_as_aware_utc(db: Database) -> None:
    plus_five = datetime(2026, 3, 1, 17, 0, 0, 654321, tzinfo=timezone(timedelta(hours=5)))
    with db.session() as s:
        repo.create_job(s, spec(), plus_five)
    with db.session() as s:
        job = repo.get_job(s, "wordcount")
    assert job.created_at == plus_five
    assert job.created_at.tzinfo is UTC
    assert job.created_at.hour == 12
