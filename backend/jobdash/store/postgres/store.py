"""The PostgreSQL job store: :class:`jobdash.store.interface.JobStore` for many hosts.

API replicas, workers and the CLI on any number of machines share one database: jobs,
the workers registry and the job logs all live in it (nothing on a shared disk). Claims
are one ``FOR UPDATE SKIP LOCKED`` statement; a worker's writes count only while the job
is still its own; idle workers wake on ``LISTEN/NOTIFY``; the change counter and the
counts per status are kept by triggers, so an unchanged poll costs no query at all on a
replica that listens (see :mod:`jobdash.store.postgres.watcher`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from psycopg.rows import dict_row

from jobdash.model.ids import is_uuid
from jobdash.model.list_query import SINCE_WINDOWS, ListQuery
from jobdash.model.staleness import worker_lost_line
from jobdash.model.states import LOG_LINES_CAP_DEFAULT, PRIORITY_DEFAULT
from jobdash.store.interface import PRUNE_BATCH_DEFAULT, IdempotencyConflict, Row
from jobdash.store.log_reader import LogSlice
from jobdash.store.log_writer import format_line
from jobdash.store.new_job import GONE_WORKERS_KEEP_S, IDEMPOTENCY_KEEP_S, new_job, prune_cutoff
from jobdash.store.postgres import jobs_sql, logs_sql, workers_sql
from jobdash.store.postgres.database import Database
from jobdash.store.postgres.log_writer import DatabaseJobLog
from jobdash.store.postgres.migrations import migrate
from jobdash.store.postgres.watcher import ChangeWatcher
from jobdash.store.snapshot_reads import SnapshotReads

T = TypeVar("T")


class PostgresStore(SnapshotReads):
    """Jobs, workers and job logs in one PostgreSQL database.

    >>> store = PostgresStore("postgresql://jobdash@db/jobdash")   # doctest: +SKIP
    >>> job = store.create("/media", "scan")                        # doctest: +SKIP

    ``data_dir`` is only where this host keeps local things (nothing of the store's);
    ``log_lines_cap`` bounds each job's log.
    """

    def __init__(
        self,
        url: str,
        *,
        data_dir: Path | None = None,
        log_lines_cap: int = LOG_LINES_CAP_DEFAULT,
        pool_size: int | None = None,
    ) -> None:
        assert log_lines_cap >= 1, log_lines_cap
        kwargs = {} if pool_size is None else {"max_size": pool_size}
        self.db = Database(url, migrate=migrate, **kwargs)
        self.url = self.db.url
        self.data_dir = Path(data_dir) if data_dir is not None else Path.cwd()
        self.read_only = False
        self.read_only_reason = ""
        self.local_targets = False
        self.log_lines_cap = log_lines_cap
        self._marker = logs_sql.cap_marker(log_lines_cap)
        self._watcher: ChangeWatcher | None = None
        self._watcher_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresStore({self.url.shown!r})"

    def __str__(self) -> str:
        return self.url.shown

    def close(self) -> None:
        """Stop listening and close every connection. Idempotent."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        self.db.close()

    def _watch(self) -> ChangeWatcher | None:
        """Return the process's change watcher, started on first use (None behind a
        transaction-mode pooler, where LISTEN cannot work)."""
        if not self.url.session_features:
            return None
        with self._watcher_lock:
            if self._watcher is None:
                self._watcher = ChangeWatcher(
                    lambda: self.db.connect(autocommit=True, row_factory=dict_row), jobs_sql.data_version
                )
                self._watcher.start()
            return self._watcher

    def _write(self, fn: Callable[..., T], *args: Any, single: bool = False) -> T:
        """Run a write; then make this process's readers look at the data again, so a
        client sees its own change on its very next request. ``single``: ``fn`` runs one
        statement (see :meth:`Database.write_one`)."""
        try:
            return (self.db.write_one if single else self.db.write)(fn, *args)
        finally:
            watcher = self._watcher
            if watcher is not None:
                watcher.forget()

    # reads

    def list_snapshot(self, query: ListQuery, *, now: datetime | None = None) -> tuple[int, list[Row], int]:
        """Like :meth:`list`, with the data version of the same snapshot first."""
        cutoff = None
        if query.since is not None:
            cutoff = (now or datetime.now(UTC)) - timedelta(seconds=SINCE_WINDOWS[query.since])
        return self.db.read(lambda conn: (jobs_sql.data_version(conn), *jobs_sql.list_jobs(conn, query, cutoff)))

    def get_snapshot(self, job_id: str) -> tuple[int, Row | None]:
        """Like :meth:`get`, with the data version of the same snapshot first."""
        if not is_uuid(job_id):
            return self.version(), None
        return self.db.read(lambda conn: (jobs_sql.data_version(conn), jobs_sql.get_job(conn, job_id)))

    def version(self) -> int:
        """Return the change counter that every visible change to the jobs moves."""
        return self.db.read(jobs_sql.data_version)

    def version_now(self) -> int:
        """The data version as the change watcher last heard it: a memory read.

        StoreUnavailable while the watcher is (re)connecting: the caller then reads the
        database itself, so an answer is never kept on a guess.
        """
        watcher = self._watch()
        if watcher is None:
            return self.version()
        return watcher.version

    def log_path(self, job: Row) -> Path:
        """Job logs live in the database here: there is no file (ValueError)."""
        raise ValueError("job logs live in the database on the PostgreSQL store; there is no log file")

    def read_log(self, job: Row, offset: int | None, lines: int) -> LogSlice:
        """Lines of the job's log from line ``offset`` (None: the tail)."""
        found, total, first = self.db.read(logs_sql.read_lines, job["id"], offset, lines)
        return LogSlice(found, total, first)

    def has_log(self, job: Row) -> bool:
        """True if the job's log has at least one line."""
        return self.db.read(logs_sql.log_size, job["id"]) > 0

    def log_mark(self, job: Row) -> Hashable:
        """How many lines the job's log has (one read of its head row)."""
        return self.db.read(logs_sql.log_size, job["id"])

    def open_log(self, job: Row) -> DatabaseJobLog:
        """Return a writer that appends lines to the job's log in the database."""
        job_id = job["id"]
        return DatabaseJobLog(
            lambda lines: self.db.write(logs_sql.append_lines, job_id, lines, self.log_lines_cap, self._marker)
        )

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """Given the start of an id (as ``jobdash jobs`` prints), return up to ``limit`` ids."""
        return self.db.read(jobs_sql.ids_with_prefix, prefix, limit)

    def job_types(self) -> list[str]:
        """Return the job types of the jobs in the store, sorted."""
        return self.db.read(jobs_sql.job_types_present)

    def workers(self) -> list[Row]:
        """Return every registered worker (see :mod:`jobdash.store.postgres.workers_sql`)."""
        return self.db.read(workers_sql.list_workers)

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
        row = _database_row(new_job(file_path, job_type, priority, policy_name, params))
        return self._write(jobs_sql.insert_job, row, single=True)

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
        """Queue a job unless ``idempotency_key`` already queued one in the last day;
        return (the job, whether it is new). IdempotencyConflict when the key's first
        request differs from this one."""
        row = _database_row(new_job(file_path, job_type, priority, None, params))

        def submit_once(conn: Any) -> tuple[Row, bool]:
            jobs_sql.lock_idempotency_key(conn, idempotency_key)
            seen = jobs_sql.find_idempotent(conn, idempotency_key, IDEMPOTENCY_KEEP_S)
            if seen is not None:
                if seen["request_hash"] != request_hash:
                    raise IdempotencyConflict(
                        "this Idempotency-Key was already used for a different request; use a new key"
                    )
                first = jobs_sql.get_job(conn, seen["job_id"])
                if first is not None:
                    return first, False
            job = jobs_sql.insert_job(conn, row)
            jobs_sql.remember_idempotent(conn, idempotency_key, request_hash, job["id"], IDEMPOTENCY_KEEP_S)
            return job, True

        return self._write(submit_once)

    # workers

    def register_worker(self, host: str, pid: int, types: tuple[str, ...], requeue: tuple[str, ...] = ()) -> str:
        """Register a starting worker that runs ``types`` (``requeue``: those of them to
        queue again, rather than fail, if this worker dies); return its id."""
        worker_id = str(uuid.uuid4())
        self.db.write(workers_sql.register_worker, worker_id, host, pid, types, requeue, GONE_WORKERS_KEEP_S)
        return worker_id

    def worker_heartbeat(self, worker_id: str, current_job_id: str | None) -> bool:
        """Refresh a worker's heartbeat and what it runs; False if it is not registered."""
        return self.db.write_one(workers_sql.beat_worker, worker_id, current_job_id)

    def worker_stopped(self, worker_id: str) -> None:
        """Mark a worker stopped."""
        self.db.write_one(workers_sql.stop_worker, worker_id)

    def on_job_queued(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` soon after any host queues a job (LISTEN/NOTIFY); without a
        listening connection, never (workers then poll)."""
        watcher = self._watch()
        if watcher is not None:
            watcher.on_queued(callback)

    def claim(self, worker_pid: int, job_types: tuple[str, ...], *, worker_id: str | None = None) -> Row | None:
        """Atomically mark the next queued job of ``job_types`` running for this worker."""
        return self._write(jobs_sql.claim_next, worker_pid, worker_id, job_types, single=True)

    def heartbeat(self, job_id: str, *, worker_id: str | None = None) -> bool:
        """Refresh a running job's heartbeat; False if it is no longer running (or ours)."""
        return self.db.write_one(jobs_sql.heartbeat, job_id, worker_id)

    def progress(
        self, job_id: str, processed: int, total: int, unit: str = "files", *, worker_id: str | None = None
    ) -> bool:
        """Record ``processed`` of ``total``; False if the job stopped running (cancelled)."""
        percent = round(100.0 * processed / total, 2) if total > 0 else 0.0
        progress = {"processed": processed, "total": total, "unit": unit}
        return self._write(jobs_sql.record_progress, job_id, percent, progress, worker_id, single=True)

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
        return self._write(
            lambda conn: jobs_sql.finish_job(
                conn,
                job_id,
                status,
                worker_id,
                summary=summary,
                error_message=error_message,
                output_path=output_path,
            ),
            single=True,
        )

    def release(self, job_id: str, *, worker_id: str | None = None) -> bool:
        """Put a running job back in the queue (its worker is shutting down)."""
        return self._write(jobs_sql.release_job, job_id, worker_id, single=True)

    def cancel(self, job_id: str) -> Row | None:
        """Cancel a queued or running job; return its new row, or None if not active."""
        if not is_uuid(job_id):
            return None
        return self._write(jobs_sql.cancel_job, job_id, single=True)

    def recover_stale(self, stale_after_s: float, *, now: datetime | None = None) -> list[Row]:
        """Requeue or fail running jobs with no heartbeat for ``stale_after_s`` seconds
        (requeued when their worker declared the type safe to run again); return them.

        Each job's log says so in the same transaction: a requeued job's log tells why
        before any line of the worker that claims it next."""

        def recover(conn: Any) -> list[Row]:
            rows = jobs_sql.recover_stale(conn, stale_after_s, now)
            for row in rows:
                line = format_line(*worker_lost_line(row, stale_after_s))
                logs_sql.append_lines(conn, row["id"], [line], self.log_lines_cap, self._marker)
            return rows

        return self._write(recover)

    def prune(self, older_than_s: float, *, now: datetime | None = None, batch: int = PRUNE_BATCH_DEFAULT) -> int:
        """Delete finished jobs that ended over ``older_than_s`` seconds before ``now``,
        with their log lines, ``batch`` jobs per transaction; return how many went."""
        cutoff = prune_cutoff(older_than_s, batch, now)
        if cutoff is None:
            return 0
        deleted = 0
        while True:
            ids = self._write(jobs_sql.prune_batch, cutoff, batch)
            deleted += len(ids)
            if len(ids) < batch:
                return deleted


def _database_row(row: Row) -> Row:
    """Given a new job's row as the stores build it, return it with ``created_at`` left to
    the database's clock (one clock for every host)."""
    return {key: value for key, value in row.items() if key != "created_at"}
