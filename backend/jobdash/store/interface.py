"""The store interface: the one narrow set of operations the API, the worker and the CLI use.

Every store implements :class:`JobStore` — SQLite on one host (:mod:`jobdash.store.sqlite`),
PostgreSQL for many (:mod:`jobdash.store.postgres`), VPO's library read-only
(:mod:`jobdash.store.vpo`) — so nothing above this package knows which database it
talks to. Rows are plain dicts keyed by the ``jobs`` table's column names.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from jobdash.model.list_query import ListQuery
from jobdash.model.states import PRIORITY_DEFAULT
from jobdash.store.log_reader import LogSlice

Row = dict[str, Any]

#: How many jobs :meth:`JobStore.prune` deletes per transaction unless told otherwise.
PRUNE_BATCH_DEFAULT = 500


class IdempotencyConflict(ValueError):
    """An Idempotency-Key was used before for a different request."""


class ReadOnlyStore(Exception):
    """The store is another program's, shown read-only: it takes no writes (the message
    says whose it is and where to make the change instead)."""


class StoreUnavailable(Exception):
    """The job store cannot serve right now (locked, read-only, missing, I/O error).

    Callers answer 503 with ``Retry-After``; the worker waits and retries.
    """


class JobLogWriter(Protocol):
    """Appends lines to one job's log (a file, or rows in the database). Advisory: a line
    that cannot be written is reported, never raised."""

    def __enter__(self) -> JobLogWriter: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def write(self, message: str, *, level: str = "INFO") -> None:
        """Append ``<timestamp> <LEVEL> <message>`` as one line."""

    def flush(self) -> None:
        """Make the lines written so far readable by every reader."""

    def close(self) -> None:
        """Flush and release the log. Idempotent."""


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
    #: True when the workers run on this host (one SQLite file): a job's target can be
    #: checked here. False when they may run on any host (PostgreSQL): only its form is.
    local_targets: bool

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

    def log_mark(self, job: Row) -> Hashable:
        """Given a job row, return a small token that changes whenever its log grows
        (compared, never interpreted). Cheap — a ``stat`` or one single-row read — since
        a held log poll's watcher asks for it several times a second."""

    def open_log(self, job: Row) -> JobLogWriter:
        """Given a job row, return a writer that appends to its log."""

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

    def register_worker(self, host: str, pid: int, types: tuple[str, ...], requeue: tuple[str, ...] = ()) -> str:
        """Register a starting worker that runs ``types`` (``requeue``: those of them to
        queue again, rather than fail, if this worker dies); return its id."""

    def worker_heartbeat(self, worker_id: str, current_job_id: str | None) -> bool:
        """Refresh a worker's heartbeat and current job; False if it is not registered."""

    def worker_stopped(self, worker_id: str) -> None:
        """Mark a worker stopped."""

    def on_job_queued(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from any thread) soon after a job is queued anywhere, where
        the store can tell (PostgreSQL's NOTIFY); elsewhere never, and workers poll."""

    def claim(self, worker_pid: int, job_types: tuple[str, ...], *, worker_id: str | None = None) -> Row | None:
        """Atomically mark the next queued job of ``job_types`` running for worker
        ``worker_id``; None if none waits. Lowest priority number first, then oldest.

        The writes below that take ``worker_id`` count only while the job is still that
        worker's, so a worker presumed dead cannot overwrite what happened since.
        """

    def heartbeat(self, job_id: str, *, worker_id: str | None = None) -> bool:
        """Refresh a running job's heartbeat; False if it is no longer running (or ours)."""

    def progress(
        self, job_id: str, processed: int, total: int, unit: str = "files", *, worker_id: str | None = None
    ) -> bool:
        """Record ``processed`` of ``total``; False if the job stopped running (cancelled)."""

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
        """Record a running job's end (completed, failed, cancelled); False if not running."""

    def release(self, job_id: str, *, worker_id: str | None = None) -> bool:
        """Put a running job back in the queue (its worker is stopping)."""

    def cancel(self, job_id: str) -> Row | None:
        """Cancel a queued or running job; return its new row, or None if not active."""

    def recover_stale(self, stale_after_s: float, *, now: datetime | None = None) -> list[Row]:
        """Requeue or fail running jobs with no heartbeat for ``stale_after_s`` seconds;
        return them. Requeued (status ``queued``) when the worker that ran the job declared
        its type safe to run again, else failed with a message that says why. Each job's
        log says so (``model.staleness.worker_lost_line``) before another worker can
        claim a requeued job."""

    def prune(self, older_than_s: float, *, now: datetime | None = None, batch: int = PRUNE_BATCH_DEFAULT) -> int:
        """Delete finished jobs that ended over ``older_than_s`` seconds before ``now``
        (default: the current time), with their logs, in batches of ``batch`` jobs (one
        transaction each); return how many were deleted.

        Finished means completed, failed or cancelled: queued and running jobs stay,
        however old. ValueError for an age or batch that is not positive.
        """
