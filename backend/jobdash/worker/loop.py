"""The worker: claims queued jobs one at a time and runs their handlers.

Claim is atomic (lowest priority number, then oldest). While a job runs, a heartbeat
thread refreshes ``worker_heartbeat`` and notices a cancellation; the handler reports
throttled progress through its :class:`JobContext`. Every outcome is recorded:
completed (with the summary), failed (with the error), cancelled, or released back to
the queue when the worker is asked to stop. Running jobs whose heartbeat is older than
``stale_after`` (their worker died) are failed, at start and periodically.

The worker registers itself in the store's workers registry (host, pid, job types),
refreshes its row every heartbeat with the job it runs, and marks it stopped at the end.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from jobdash.model.staleness import STALE_AFTER_DEFAULT_S, recovery_interval
from jobdash.store.interface import JobLogWriter, JobStore, StoreUnavailable
from jobdash.store.recovery import recover_and_log
from jobdash.worker.context import JobCancelled, JobContext, JobFailed, WorkerStopping
from jobdash.worker.registry import Handler, declaration, load_handlers

log = logging.getLogger("jobdash.worker")

HEARTBEAT_INTERVAL_S = 5.0
IDLE_POLL_S = 1.0
STORE_RETRY_S = 2.0
STOP_GRACE_S = 10.0


class Worker:
    """Runs jobs from ``store`` until :meth:`stop` is called (or its parent process dies)."""

    def __init__(
        self,
        store: JobStore,
        *,
        stale_after: float = STALE_AFTER_DEFAULT_S,
        handlers: Mapping[str, Handler] | None = None,
        heartbeat_interval: float = HEARTBEAT_INTERVAL_S,
        idle_poll: float = IDLE_POLL_S,
        parent_pid: int | None = None,
        max_files_per_second: float = 0,
        host: str | None = None,
    ) -> None:
        assert stale_after > heartbeat_interval, "a live worker must never look stale"
        self.store = store
        self.stale_after = stale_after
        self.handlers = dict(load_handlers() if handlers is None else handlers)
        self.job_types = tuple(self.handlers)
        assert self.job_types, "a worker runs at least one job type"
        # The types whose jobs may simply run again if this worker dies mid-job.
        self.requeue_types = tuple(
            name for name, handler in self.handlers.items() if declaration(handler).on_worker_lost == "requeue"
        )
        self.host = host or socket.gethostname()
        self.worker_id: str | None = None
        self._current_job_id: str | None = None
        self._next_beat = 0.0
        self.heartbeat_interval = heartbeat_interval
        self.idle_poll = idle_poll
        self.parent_pid = parent_pid
        self.max_files_per_second = max_files_per_second
        self.pid = os.getpid()
        self.stopping = threading.Event()
        # Set when a job may be waiting: a notification from the store, or stop().
        self._wake = threading.Event()
        self._next_recovery = 0.0

    def stop(self) -> None:
        """Ask the worker to stop; safe from a signal handler. The current job is released."""
        self.stopping.set()
        self._wake.set()

    def _orphaned(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self) -> None:
        """Register, then claim and run jobs until stopped; unregister at the end."""
        log.info("worker %d started (job types: %s) on %s", self.pid, ", ".join(self.job_types), self.host)
        self.store.on_job_queued(self._wake.set)
        try:
            self._loop()
        finally:
            if self.worker_id is not None:
                try:
                    self.store.worker_stopped(self.worker_id)
                except StoreUnavailable as error:
                    log.warning("worker %d: not marked stopped (%s); it will look gone once stale", self.pid, error)
        log.info("worker %d stopped", self.pid)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if self._orphaned():
                log.warning("worker %d: parent process is gone; stopping", self.pid)
                break
            try:
                self._register_if_new()
                self.beat_if_due()
                self.recover_if_due()
                ran = self.run_once()
            except StoreUnavailable as error:
                log.warning("worker %d: %s; retrying in %.0f s", self.pid, error, STORE_RETRY_S)
                self.stopping.wait(STORE_RETRY_S)
                continue
            if not ran:
                # Poll every idle_poll seconds, sooner when the store says a job was queued.
                self._wake.wait(self.idle_poll)
                self._wake.clear()

    def _register_if_new(self) -> None:
        if self.worker_id is None:
            self.worker_id = self.store.register_worker(self.host, self.pid, self.job_types, self.requeue_types)

    def beat_if_due(self, now: float | None = None) -> None:
        """Refresh this worker's row in the registry if the heartbeat interval has passed."""
        now = time.monotonic() if now is None else now
        if self.worker_id is None or now < self._next_beat:
            return
        self._next_beat = now + self.heartbeat_interval
        if not self.store.worker_heartbeat(self.worker_id, self._current_job_id):
            # Forgotten (pruned as gone after a long pause): register again.
            self.worker_id = self.store.register_worker(self.host, self.pid, self.job_types, self.requeue_types)

    def recover_if_due(self, now: float | None = None) -> list[dict[str, Any]]:
        """Requeue or fail abandoned running jobs if the recovery interval has passed;
        return them."""
        now = time.monotonic() if now is None else now
        if now < self._next_recovery:
            return []
        self._next_recovery = now + recovery_interval(self.stale_after)
        return recover_and_log(self.store, self.stale_after)

    def run_once(self) -> bool:
        """Claim one job and run it to its end; return False if no job was waiting."""
        self._register_if_new()
        job = self.store.claim(self.pid, self.job_types, worker_id=self.worker_id)
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: dict[str, Any]) -> None:
        """Run a claimed job's handler with a heartbeat and record its outcome."""
        job_log = self.store.open_log(job)
        ctx = JobContext(
            self.store,
            job,
            job_log,
            self.stopping,
            max_items_per_second=self.max_files_per_second,
            worker_id=self.worker_id,
        )
        beat_done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(ctx, job_log, beat_done), name="heartbeat", daemon=True)
        job_log.write(
            f"job {job['id']} ({job['job_type']} {job['file_path']}) started by worker {self.pid} on {self.host}"
        )
        # The claim itself showed the job in this worker's registry row, and the job's
        # end clears it: no registry write of its own per job.
        self._current_job_id = job["id"]
        beat.start()
        try:
            self._record(ctx, job_log, self.handlers[job["job_type"]])
        finally:
            beat_done.set()
            beat.join()
            job_log.close()
            self._current_job_id = None

    def _record(self, ctx: JobContext, job_log: JobLogWriter, handler: Handler) -> None:
        job_id, mine = ctx.id, self.worker_id
        started = time.monotonic()

        def persist(action: Callable[[], bool]) -> bool:
            # The log's last lines are readable before the end is recorded: a page's
            # last log fetch after it sees the end gets them all.
            job_log.flush()
            return self._persist(action)

        try:
            try:
                summary = handler(ctx)
            finally:
                self._flush_progress(ctx)
        except WorkerStopping:
            job_log.write("worker is stopping; job returned to the queue", level="WARN")
            persist(lambda: self.store.release(job_id, worker_id=mine))
            return
        except JobCancelled:
            job_log.write("job cancelled by the operator", level="WARN")
            persist(lambda: self.store.finish(job_id, "cancelled", worker_id=mine))
            return
        except JobFailed as error:
            message = str(error) or "the job failed"
            job_log.write(message, level="ERROR")
            persist(lambda: self.store.finish(job_id, "failed", error_message=message, worker_id=mine))
            return
        except Exception as error:  # a handler's exception fails its job, never the worker
            message = f"{type(error).__name__}: {error} (in the {ctx.type} handler; traceback in the job log)"
            job_log.write(message, level="ERROR")
            for line in traceback.format_exc().splitlines():
                job_log.write(line, level="ERROR")
            persist(lambda: self.store.finish(job_id, "failed", error_message=message, worker_id=mine))
            return
        problem = summary_problem(summary)
        if problem is not None:
            message = f"the {ctx.type} handler returned {problem}; a handler returns a JSON object (its summary)"
            job_log.write(message, level="ERROR")
            persist(lambda: self.store.finish(job_id, "failed", error_message=message, worker_id=mine))
            return
        elapsed = time.monotonic() - started
        job_log.write(f"job completed in {elapsed:.3f} s")
        done = summary or {}
        output = ctx.output_path
        if not persist(
            lambda: self.store.finish(job_id, "completed", summary=done, output_path=output, worker_id=mine)
        ):
            # Cancelled while finishing: keep the work's summary. (A job that is no longer
            # this worker's — found stale and failed or requeued — stays as it is.)
            persist(lambda: self.store.finish(job_id, "cancelled", summary=done, worker_id=mine))

    def _flush_progress(self, ctx: JobContext) -> None:
        """Record the handler's last progress report, which the throttle may have held."""
        if self.stopping.is_set():
            return  # a released job starts again from nothing
        try:
            ctx.flush_progress()
        except StoreUnavailable as error:
            log.warning("worker %d: last progress not recorded: %s", self.pid, error)

    def _persist(self, write: Callable[[], bool]) -> bool:
        """Run a store write, retrying while the store is unavailable, so no outcome is lost.

        A stopping worker gives up after ``STOP_GRACE_S``; its job then still ends as
        failed through stale-heartbeat recovery rather than staying ``running``.
        """
        give_up_at: float | None = None
        while True:
            try:
                return write()
            except StoreUnavailable as error:
                log.warning("worker %d: %s; retrying", self.pid, error)
                if self.stopping.is_set():
                    give_up_at = give_up_at or time.monotonic() + STOP_GRACE_S
                    if time.monotonic() >= give_up_at:
                        log.error("worker %d: outcome not recorded before stopping", self.pid)
                        return False
                time.sleep(STORE_RETRY_S)

    def _heartbeat(self, ctx: JobContext, job_log: JobLogWriter, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_interval):
            job_log.flush()  # lines a buffered log holds become readable at least this often
            try:
                if not self.store.heartbeat(ctx.id, worker_id=self.worker_id):
                    ctx.mark_cancelled()
                self.beat_if_due()
            except StoreUnavailable as error:
                log.warning("worker %d: heartbeat not recorded: %s", self.pid, error)


def summary_problem(summary: Any) -> str | None:
    """Given what a handler returned, return what is wrong with it as a summary, or None.

    >>> summary_problem({"files": 3}), summary_problem(None), summary_problem([1])
    (None, None, 'a list')
    >>> summary_problem({"when": object()})
    'an object that is not JSON'
    """
    if summary is None:
        return None
    if not isinstance(summary, dict):
        return f"a {type(summary).__name__}"
    try:
        json.dumps(summary, allow_nan=False)
    except (TypeError, ValueError):
        return "an object that is not JSON"
    return None
