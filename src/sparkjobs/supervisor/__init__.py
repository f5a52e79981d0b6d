"""The supervisor: the one owner of run state changes.

It turns run requests into queued runs, hands queued runs to backends within
the concurrency limit, turns backend observations into state transitions,
enforces timeouts, escalates stops, retries failures and cleans up.
"""

from sparkjobs.supervisor.core import Supervisor

__all__ = ["Supervisor"]
