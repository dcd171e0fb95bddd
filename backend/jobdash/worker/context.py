"""What a job handler sees while it runs: its job, progress, log, and stop signals.

This is the public API of job-type plugins (``from jobdash import JobContext``). A
handler is ``fn(ctx: JobContext) -> dict`` returning the job's summary (a JSON object,
stored as ``summary_json``). It reads its job from :attr:`JobContext.id`,
:attr:`~JobContext.type`, :attr:`~JobContext.target`, :attr:`~JobContext.params` and
:attr:`~JobContext.priority`; reports progress with :meth:`JobContext.progress`
(throttled: cheap to call per item); logs with :meth:`JobContext.log`; may set
:attr:`JobContext.output_path`. To fail with a clear message it raises
:class:`JobFailed` (any other exception fails the job too, with its traceback in the
job log). :meth:`~JobContext.progress`, :meth:`~JobContext.check` and
:meth:`~JobContext.sleep` raise :class:`JobCancelled` when the operator cancelled the
job and :class:`WorkerStopping` when the worker is shutting down; handlers let both
propagate (clean up in ``finally``). Heartbeats are automatic.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from jobdash.store.interface import JobLogWriter, StoreUnavailable
from jobdash.worker.throttle import Pacer, Throttle

PROGRESS_INTERVAL_S = 0.5
# After a progress write the store could not take (it waited out the busy timeout), the
# next one waits this long: progress is advisory, and a write per item, each waiting for
# a locked store, would slow the work itself to a crawl.
PROGRESS_RETRY_S = 10.0
# How often sleep() looks for a cancellation (the heartbeat thread notices it).
STOP_POLL_S = 0.1
UNIT_PATTERN = re.compile(r"[a-z][a-z_]{0,19}")


class JobFailed(Exception):
    """The job cannot complete; the message is shown to the operator as ``error_message``."""


class JobCancelled(Exception):
    """The operator cancelled the job while it ran."""


class WorkerStopping(Exception):
    """The worker is shutting down; the job goes back to the queue."""


class JobContext:
    """The running job's handle on its fields, progress, logging and cancellation."""

    def __init__(
        self,
        store: Any,
        job: dict[str, Any],
        log: JobLogWriter,
        stopping: threading.Event,
        *,
        progress_interval: float = PROGRESS_INTERVAL_S,
        max_items_per_second: float = 0,
        clock: Callable[[], float] = time.monotonic,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self._worker_id = worker_id
        self.job = job
        self._log = log
        self._stopping = stopping
        self._cancelled = threading.Event()
        self._throttle = Throttle(progress_interval)
        self._pacer = Pacer(max_items_per_second)
        self._clock = clock
        self.progress_writes = 0
        self._unwritten: tuple[int, int, str] | None = None
        self._retry_at = -math.inf
        #: Set by a handler that produced a file: recorded as the job's ``output_path``.
        self.output_path: str | None = None

    @property
    def id(self) -> str:
        """The job's id (a UUID)."""
        return str(self.job["id"])

    @property
    def type(self) -> str:
        """The job's type, the name its handler is registered under."""
        return str(self.job["job_type"])

    @property
    def target(self) -> str:
        """What the job works on: the submitted path (``file_path`` in the store)."""
        return str(self.job["file_path"])

    @property
    def params(self) -> dict[str, Any]:
        """The job's parameters (a JSON object; empty when none were given)."""
        text = self.job.get("params_json")
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            value = {}
        return value if isinstance(value, dict) else {}

    @property
    def priority(self) -> int:
        """The job's priority: 0 runs first, 1000 last."""
        return int(self.job.get("priority") or 0)

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
        """Report ``processed`` of ``total`` ``unit`` (files, bytes, seconds, items, ...);
        written at most every progress interval.

        ``force=True`` writes now (use it for the first and the last report).
        """
        if not (isinstance(unit, str) and UNIT_PATTERN.fullmatch(unit)):
            raise ValueError(
                f"progress unit must be a short lower-case word like files, bytes or seconds; got {unit!r}"
            )
        self.check()
        self._unwritten = (processed, total, unit)
        now = self._clock()
        if not force and (now < self._retry_at or not self._throttle.ready(now)):
            return
        if not self._write_progress():
            self.mark_cancelled()
            raise JobCancelled()

    def flush_progress(self) -> None:
        """Write the last progress report if the throttle held it back, so a job that ends
        shows where it got to (the worker calls this; handlers need not)."""
        if self._unwritten is not None:
            self._write_progress()

    def _write_progress(self) -> bool:
        """Write the last report; return False if the job is no longer running."""
        assert self._unwritten is not None
        try:
            still_running = self.store.progress(self.id, *self._unwritten, worker_id=self._worker_id)
        except StoreUnavailable as error:
            # Progress is advisory: a busy store delays it, a later report catches up.
            self._retry_at = self._clock() + PROGRESS_RETRY_S
            self.log(f"progress not recorded ({error}); will retry in {PROGRESS_RETRY_S:g} s", level="WARN")
            return True
        self._unwritten = None
        self.progress_writes += 1
        return bool(still_running)

    def pace(self) -> None:
        """Count one item of work and wait as needed to stay under the worker's rate limit.

        Operators cap a scan's rate so that it does not saturate network storage; the
        wait ends early when the job must stop.
        """
        delay = self._pacer.delay(self._clock())
        if delay > 0:
            self._stopping.wait(delay)
        self.check()

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``, raising at once if the job must stop (cancelled or the
        worker is stopping)."""
        deadline = self._clock() + seconds
        while True:
            self.check()
            left = deadline - self._clock()
            if left <= 0:
                return
            self._stopping.wait(min(left, STOP_POLL_S))

    def log(self, message: str, level: str = "INFO") -> None:
        """Append one line to the job's log (control characters are escaped)."""
        self._log.write(message, level=level)
