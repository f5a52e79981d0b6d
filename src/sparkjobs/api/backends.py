"""The backends a server runs: local always, kubernetes when the settings ask for it."""

from __future__ import annotations

from collections.abc import Sequence

from sparkjobs import errors, store
from sparkjobs.api import downloads
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends import kubernetes, local
from sparkjobs.backends.base import Backend
from sparkjobs.config import Settings
from sparkjobs.store import repo

KUBERNETES = "kubernetes"


def kube_enabled(settings: Settings) -> bool:
    return settings.kube_enabled or settings.default_backend == KUBERNETES


def default_backends(settings: Settings, db: store.Database) -> dict[str, Backend]:
    """Backends by name. Making them touches no cluster: a server without one starts fine
    and says so when a kubernetes run is submitted."""
    chosen: dict[str, Backend] = {"local": local.LocalBackend(settings)}
    if kube_enabled(settings):
        # Without a public URL pods cannot reach us: large files then fail the submit
        # with a message that names SPARKJOBS_PUBLIC_URL.
        issuer = downloads.TokenIssuer(settings, db) if settings.public_url else None
        chosen[KUBERNETES] = kubernetes.KubernetesBackend(
            settings, issuer=issuer, refs_for=BindingRefs(db)
        )
    return chosen


def job_refs(s: store.Session, spec_bindings: Sequence[str]) -> list[km.KubeEnvRef]:
    """The Kubernetes objects the job's bindings point at (bindings since deleted: none)."""
    refs: list[km.KubeEnvRef] = []
    for name in spec_bindings:
        try:
            refs += km.binding_refs(repo.get_binding(s, name))
        except errors.BindingNotFound:
            continue  # the planner has already failed such a run with a clear message
    return refs


class BindingRefs:
    """kubernetes.KubernetesBackend.refs_for over the store: run id -> its bindings' refs."""

    def __init__(self, db: store.Database) -> None:
        self._db = db

    def __call__(self, run_id: str) -> list[km.KubeEnvRef]:
        with self._db.session() as s:
            run = repo.get_run(s, run_id)
            spec = repo.get_job_spec(s, run.job, run.job_version)
            return job_refs(s, spec.bindings)
