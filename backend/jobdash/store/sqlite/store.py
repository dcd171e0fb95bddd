"""The SQLite job store: :class:`jobdash.store.interface.JobStore` on one local file.

One host: the database ``jobdash.db`` (WAL) and the job logs under ``logs/`` share a
data directory. Connections belong to :class:`~jobdash.store.sqlite.database.Database`;
the SQL lives in :mod:`jobdash.store.sqlite.jobs_sql`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobdash.model.ids import is_uuid
from jobdash.model.list_query import SINCE_WINDOWS, ListQuery
from jobdash.model.staleness import worker_lost_line
from jobdash.model.states import PRIORITY_DEFAULT
from jobdash.store.interface import PRUNE_BATCH_DEFAULT, IdempotencyConflict, Row
from jobdash.store.log_reader import LogSlice, file_mark, log_has_content, read_log
from jobdash.store.log_writer import JobLog
from jobdash.store.new_job import GONE_WORKERS_KEEP_S, IDEMPOTENCY_KEEP_S, new_job, prune_cutoff
from jobdash.store.snapshot_reads import SnapshotReads
from jobdash.store.sqlite import jobs_sql, workers_sql
from jobdash.store.sqlite.database import Database
from jobdash.util.timestamps import now_iso, to_iso

log = logging.getLogger("jobdash.store")

DB_FILENAME = "jobdash.db"
LOGS_DIRNAME = "logs"


class SqliteStore(SnapshotReads):
    """Jobs kept in ``<data_dir>/jobdash.db`` with logs in ``<data_dir>/logs/``.

    >>> store = SqliteStore(tmp_path)            # doctest: +SKIP
    >>> job = store.create("/media", "scan")  # doctest: +SKIP
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        if not self.data_dir.is_dir():
            raise FileNotFoundError(f"data directory {self.data_dir} does not exist")
        self.logs_dir = self.data_dir / LOGS_DIRNAME
        self.logs_dir.mkdir(exist_ok=True)
        self.db = Database(self.data_dir / DB_FILENAME)
        self.read_only = False
        self.read_only_reason = ""
        self.local_targets = True

    def close(self) -> None:
        """Close the store's connections. Idempotent."""
        self.db.close()

    # reads

    def list_snapshot(self, query: ListQuery, *, now: datetime | None = None) -> tuple[int, list[Row], int]:
        """Like :meth:`list`, with the data version of the same snapshot first."""
        cutoff = None
        if query.since is not None:
            moment = now or datetime.now(UTC)
            cutoff = to_iso(moment - timedelta(seconds=SINCE_WINDOWS[query.since]))
        return self.db.read(lambda conn: (jobs_sql.data_version(conn), *jobs_sql.list_jobs(conn, query, cutoff)))

    def get_snapshot(self, job_id: str) -> tuple[int, Row | None]:
        """Like :meth:`get`, with the data version of the same snapshot first."""
        if not is_uuid(job_id):
            return self.version(), None
        return self.db.read(lambda conn: (jobs_sql.data_version(conn), jobs_sql.get_job(conn, job_id)))

    def version(self) -> int:
        """Return the change counter that every write to the jobs table moves."""
        return self.db.read(jobs_sql.data_version)

    def version_now(self) -> int:
        """Like :meth:`version`, but never waits: StoreUnavailable at once if locked.

        Cheap enough (one single-row read) to call on the event loop for every request.
        """
        return self.db.read_immediate(jobs_sql.data_version)

    def log_path(self, job: Row) -> Path:
        """Given a job row, return its log file's path.

        ``log_path`` may be absolute or relative to the data directory; when empty the
        log is ``<data dir>/logs/<id>.log``. The id is checked to be a UUID first so
        that no stored value can point the default path outside the logs directory.
        """
        stored = job.get("log_path")
        if stored:
            path = Path(stored)
            return path if path.is_absolute() else self.data_dir / path
        if not is_uuid(job["id"]):
            raise ValueError(f"job id {job['id']!r} is not a UUID; refusing to build a log path")
        return self.logs_dir / f"{job['id']}.log"

    def read_log(self, job: Row, offset: int | None, lines: int) -> LogSlice:
        """Lines of the job's log file from line ``offset`` (None: the tail)."""
        return read_log(self.log_path(job), offset, lines)

    def has_log(self, job: Row) -> bool:
        """True if the job's log file has content."""
        return log_has_content(self.log_path(job))

    def log_mark(self, job: Row) -> Hashable:
        """The log file's size and modification time (None while it has none)."""
        return file_mark(self.log_path(job))

    def open_log(self, job: Row) -> JobLog:
        """Return a writer that appends lines to the job's log file."""
        return JobLog(self.log_path(job))

    # writes

    def create(
        self,
        file_path: str,
        job_type: str,
        *,
        priority: int = PRIORITY_DEFAULT,
        policy_name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Row:
        """Queue a new job and return its row."""
        return self.db.write(jobs_sql.insert_job, new_job(file_path, job_type, priority, policy_name, params))

    def submit(
        self,
        file_path: str,
        job_type: str,
        *,
        priority: int = PRIORITY_DEFAULT,
        params: dict[str, Any] | None = None,
        idempotency_key: str,
        request_hash: str,
    ) -> tuple[Row, bool]:
        """Queue a job unless ``idempotency_key`` already queued one in the last
        :data:`IDEMPOTENCY_KEEP_S` seconds; return (the job, whether it is new).

        The key's first request must match this one (``request_hash``), else
        :class:`IdempotencyConflict`.
        """
        row = new_job(file_path, job_type, priority, None, params)

        def submit_once(conn: Any) -> tuple[Row, bool]:
            now = now_iso()
            cutoff = to_iso(datetime.now(UTC) - timedelta(seconds=IDEMPOTENCY_KEEP_S))
            seen = jobs_sql.find_idempotent(conn, idempotency_key, cutoff)
            if seen is not None:
                if seen["request_hash"] != request_hash:
                    raise IdempotencyConflict(
                        "this Idempotency-Key was already used for a different request; use a new key"
                    )
                first = jobs_sql.get_job(conn, seen["job_id"])
                if first is not None:
                    return first, False
            job = jobs_sql.insert_job(conn, row)
            jobs_sql.remember_idempotent(conn, idempotency_key, request_hash, job["id"], now, cutoff)
            return job, True

        return self.db.write(submit_once)

    def job_types(self) -> list[str]:
        """Return the job types of the jobs in the store, sorted."""
        return self.db.read(jobs_sql.job_types_present)

    # workers

    def register_worker(self, host: str, pid: int, types: tuple[str, ...], requeue: tuple[str, ...] = ()) -> str:
        """Register a starting worker that runs ``types`` (``requeue``: those of them to
        queue again, rather than fail, if this worker dies); return its id. Workers gone
        for over an hour are forgotten meanwhile."""
        now = datetime.now(UTC)
        row = {
            "id": str(uuid.uuid4()),
            "host": host,
            "pid": pid,
            "types": types,
            "requeue": requeue,
            "started_at": to_iso(now),
            "heartbeat_at": to_iso(now),
        }
        prune_before = to_iso(now - timedelta(seconds=GONE_WORKERS_KEEP_S))
        self.db.write(workers_sql.register_worker, row, prune_before)
        return row["id"]

    def worker_heartbeat(self, worker_id: str, current_job_id: str | None) -> bool:
        """Refresh a worker's heartbeat and what it runs; False if it is not registered."""
        return self.db.write(workers_sql.beat_worker, worker_id, now_iso(), current_job_id)

    def worker_stopped(self, worker_id: str) -> None:
        """Mark a worker stopped."""
        self.db.write(workers_sql.stop_worker, worker_id, now_iso())

    def workers(self) -> list[Row]:
        """Return every registered worker (see :mod:`jobdash.store.sqlite.workers_sql`)."""
        return self.db.read(workers_sql.list_workers)

    def on_job_queued(self, callback: Callable[[], None]) -> None:
        """No notifications on one SQLite file: idle workers poll (every second)."""

    def claim(self, worker_pid: int, job_types: tuple[str, ...], *, worker_id: str | None = None) -> Row | None:
        """Atomically mark the next queued job of ``job_types`` running for this worker.

        Jobs of other types stay queued for whichever worker handles them.
        """
        return self.db.write(jobs_sql.claim_next, worker_pid, worker_id, now_iso(), job_types)

    def heartbeat(self, job_id: str, *, worker_id: str | None = None) -> bool:
        """Refresh a running job's heartbeat; False if it is no longer running."""
        return self.db.write(jobs_sql.heartbeat, job_id, now_iso(), worker_id)

    def progress(
        self, job_id: str, processed: int, total: int, unit: str = "files", *, worker_id: str | None = None
    ) -> bool:
        """Record ``processed`` of ``total``; False if the job stopped running (cancelled).

        >>> store.progress(job_id, 25, 100)  # doctest: +SKIP
        True
        """
        percent = round(100.0 * processed / total, 2) if total > 0 else 0.0
        progress = {"processed": processed, "total": total, "unit": unit}
        return self.db.write(jobs_sql.record_progress, job_id, percent, progress, now_iso(), worker_id)

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        summary: dict[str, Any] | None = None,
        error_message: str | None = None,
        output_path: str | None = None,
        worker_id: str | None = None,
    ) -> bool:
        """Record a job's end: completed, failed or cancelled. False if it was not running
        (or is no longer this worker's)."""
        return self.db.write(
            lambda conn: jobs_sql.finish_job(
                conn,
                job_id,
                status,
                now_iso(),
                worker_id,
                summary=summary,
                error_message=error_message,
                output_path=output_path,
            )
        )

    def release(self, job_id: str, *, worker_id: str | None = None) -> bool:
        """Put a running job back in the queue (its worker is shutting down)."""
        return self.db.write(jobs_sql.release_job, job_id, worker_id, now_iso())

    def cancel(self, job_id: str) -> Row | None:
        """Cancel a queued or running job; return its new row, or None if not active.

        A running job's worker notices at its next progress step and stops.
        """
        if not is_uuid(job_id):
            return None
        return self.db.write(jobs_sql.cancel_job, job_id, now_iso())

    def recover_stale(self, stale_after_s: float, *, now: datetime | None = None) -> list[Row]:
        """Requeue or fail running jobs with no heartbeat for ``stale_after_s`` seconds
        (requeued when their worker declared the type safe to run again); return them.

        Each job's log says so before the transaction commits (while no other worker can
        claim): a requeued job's log tells why before any line of its next run."""
        moment = now or datetime.now(UTC)
        cutoff = to_iso(moment - timedelta(seconds=stale_after_s))

        def recover(conn: Any) -> list[Row]:
            rows = jobs_sql.recover_stale(conn, cutoff, to_iso(moment), stale_after_s)
            for row in rows:
                message, level = worker_lost_line(row, stale_after_s)
                try:
                    with self.open_log(row) as job_log:
                        job_log.write(message, level=level)
                except ValueError as error:  # a stored log_path that cannot be used
                    log.warning("job %s: recovery not logged: %s", row["id"], error)
            return rows

        return self.db.write(recover)

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """Given the start of an id (as ``jobdash jobs`` prints), return up to ``limit`` ids."""
        return self.db.read(jobs_sql.ids_with_prefix, prefix, limit)

    def prune(self, older_than_s: float, *, now: datetime | None = None, batch: int = PRUNE_BATCH_DEFAULT) -> int:
        """Delete finished jobs that ended over ``older_than_s`` seconds before ``now``, with
        their log files, ``batch`` jobs per transaction; return how many were deleted.

        Short transactions let workers and the server write between batches. Each batch
        commits before its logs are removed, so no listed job ever loses its log; a crash
        in between leaves only stray files.
        """
        moment = prune_cutoff(older_than_s, batch, now)
        if moment is None:
            return 0  # a cutoff before year 1: no job ended that long ago
        cutoff = to_iso(moment)
        deleted = 0
        while True:
            rows = self.db.write(jobs_sql.delete_finished, cutoff, batch)
            for row in rows:
                self._remove_log(row)
            deleted += len(rows)
            if len(rows) < batch:
                return deleted

    def _remove_log(self, row: Row) -> None:
        """Given a deleted job's ``id, log_path``, remove its log file and ``.gz`` sibling,
        only where they lie in the logs directory (a stored path may point anywhere)."""
        try:
            path = self.log_path(row)
        except ValueError:
            return  # no stored path and an id that is not a UUID: no log of ours
        if path.name in ("", ".", ".."):
            return
        # The folder is resolved, the name is not: a symlink in logs/ is removed itself,
        # never the file it points to.
        folder = path.parent.resolve()
        if not folder.is_relative_to(self.logs_dir.resolve()):
            return
        for name in (path.name, path.name + ".gz"):
            try:
                (folder / name).unlink(missing_ok=True)
            except OSError as error:
                log.warning("pruned job %s: could not remove its log %s: %s", row["id"], folder / name, error)
