"""Files the job reads by name: uploads, server paths and URLs (Spark's --files).

Uploaded files become artifacts as soon as the form is sent, and each one the
job has (or just got) rides along as a hidden ``file-N`` field holding its
source as JSON, with a ``file-N-remove`` checkbox beside it. Git entries (made
through the API) ride along the same way, so the form never drops them. Server
paths and URLs are plain lines in one text field, easy to edit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sparkjobs import errors, jobs, redact
from sparkjobs.web.forms import Errors, JobForm, Section, Values

_ENTRY = re.compile(r"^file-(\d{1,4})$")
LINES = "file_paths"
UPLOAD = "files_upload"
#: Sources listed as entries; the rest (paths, URLs without a checksum) are lines.
_LISTED = frozenset({"artifact", "git", "url"})


@dataclass(frozen=True)
class FileRow:
    """A file the job has, as the form lists it (with a Remove checkbox)."""

    index: int
    text: str
    removed: bool

    @property
    def field(self) -> str:
        return f"file-{self.index}"


def _entries(values: Values) -> list[int]:
    return sorted(int(m.group(1)) for key in values if (m := _ENTRY.match(key)))


def _source(raw: str) -> dict[str, Any] | None:
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) and found.get("type") in _LISTED else None


def describe(source: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """'data.csv (uploaded)', 'URL (checksum verified)' or 'git REPO @ REF: PATH'."""
    if source.get("type") == "artifact":
        return f"{names.get(str(source.get('id')), source.get('id'))} (uploaded)"
    if source.get("type") == "url":
        return f"{redact.mask_url_passwords(str(source.get('url')))} (checksum verified)"
    target = source.get("output") or source.get("path")
    repo = redact.mask_url_passwords(str(source.get("repo")))
    return f"git {repo} @ {source.get('ref', 'main')}: {target}"


def artifact_ids(values: Values) -> list[str]:
    """Ids of the uploaded files the form lists (to look up their names)."""
    found = (_source(values[f"file-{i}"]) for i in _entries(values))
    return [str(s["id"]) for s in found if s is not None and s["type"] == "artifact"]


def rows(values: Values, names: Mapping[str, str]) -> list[FileRow]:
    listed = []
    for i in _entries(values):
        source = _source(values[f"file-{i}"])
        if source is not None:
            removed = values.get(f"file-{i}-remove") == "on"
            listed.append(FileRow(index=i, text=describe(source, names), removed=removed))
    return listed


def _line(number: int, line: str, errs: Errors) -> dict[str, Any] | None:
    text = line.strip()
    if text.startswith("/"):
        return {"type": "path", "path": text}
    if text.startswith(("http://", "https://")):
        return {"type": "url", "url": text}
    errs.add(LINES, f"line {number}: write an absolute path on the server or an http(s) URL")
    return None


def parse_files(v: Values, errs: Errors) -> dict[str, Any]:
    listed: list[dict[str, Any]] = []
    for i in _entries(v):
        source = _source(v[f"file-{i}"])
        if source is None:
            errs.add(UPLOAD, "a listed file could not be read; upload it again")
        elif v.get(f"file-{i}-remove") != "on":
            listed.append(source)
    for number, line in enumerate(v.get(LINES, "").split("\n"), start=1):
        if line.strip() and (source := _line(number, line, errs)) is not None:
            listed.append(source)
    return {"files": listed}


def prefill_files(spec: jobs.JobSpec) -> Values:
    values: Values = {}
    lines = []
    for i, source in enumerate(spec.files):
        if isinstance(source, jobs.PathSource):
            lines.append(source.path)
        elif isinstance(source, jobs.UrlSource) and source.sha256 is None:
            lines.append(source.url)
        else:
            values[f"file-{i}"] = json.dumps(source.model_dump(mode="json", exclude_none=True))
    values[LINES] = "\n".join(lines)
    return values


def keep_uploads(
    form: JobForm, uploads: Iterable[object], keep: Callable[[Any], jobs.Artifact]
) -> None:
    """Store each chosen file (`keep` makes it an artifact) and list it in the form."""
    index = (_entries(form.values) or [-1])[-1] + 1
    for upload in uploads:
        if not getattr(upload, "filename", None):
            continue  # the empty part a file input sends when nothing was chosen
        try:
            artifact = keep(upload)
        except errors.Invalid as exc:
            form.errors.add(UPLOAD, exc.message)
            continue
        form.values[f"file-{index}"] = json.dumps({"type": "artifact", "id": artifact.id})
        index += 1


SECTION = Section(
    key="files",
    title="Files",
    template="jobs/form/files.html",
    inputs=(UPLOAD, LINES),
    parse=parse_files,
    prefill=prefill_files,
    paths={"files": LINES},
)
