"""A typed HTTP client of the sparkjobs API (the CLI uses it; so can scripts).

Every failed call raises ApiError, built from the server's problem+json, or
ServerUnreachable when no server answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict, cast
from urllib.parse import quote

import httpx

from sparkjobs import runs

DEFAULT_URL = "http://127.0.0.1:8080"


class NextRun(TypedDict):
    #: The slot in UTC, and the same slot in the schedule's time zone (ISO 8601).
    at: str
    local: str


class ScheduleInfo(TypedDict):
    description: str
    suspended: bool
    next_runs: list[NextRun]


class JobOut(TypedDict):
    name: str
    version: int
    created_at: str
    updated_at: str
    spec: dict[str, Any]
    #: None for a job without a schedule.
    schedule_info: ScheduleInfo | None


class HistoryEntry(TypedDict):
    #: fired, skipped, manual, suspended or resumed.
    kind: str
    first: str
    last: str
    count: int | None
    run_id: str | None
    reason: str
    at: str


class ScheduleOut(TypedDict):
    job: str
    schedule: dict[str, Any] | None
    description: str | None
    suspended: bool
    next_runs: list[NextRun]
    decided_through: str | None
    #: Newest first.
    history: list[HistoryEntry]


class RunOut(TypedDict):
    id: str
    job: str
    job_version: int
    state: str
    trigger: str
    attempt: int
    exit_code: int | None
    reason: str | None
    spark_app_id: str | None
    spark_ui_url: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    args: list[str]
    conf: dict[str, str] | None
    #: The run's env override: {"name", "value"} or {"name", "secret": "set"}.
    env: list[dict[str, Any]] | None
    parent_id: str | None
    scheduled_for: str | None


class RunPage(TypedDict):
    items: list[RunOut]
    next_cursor: str | None


class EventOut(TypedDict):
    at: str
    from_state: str | None
    to_state: str
    reason: str


class ArtifactOut(TypedDict):
    id: str
    filename: str
    sha256: str
    size: int
    created_at: str


class BindingOut(TypedDict):
    name: str
    description: str
    #: {"name", "value"}, or {"name", "secret": "set"}: secrets are never returned.
    env: list[dict[str, Any]]
    service: dict[str, Any] | None
    secret_ref: dict[str, Any] | None
    config_map_ref: dict[str, Any] | None


class FieldError(TypedDict):
    field: str
    message: str


class ClientError(Exception):
    """A call to the server did not succeed."""


class ServerUnreachable(ClientError):
    """No server answered at the URL."""


class ApiError(ClientError):
    """The server answered with an error (a problem+json document)."""

    def __init__(
        self, status: int, title: str, detail: str, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, response.reason_phrase, response.text[:500])
        return cls(
            response.status_code,
            str(body.get("title", response.reason_phrase)),
            str(body.get("detail", "")),
            [cast(FieldError, e) for e in body.get("errors") or []],
        )


def _seg(value: str) -> str:
    """One URL path segment: a '?', '#' or '/' in a user's value must not change the URL's shape."""
    return quote(value, safe="")


def is_terminal(run: RunOut) -> bool:
    return runs.RunState(run["state"]) in runs.TERMINAL


class SparkJobsClient:
    """One server, one token. Use as a context manager or call close()."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> SparkJobsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if response.is_error:
            raise ApiError.from_response(response)
        return response

    def _unreachable(self, exc: Exception) -> ServerUnreachable:
        return ServerUnreachable(
            f"cannot reach the sparkjobs server at {self.base_url} ({exc}); "
            "start it with 'sparkjobs serve' or set --url / SPARKJOBS_URL"
        )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    # -- server --------------------------------------------------------------------------------

    def health(self) -> dict[str, str]:
        return cast(dict[str, str], self._json("GET", "/healthz"))

    # -- jobs ----------------------------------------------------------------------------------

    def apply_job(self, spec: dict[str, Any]) -> tuple[JobOut, bool]:
        """Create the job or store a new version; returns (job, created)."""
        response = self._send("PUT", f"/api/v1/jobs/{_seg(str(spec.get('name', '')))}", json=spec)
        return cast(JobOut, response.json()), response.status_code == 201

    def create_job(self, spec: dict[str, Any]) -> JobOut:
        return cast(JobOut, self._json("POST", "/api/v1/jobs", json=spec))

    def get_job(self, name: str) -> JobOut:
        return cast(JobOut, self._json("GET", f"/api/v1/jobs/{_seg(name)}"))

    def get_job_version(self, name: str, version: int) -> dict[str, Any]:
        return cast(
            dict[str, Any], self._json("GET", f"/api/v1/jobs/{_seg(name)}/versions/{version}")
        )

    def list_jobs(
        self, *, name: str | None = None, labels: dict[str, str] | None = None
    ) -> list[JobOut]:
        params: dict[str, Any] = {"label": [f"{k}={v}" for k, v in (labels or {}).items()]}
        if name:
            params["name"] = name
        return cast(list[JobOut], self._json("GET", "/api/v1/jobs", params=params))

    def delete_job(self, name: str) -> None:
        self._send("DELETE", f"/api/v1/jobs/{_seg(name)}")

    def job_manifests(self, name: str) -> str:
        """The YAML of the Kubernetes objects a run of the job would create (dry run)."""
        return self._send("GET", f"/api/v1/jobs/{_seg(name)}/manifests").text

    def kubernetes_services(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Services a binding may point at: name, namespace, ports (503: no cluster)."""
        params = {"namespace": namespace} if namespace else {}
        found = self._json("GET", "/api/v1/kubernetes/services", params=params)
        return cast(list[dict[str, Any]], found)

    # -- schedules -----------------------------------------------------------------------------

    def get_schedule(self, job: str, *, limit: int | None = None) -> ScheduleOut:
        """The job's schedule, next runs and history (newest first, `limit` entries at most)."""
        params = {} if limit is None else {"limit": limit}
        path = f"/api/v1/jobs/{_seg(job)}/schedule"
        return cast(ScheduleOut, self._json("GET", path, params=params))

    def suspend_schedule(self, job: str) -> ScheduleOut:
        """Stop firing the job's schedule (422 ApiError: the job has no schedule)."""
        return cast(ScheduleOut, self._json("POST", f"/api/v1/jobs/{_seg(job)}/schedule/suspend"))

    def resume_schedule(self, job: str) -> ScheduleOut:
        """Fire the job's schedule again (409 ApiError: its spec says suspended: true)."""
        return cast(ScheduleOut, self._json("POST", f"/api/v1/jobs/{_seg(job)}/schedule/resume"))

    # -- runs ----------------------------------------------------------------------------------

    @staticmethod
    def _overrides(
        args: list[str] | None,
        conf: dict[str, str] | None,
        env: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        given = {"args": args, "conf": conf, "env": env}
        return {k: v for k, v in given.items() if v is not None}

    def run(
        self,
        job: str,
        args: list[str] | None = None,
        conf: dict[str, str] | None = None,
        env: list[dict[str, Any]] | None = None,
    ) -> RunOut:
        """Queue a run of the job now; args/conf/env override the job's for this run.

        env entries look like {"name": "X", "value": "..."} or {"name": "X", "secret": "..."}.
        """
        body = self._overrides(args, conf, env)
        return cast(RunOut, self._json("POST", f"/api/v1/jobs/{_seg(job)}/runs", json=body))

    def get_run(self, run_id: str) -> RunOut:
        return cast(RunOut, self._json("GET", f"/api/v1/runs/{_seg(run_id)}"))

    def list_runs(
        self,
        *,
        job: str | None = None,
        states: list[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        params: dict[str, Any] = {"limit": limit, "state": states or []}
        params.update({k: v for k, v in {"job": job, "cursor": cursor}.items() if v})
        return cast(RunPage, self._json("GET", "/api/v1/runs", params=params))

    def stop(self, run_id: str) -> RunOut:
        return cast(RunOut, self._json("POST", f"/api/v1/runs/{_seg(run_id)}/stop"))

    def rerun(
        self,
        run_id: str,
        args: list[str] | None = None,
        conf: dict[str, str] | None = None,
        env: list[dict[str, Any]] | None = None,
    ) -> RunOut:
        """A new run of the same job version; args/conf/env replace the original run's."""
        body = self._overrides(args, conf, env) or None
        return cast(RunOut, self._json("POST", f"/api/v1/runs/{_seg(run_id)}/rerun", json=body))

    def events(self, run_id: str) -> list[EventOut]:
        return cast(list[EventOut], self._json("GET", f"/api/v1/runs/{_seg(run_id)}/events"))

    def logs(self, run_id: str, tail: int | None = None) -> str:
        params = {} if tail is None else {"tail": tail}
        return self._send("GET", f"/api/v1/runs/{_seg(run_id)}/logs", params=params).text

    def follow_logs(self, run_id: str, tail: int | None = None) -> Iterator[str]:
        """The log as it grows, until the run has ended and its log is drained."""
        params: dict[str, Any] = {"follow": "true"}
        if tail is not None:
            params["tail"] = tail
        # No read timeout: a running job may print nothing for a long while.
        timeout = httpx.Timeout(self._http.timeout.connect, read=None)
        request = self._http.build_request(
            "GET", f"/api/v1/runs/{_seg(run_id)}/logs", params=params, timeout=timeout
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        try:
            if response.is_error:
                response.read()
                raise ApiError.from_response(response)
            yield from response.iter_text()
        finally:
            response.close()

    def wait(
        self,
        run_id: str,
        *,
        poll_seconds: float = 0.5,
        timeout: float | None = None,
        on_change: Callable[[RunOut], None] | None = None,
    ) -> RunOut:
        """Poll until the run has ended; TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last_state = None
        while True:
            run = self.get_run(run_id)
            if on_change is not None and run["state"] != last_state:
                on_change(run)
            last_state = run["state"]
            if is_terminal(run):
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {run['state']} after {timeout} s")
            time.sleep(poll_seconds)

    # -- artifacts -----------------------------------------------------------------------------

    def upload_artifact(self, path: Path | str) -> ArtifactOut:
        path = Path(path)
        with path.open("rb") as f:
            files = {"file": (path.name, f, "application/octet-stream")}
            return cast(ArtifactOut, self._json("POST", "/api/v1/artifacts", files=files))

    def list_artifacts(self) -> list[ArtifactOut]:
        return cast(list[ArtifactOut], self._json("GET", "/api/v1/artifacts"))

    def get_artifact(self, artifact_id: str) -> ArtifactOut:
        return cast(ArtifactOut, self._json("GET", f"/api/v1/artifacts/{_seg(artifact_id)}"))

    def delete_artifact(self, artifact_id: str) -> None:
        self._send("DELETE", f"/api/v1/artifacts/{_seg(artifact_id)}")

    # -- bindings ------------------------------------------------------------------------------

    def list_bindings(self) -> list[BindingOut]:
        return cast(list[BindingOut], self._json("GET", "/api/v1/bindings"))

    def get_binding(self, name: str) -> BindingOut:
        return cast(BindingOut, self._json("GET", f"/api/v1/bindings/{_seg(name)}"))

    def create_binding(self, binding: dict[str, Any]) -> BindingOut:
        return cast(BindingOut, self._json("POST", "/api/v1/bindings", json=binding))

    def apply_binding(self, binding: dict[str, Any]) -> tuple[BindingOut, bool]:
        """Create the binding or replace it; returns (binding, created).

        A secret given as {"name": "X", "keep": true} keeps the one stored.
        """
        name = _seg(str(binding.get("name", "")))
        response = self._send("PUT", f"/api/v1/bindings/{name}", json=binding)
        return cast(BindingOut, response.json()), response.status_code == 201

    def delete_binding(self, name: str, *, force: bool = False) -> None:
        """Delete a binding; 409 (ApiError) while jobs list it, unless force."""
        params = {"force": "true"} if force else {}
        self._send("DELETE", f"/api/v1/bindings/{_seg(name)}", params=params)
