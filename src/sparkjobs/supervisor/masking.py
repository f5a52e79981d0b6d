"""The secrets of a run, as a Redactor that masks them in its log, reason and events.

A run's secrets are those of its job version's env, of the bindings that
version lists, and of the run's own env override. The planner's are exact (what
the run got); when this process did not plan the run, they are read again from
the store, where a binding may have changed since: then a value it held before
is not known here (the one gap; deleting a binding or changing its secret after
runs used it leaves their logs with the old value unmasked).

When a secret cannot be decrypted (the server's key changed), nothing of the
run is shown: every text comes back as one notice. Failing closed is the point.
"""

from __future__ import annotations

import codecs
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from sparkjobs import envvars, errors, runs
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.redact import Redactor
from sparkjobs.store import Database, repo

#: How many runs' redactors are kept; more are read again from the store.
CACHE_SIZE = 512
HIDDEN = (
    "*** (hidden: this run's secrets cannot be decrypted with the server's current key, "
    "so its text cannot be masked; restore the old key to see it)"
)


class HideAll(Redactor):
    """Masks everything: for a run whose secrets are unknown."""

    def mask(self, text: str) -> str:
        return HIDDEN if text else text

    def mask_stream(self, chunks: Iterable[str]) -> Iterator[str]:
        for _ in chunks:
            yield HIDDEN + "\n"
            return


def run_env(db: Database, run: runs.Run) -> list[envvars.EnvVar]:
    """Every variable the run may have had: its bindings', its job's, its override's.

    Names may repeat (a clash is kept whole, so a secret that lost one is masked too).
    """
    with db.session() as s:
        spec = repo.get_job_spec(s, run.job, run.job_version)
        env: list[envvars.EnvVar] = []
        for name in spec.bindings:
            try:
                env += repo.get_binding(s, name).env
            except errors.BindingNotFound:
                continue  # deleted with force since: its values are not known any more
    env += spec.env
    env += [envvars.EnvVar.model_validate(v) for v in run.overrides.env or []]
    return env


def run_secrets(db: Database, box: SecretBox, run: runs.Run) -> tuple[str, ...]:
    """The plain values of every secret of the run (raises InputError if one is unreadable)."""
    secrets: list[str] = []
    for var in run_env(db, run):
        secrets += envvars.resolve([var], box.decrypt)[1]
    return tuple(secrets)


class Redactors:
    """Each run's Redactor, cached by run id (the newest CACHE_SIZE runs)."""

    def __init__(self, db: Database, box: SecretBox, size: int = CACHE_SIZE) -> None:
        self._db = db
        self._box = box
        self._size = size
        self._cache: OrderedDict[str, Redactor] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: runs.Run) -> Redactor:
        """The run's Redactor; HideAll when its secrets cannot be decrypted."""
        with self._lock:
            found = self._cache.get(run.id)
            if found is not None:
                self._cache.move_to_end(run.id)
                return found
        try:
            redactor = Redactor(run_secrets(self._db, self._box, run))
        except errors.InputError:
            redactor = HideAll()
        self._put(run.id, redactor)
        return redactor

    def remember(self, run_id: str, secrets: Iterable[str]) -> None:
        """The secrets a run was planned with: exact, whatever changes in the store later."""
        self._put(run_id, Redactor(secrets))

    def _put(self, run_id: str, redactor: Redactor) -> None:
        with self._lock:
            self._cache[run_id] = redactor
            self._cache.move_to_end(run_id)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)


def decoded(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 text of byte chunks; a character split between two chunks stays whole."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text
    if rest := decoder.decode(b"", final=True):
        yield rest


def masked(chunks: Iterable[bytes], redactor: Redactor) -> Iterator[str]:
    """The text of a log's chunks with the run's secrets masked, even one split across them."""
    return redactor.mask_stream(decoded(chunks))
