"""What a job handler sees while it runs: its job, progress, log, and stop signals.

A handler is ``fn(ctx: JobContext) -> dict`` returning the job's summary (stored as
``summary_json``). It reports progress with :meth:`JobContext.progress` (throttled:
cheap to call per item) and logs with :meth:`JobContext.log`. To fail with a clear
message it raises :class:`JobFailed`. :meth:`JobContext.progress` and
:meth:`JobContext.check` raise :class:`JobCancelled` when the operator cancelled the
job and :class:`WorkerStopping` when the worker is shutting down; handlers let both
propagate (the worker records the outcome).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from jobdash.store.interface import StoreUnavailable
from jobdash.store.log_writer import JobLog
from jobdash.worker.throttle import Pacer, Throttle

PROGRESS_INTERVAL_S = 0.5


class JobFailed(Exception):
    """The job cannot complete; the message is shown to the operator as ``error_message``."""


class JobCancelled(Exception):
    """The operator cancelled the job while it ran."""


class WorkerStopping(Exception):
    """The worker is shutting down; the job goes back to the queue."""


class JobContext:
    """The running job's handle on progress, logging and cancellation."""

    def __init__(
        self,
        store: Any,
        job: dict[str, Any],
        log: JobLog,
        stopping: threading.Event,
        *,
        progress_interval: float = PROGRESS_INTERVAL_S,
        max_items_per_second: float = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.job = job
        self._log = log
        self._stopping = stopping
        self._cancelled = threading.Event()
        self._throttle = Throttle(progress_interval)
        self._pacer = Pacer(max_items_per_second)
        self._clock = clock
        self.progress_writes = 0

    @property
    def job_id(self) -> str:
        """The running job's id."""
        return str(self.job["id"])

    def mark_cancelled(self) -> None:
        """Note that the job was cancelled (the heartbeat found it no longer running)."""
        self._cancelled.set()

    def check(self) -> None:
        """Raise WorkerStopping or JobCancelled if the job must stop now."""
        if self._stopping.is_set():
            raise WorkerStopping()
        if self._cancelled.is_set():
            raise JobCancelled()

    def progress(self, processed: int, total: int, unit: str = "files", *, force: bool = False) -> None:
        """Report ``processed`` of ``total``; written at most every progress interval.

        ``force=True`` writes now (use it for the first and the last report).
        """
        self.check()
        if not (self._throttle.ready(self._clock()) or force):
            return
        try:
            still_running = self.store.progress(self.job_id, processed, total, unit)
        except StoreUnavailable as error:
            # Progress is advisory: a busy store delays it, the next report catches up.
            self.log(f"progress not recorded ({error}); will retry", level="WARN")
            return
        self.progress_writes += 1
        if not still_running:
            self.mark_cancelled()
            raise JobCancelled()

    def pace(self) -> None:
        """Count one item of work and wait as needed to stay under the worker's rate limit.

        Operators cap a scan's rate so that it does not saturate network storage; the
        wait ends early when the job must stop.
        """
        delay = self._pacer.delay(self._clock())
        if delay > 0:
            self._stopping.wait(delay)
        self.check()

    def log(self, message: str, *, level: str = "INFO") -> None:
        """Append one line to the job's log (control characters are escaped)."""
        self._log.write(message, level=level)
