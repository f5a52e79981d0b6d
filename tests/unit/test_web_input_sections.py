"""The job form's Environment, Files and Bindings sections and the binding form: typed text in,
spec parts out, and what a page may show (never a secret's value)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sparkjobs import envvars, errors, jobs
from sparkjobs.web import bindingform, forms
from sparkjobs.web.sections import bindings, env, files


def parse_env(values: dict[str, str]) -> tuple[list[dict[str, object]], forms.Errors]:
    errs = forms.Errors()
    return env.parse_rows(values, errs), errs


def test_rows_become_values_secrets_and_keeps_in_row_order_with_gaps() -> None:
    entries, errs = parse_env(
        {
            "env-7-name": "LAST",
            "env-7-value": "z",
            "env-0-name": "PLAIN",
            "env-0-value": " spaced ",
            "env-2-name": "TOKEN",
            "env-2-value": "s3cret",
            "env-2-secret": "on",
            "env-3-name": "KEPT",
            "env-3-secret": "on",
            "env-3-stored": "KEPT",
            "env-4-name": "",
            "env-4-value": "",
        }
    )
    assert not errs
    assert entries == [
        {"name": "PLAIN", "value": " spaced "},
        {"name": "TOKEN", "secret": "s3cret"},
        {"name": "KEPT", "keep": True},
        {"name": "LAST", "value": "z"},
    ]
    assert [v.name for v in (envvars.EnvVar.model_validate(e) for e in entries)] == [
        "PLAIN",
        "TOKEN",
        "KEPT",
        "LAST",
    ]


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"env-0-name": "1BAD", "env-0-value": "x"}, "env-0-name", "letters, digits"),
        ({"env-0-name": "", "env-0-value": "x"}, "env-0-name", "a name"),
        ({"env-0-name": "A", "env-0-secret": "on"}, "env-0-value", "type the secret"),
        (
            {"env-0-name": "NEW", "env-0-secret": "on", "env-0-stored": "OLD"},
            "env-0-value",
            "again to store it as NEW",
        ),
        (
            {"env-0-name": "A", "env-0-value": "1", "env-1-name": "A", "env-1-value": "2"},
            "env-1-name",
            "twice",
        ),
    ],
)
def test_a_bad_row_is_reported_at_its_field(values: dict[str, str], field: str, words: str) -> None:
    _, errs = parse_env(values)
    assert words in errs[field]


def test_a_page_never_gets_a_secrets_value() -> None:
    typed = {"env-0-name": "T", "env-0-value": "typed-secret", "env-0-secret": "on"}
    first, again = env.rows(typed, came_back=False)[0], env.rows(typed, came_back=True)[0]
    assert first.value is None and not first.retype
    assert again.value is None and again.retype
    stored = jobs.JobSpec(
        name="j",
        source=jobs.ArtifactSource(id="abcdef12"),
        env=[envvars.EnvVar(name="T", secret_ciphertext="gAAAA-cipher")],
    )
    prefilled = env.prefill_env(stored)
    assert prefilled == {"env-0-name": "T", "env-0-secret": "on", "env-0-stored": "T"}
    assert env.view({}, came_back=False)["env_next"] == 1  # one blank row to start with


def test_files_keep_uploads_entries_and_lines() -> None:
    form = forms.JobForm(values={"file-0": json.dumps({"type": "artifact", "id": "aaaaaaaa"})})
    form.values["file-0-remove"] = "on"

    class Upload:
        def __init__(self, filename: str) -> None:
            self.filename = filename

    def keep(upload: Upload) -> jobs.Artifact:
        if upload.filename == "bad":
            raise errors.Invalid("bad name")
        now = datetime.now(UTC)
        return jobs.Artifact(id="bbbbbbbb", filename="d.csv", sha256="0", size=1, created_at=now)

    files.keep_uploads(form, [Upload(""), Upload("d.csv"), Upload("bad")], keep)
    assert form.errors == {"files_upload": "bad name"}
    form.values["file_paths"] = "/srv/a.csv\n\nhttps://example.org/b.csv\nrelative.txt"
    errs = forms.Errors()
    parsed = files.parse_files(form.values, errs)["files"]
    assert parsed == [
        {"type": "artifact", "id": "bbbbbbbb"},
        {"type": "path", "path": "/srv/a.csv"},
        {"type": "url", "url": "https://example.org/b.csv"},
    ]
    assert "line 4" in errs["file_paths"]
    listed = files.rows(form.values, {"bbbbbbbb": "d.csv"})
    assert [(r.text, r.removed) for r in listed] == [
        ("aaaaaaaa (uploaded)", True),
        ("d.csv (uploaded)", False),
    ]


def test_files_prefill_round_trips_through_parse() -> None:
    spec = jobs.JobSpec(
        name="j",
        source=jobs.ArtifactSource(id="abcdef12"),
        files=[
            jobs.ArtifactSource(id="abcdef12"),
            jobs.PathSource(path="/srv/x.csv"),
            jobs.UrlSource(url="https://h.example/y.csv", sha256="a" * 64),
            jobs.GitSource(repo="https://h.example/r.git", path="data/z.csv"),
        ],
    )
    errs = forms.Errors()
    again = files.parse_files(files.prefill_files(spec), errs)["files"]
    assert not errs
    reread = jobs.JobSpec.model_validate({**spec.model_dump(), "files": again}).files
    assert sorted(s.model_dump_json() for s in reread) == sorted(
        s.model_dump_json() for s in spec.files
    )


def test_bindings_are_ticked_boxes_and_missing_ones_are_shown() -> None:
    values = {"binding-cache": "on", "binding-gone": "on", "name": "x"}
    assert bindings.parse_bindings(values, forms.Errors()) == {"bindings": ["cache", "gone"]}
    listed = bindings.choices(values, [envvars.Binding(name="cache"), envvars.Binding(name="db")])
    assert [(c.name, c.checked, c.missing) for c in listed] == [
        ("cache", True, False),
        ("db", False, False),
        ("gone", True, True),
    ]


def test_the_binding_form_makes_a_binding_and_puts_errors_at_fields() -> None:
    form = forms.JobForm(
        values={
            "name": "cache",
            "env-0-name": "HOST",
            "env-0-value": "h",
            "service_name": "redis",
            "service_port": "6379",
            "secret_name": "cache-creds",
        }
    )
    binding = bindingform.to_binding(form)
    assert binding is not None and not form.errors
    assert binding.service == envvars.ServiceRef(name="redis", port=6379)
    assert binding.secret_ref == envvars.ObjectRef(name="cache-creds")
    assert bindingform.prefill(binding)["service_port"] == "6379"

    bad = forms.JobForm(values={"name": "Cache", "service_port": "99999", "config_map_name": "A"})
    assert bindingform.to_binding(bad) is None
    assert set(bad.errors) == {"name", "service_name", "service_port", "config_map_name"}
    assert "name the Service" in bad.errors["service_name"]
