"""The store interface: the one narrow set of operations the API, the worker and the CLI use.

Every store implements :class:`JobStore` — SQLite today (:mod:`jobdash.store.sqlite`),
other engines behind the same methods later — so nothing above this package knows which
database it talks to. Rows are plain dicts keyed by the ``jobs`` table's column names.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from jobdash.model.list_query import ListQuery
from jobdash.model.states import PRIORITY_DEFAULT
from jobdash.store.log_reader import LogSlice

Row = dict[str, Any]


class IdempotencyConflict(ValueError):
    """An Idempotency-Key was used before for a different request."""


class ReadOnlyStore(Exception):
    """The store is another program's, shown read-only: it takes no writes (the message
    says whose it is and where to make the change instead)."""


class StoreUnavailable(Exception):
    """The job store cannot serve right now (locked, read-only, missing, I/O error).

    Callers answer 503 with ``Retry-After``; the worker waits and retries.
    """


@runtime_checkable
class JobStore(Protocol):
    """Jobs and their logs, as the API, the worker and the CLI see them.

    Reads that feed cached answers come with the store's data version (a counter that
    every committed change to the jobs moves, whichever process made it), taken in the
    same snapshot as the data. Methods raise :class:`StoreUnavailable` when the store
    cannot serve now, and ``ValueError`` for input they refuse.
    """

    data_dir: Path
    #: True for a store this process only watches (another program's database): every
    #: write raises ReadOnlyStore, and no worker runs on it.
    read_only: bool
    #: Why writes are refused (empty for a writable store), said to whoever asks.
    read_only_reason: str

    def close(self) -> None:
        """Release the store's connections. Idempotent."""

    # reads

    def list(self, query: ListQuery, *, now: datetime | None = None) -> tuple[list[Row], int]:
        """Given a validated query, return (the page of rows, total matching rows)."""

    def list_snapshot(self, query: ListQuery, *, now: datetime | None = None) -> tuple[int, list[Row], int]:
        """Like :meth:`list`, with the data version of the same snapshot first."""

    def get(self, job_id: str) -> Row | None:
        """Given a job id, return its row, or None if there is no such job."""

    def get_snapshot(self, job_id: str) -> tuple[int, Row | None]:
        """Like :meth:`get`, with the data version of the same snapshot first."""

    def version(self) -> int:
        """Return the data version: it moves on every committed change to the jobs."""

    def version_now(self) -> int:
        """Like :meth:`version`, but never waits (StoreUnavailable at once if it would).

        Called on the event loop for every request, so it must be one cheap read.
        """

    def log_path(self, job: Row) -> Path:
        """Given a job row, return the path of its log file (where the worker writes)."""

    def read_log(self, job: Row, offset: int | None, lines: int) -> LogSlice:
        """Given a job row, return ``lines`` lines of its log from line ``offset`` (None:
        the tail); an empty slice when it has no log."""

    def has_log(self, job: Row) -> bool:
        """Given a job row, return True if its log has content."""

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """Given the start of an id, return up to ``limit`` ids that begin with it."""

    # writes

    def job_types(self) -> list[str]:
        """Return the job types of the jobs in the store, sorted."""

    def workers(self) -> list[Row]:
        """Return every registered worker: ``id, host, pid, types_json, started_at,
        heartbeat_at, stopped_at, current_job_id, current_job_type, current_job_path``."""

    def create(
        self,
        file_path: str,
        job_type: str,
        *,
        priority: int = PRIORITY_DEFAULT,
        policy_name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Row:
        """Queue a new job and return its row (ValueError for a malformed type or priority)."""

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
        """Queue a job unless the key queued one recently; return (job, whether new).

        Raises :class:`IdempotencyConflict` when the key came with another request.
        """

    def register_worker(self, host: str, pid: int, types: tuple[str, ...]) -> str:
        """Register a starting worker that runs ``types``; return its id."""

    def worker_heartbeat(self, worker_id: str, current_job_id: str | None) -> bool:
        """Refresh a worker's heartbeat and current job; False if it is not registered."""

    def worker_stopped(self, worker_id: str) -> None:
        """Mark a worker stopped."""

    def claim(self, worker_pid: int, job_types: tuple[str, ...]) -> Row | None:
        """Atomically mark the next queued job of ``job_types`` running; None if none waits.

        Lowest priority number first, then oldest.
        """

    def heartbeat(self, job_id: str) -> bool:
        """Refresh a running job's heartbeat; False if it is no longer running."""

    def progress(self, job_id: str, processed: int, total: int, unit: str = "files") -> bool:
        """Record ``processed`` of ``total``; False if the job stopped running (cancelled)."""

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        summary: dict[str, Any] | None = None,
        error_message: str | None = None,
        output_path: str | None = None,
    ) -> bool:
        """Record a running job's end (completed, failed, cancelled); False if not running."""

    def release(self, job_id: str) -> bool:
        """Put a running job back in the queue (its worker is stopping)."""

    def cancel(self, job_id: str) -> Row | None:
        """Cancel a queued or running job; return its new row, or None if not active."""

    def recover_stale(self, stale_after_s: float, *, now: datetime | None = None) -> list[Row]:
        """Fail running jobs with no heartbeat for ``stale_after_s`` seconds; return them."""
