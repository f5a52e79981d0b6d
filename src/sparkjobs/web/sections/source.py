"""Where the application file comes from: an upload, a URL, a git repository, a server path."""

from __future__ import annotations

from typing import Any

from sparkjobs import jobs
from sparkjobs.web.forms import Errors, Section, Values
from sparkjobs.web.sections.text import optional, present

#: The ways to give the application file (jobs.Source); each has a reader below.
SOURCE_TYPES: tuple[tuple[str, str], ...] = (
    ("upload", "Upload a file"),
    ("url", "Download from a URL"),
    ("git", "From a git repository"),
    ("path", "A file on the server"),
)


def _upload(v: Values, errs: Errors) -> dict[str, Any] | None:
    if not v.get("artifact_id"):
        errs.add("file", "choose the .py or .jar file to upload")
        return None
    return {"type": "artifact", "id": v["artifact_id"]}


def _path(v: Values, errs: Errors) -> dict[str, Any] | None:
    if not optional(v, "source_path"):
        errs.add("source_path", "write the absolute path of the file on the server")
        return None
    return {"type": "path", "path": v["source_path"].strip()}


def _url(v: Values, errs: Errors) -> dict[str, Any] | None:
    if not optional(v, "source_url"):
        errs.add("source_url", "write the http(s) URL of the file")
        return None
    return present(type="url", url=v["source_url"].strip(), sha256=optional(v, "source_sha256"))


def _git(v: Values, errs: Errors) -> dict[str, Any] | None:
    if not optional(v, "git_repo"):
        errs.add("git_repo", "write the repository's URL")
        return None
    return present(
        type="git",
        repo=v["git_repo"].strip(),
        ref=optional(v, "git_ref"),
        path=optional(v, "git_path"),
        build=optional(v, "git_build"),
        output=optional(v, "git_output"),
    )


#: source_type -> the reader of its fields.
SOURCE_READERS = {"upload": _upload, "path": _path, "url": _url, "git": _git}


def parse_source(v: Values, errs: Errors) -> dict[str, Any]:
    reader = SOURCE_READERS.get(v.get("source_type", ""))
    if reader is None:
        errs.add("source_type", "choose where the application file comes from")
        return {}
    source = reader(v, errs)
    return {} if source is None else {"source": source}


def prefill_source(spec: jobs.JobSpec) -> Values:
    src = spec.source
    if isinstance(src, jobs.ArtifactSource):
        return {"source_type": "upload", "artifact_id": src.id}
    if isinstance(src, jobs.PathSource):
        return {"source_type": "path", "source_path": src.path}
    if isinstance(src, jobs.UrlSource):
        return {"source_type": "url", "source_url": src.url, "source_sha256": src.sha256 or ""}
    return {
        "source_type": "git",
        "git_repo": src.repo,
        "git_ref": src.ref,
        "git_path": src.path or "",
        "git_build": src.build or "",
        "git_output": src.output or "",
    }


SECTION = Section(
    key="source",
    title="Application file",
    template="jobs/form/source.html",
    inputs=(
        "source_type",
        "file",
        "artifact_id",
        "source_path",
        "source_url",
        "source_sha256",
        "git_repo",
        "git_ref",
        "git_path",
        "git_build",
        "git_output",
    ),
    parse=parse_source,
    prefill=prefill_source,
    # Error locations of a tagged union name the tag: ('source', 'git', 'ref').
    paths={
        "source": "source_type",
        "source.artifact": "file",
        "source.path": "source_path",
        "source.url": "source_url",
        "source.url.sha256": "source_sha256",
        "source.git": "git_repo",
        "source.git.ref": "git_ref",
        "source.git.path": "git_path",
        "source.git.build": "git_build",
        "source.git.output": "git_output",
    },
    defaults={"source_type": "upload"},
    options={"source_types": SOURCE_TYPES},
)
