"""AlertDispatcher: alerts go out from one background thread, so a slow or dead
target never holds up the supervisor or a run.

The queue is bounded; when it is full an alert is dropped and that is reported
as a failed result, not raised. Each result goes to `on_result(run_id, result)`,
which the supervisor uses to record a run event.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sparkjobs import alerts
from sparkjobs.notify.delivery import DeliveryResult
from sparkjobs.notify.payload import Alert, Target

log = logging.getLogger(__name__)

Deliver = Callable[[Target, dict[str, Any]], DeliveryResult]
OnResult = Callable[[str, DeliveryResult], None]


class AlertDispatcher:
    """One daemon thread delivering queued alerts in order.

    Build it with `deliver=functools.partial(notify.deliver, settings=settings)`.
    `submit` never blocks; `close` lets queued alerts go out for up to `timeout` s.
    """

    def __init__(self, deliver: Deliver, on_result: OnResult, *, max_queued: int = 1000) -> None:
        self._deliver = deliver
        self._on_result = on_result
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=max_queued)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._work, name="sparkjobs-alerts", daemon=True)
        self._thread.start()

    def submit(self, alert: Alert) -> bool:
        """Queue `alert`; False (and a failed result per target) if closed or full."""
        if self._closed.is_set():
            self._drop(alert, "the alert dispatcher is closed")
            return False
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self._drop(alert, f"the alert queue is full ({self._queue.maxsize} waiting)")
            return False
        return True

    def close(self, timeout: float) -> bool:
        """Stop taking alerts, deliver the queued ones; True if all went out in time."""
        deadline = time.monotonic() + timeout
        self._closed.set()
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return False
        self._thread.join(max(deadline - time.monotonic(), 0.0))
        return not self._thread.is_alive()

    def _work(self) -> None:
        while (alert := self._queue.get()) is not None:
            for target in alert.targets:
                self._report(alert.run_id, self._deliver(target, alert.payload))

    def _drop(self, alert: Alert, why: str) -> None:
        for target in alert.targets:
            name = alerts.describe_target(target)
            self._report(alert.run_id, DeliveryResult(target=name, ok=False, attempts=0, error=why))

    def _report(self, run_id: str, result: DeliveryResult) -> None:
        try:
            self._on_result(run_id, result)
        except Exception:  # recording failed; the next alerts must still go out
            log.exception("recording the alert result for run %s failed", run_id)
