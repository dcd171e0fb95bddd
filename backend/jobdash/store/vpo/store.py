"""VPO's library database behind the store interface: every read, no write.

``VpoStore(db_path, data_dir)`` checks the file at once and fails with one line naming
the problem (not SQLite, no ``jobs`` table, an unsupported schema version, locked past
VPO's busy timeout, a ``-wal`` without ``-shm`` in a folder it may not write). Reads use
VPO's own indexes (created_at, status, priority + created_at, job_type); counts come
from the status index. Every write raises :class:`ReadOnlyStore`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobdash.model.ids import is_uuid
from jobdash.model.list_query import SINCE_WINDOWS, ListQuery
from jobdash.model.states import PRIORITY_DEFAULT
from jobdash.store.interface import PRUNE_BATCH_DEFAULT, ReadOnlyStore, Row, StoreUnavailable
from jobdash.store.list_order import ORDER_BY
from jobdash.store.log_reader import LogSlice, file_mark
from jobdash.store.snapshot_reads import SnapshotReads
from jobdash.store.vpo import logs
from jobdash.store.vpo.connection import BUSY_TIMEOUT_MS, VpoConnection, VpoOpenError, shm_problem
from jobdash.store.vpo.rows import store_row
from jobdash.store.vpo.schema import VpoSchemaError, check_version, select_list

# How long a total may be reused for the same filter: VPO commits progress every half
# second, and an exact COUNT(*) over 1M rows costs ~2 ms per commit that rarely changes it.
COUNT_REUSE_S = 2.0

READ_ONLY_REASON = (
    "this server shows a VPO library database read-only: jobdash never writes to it; "
    "queue and cancel jobs with VPO itself"
)


def vpo_time(moment: datetime) -> str:
    """Given an instant, return it as VPO writes timestamps (so text order is time order).

    >>> vpo_time(datetime(2026, 12, 6, 13, 20, 3, 323968, tzinfo=UTC))
    '2026-12-06T13:20:03.323968+00:00'
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class VpoStore(SnapshotReads):
    """Jobs of a VPO installation, read live from its library database."""

    read_only = True
    read_only_reason = READ_ONLY_REASON
    local_targets = True

    def __init__(self, db_path: Path, data_dir: Path | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.db_path = Path(db_path).expanduser()
        self.data_dir = Path(data_dir).expanduser() if data_dir is not None else self.db_path.parent
        self.logs_dir = self.data_dir / "logs"
        self._conn = _open(self.db_path, busy_timeout_ms)
        self._counts: dict[tuple[Any, ...], tuple[int, float]] = {}
        self._counts_lock = threading.Lock()
        # A reused total may be out of date: the data version moves once it is too old,
        # so that the read cache recounts (see version()).
        self._recheck_at: float | None = None
        self._rechecks = 0
        try:
            self.schema_version, self._select = self._conn.read(_check_schema)
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        """Close the connections. Idempotent."""
        self._conn.close()

    # reads

    def version(self) -> int:
        """The data version: moves whenever VPO commits, and once a reused total is older
        than :data:`COUNT_REUSE_S` (so answers built on it are recounted)."""
        with self._counts_lock:
            if self._recheck_at is not None and time.monotonic() >= self._recheck_at:
                self._recheck_at = None
                self._rechecks += 1
            rechecks = self._rechecks
        return (rechecks << 40) + self._conn.version()

    def version_now(self) -> int:
        """Like :meth:`version` (one PRAGMA on a kept connection: never waits on VPO)."""
        return self.version()

    def _count(self, conn: sqlite3.Connection, key: tuple[Any, ...], where: str, args: list[Any]) -> int:
        """The total for a filter: counted, or reused when counted less than
        :data:`COUNT_REUSE_S` ago (the version then moves when that time is up)."""
        now = time.monotonic()
        with self._counts_lock:
            kept = self._counts.get(key)
            if kept is not None and now - kept[1] < COUNT_REUSE_S:
                due = kept[1] + COUNT_REUSE_S
                self._recheck_at = due if self._recheck_at is None else min(self._recheck_at, due)
                return kept[0]
        total = int(conn.execute(f"SELECT COUNT(*) FROM jobs{where}", args).fetchone()[0])
        with self._counts_lock:
            if len(self._counts) > 256:
                self._counts.clear()
            self._counts[key] = (total, now)
        return total

    def list_snapshot(self, query: ListQuery, *, now: datetime | None = None) -> tuple[int, list[Row], int]:
        """Like :meth:`list`, with a data version taken before the read (an answer is never
        kept under a version newer than its data)."""
        cutoff = None
        if query.since is not None:
            cutoff = vpo_time((now or datetime.now(UTC)) - timedelta(seconds=SINCE_WINDOWS[query.since]))
        version = self.version()
        rows, total = self._conn.read(self._list, query, cutoff)
        return version, rows, total

    def _list(self, conn: sqlite3.Connection, query: ListQuery, cutoff: str | None) -> tuple[list[Row], int]:
        # VPO's database has no statistics (jobdash may not run ANALYZE on it), so SQLite
        # drives a filtered query by the filter's index and sorts every match: 1.4 s for
        # status=completed at 1M jobs. The plan is chosen here instead, from the counts.
        where, args = _where(query, cutoff, by_status=bool(query.statuses and query.types))
        if cutoff is None:
            total = self._count(conn, (query.statuses, query.types), where, args)
        else:  # a time window moves with the clock; its answers live a second anyway
            total = int(conn.execute(f"SELECT COUNT(*) FROM jobs{where}", args).fetchone()[0])
        if (query.statuses or query.types) and query.sort in ("created_at", "-created_at"):
            rows_in_table = int(conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM jobs").fetchone()[0])
            # Walking the created_at index meets the page after about (offset+limit) x
            # rows/total rows; the filter's index costs about `total` rows and a sort.
            if total * total > (query.offset + query.limit) * rows_in_table:
                where, args = _where(query, cutoff, by_time=True)
        rows = conn.execute(
            f"SELECT {self._select} FROM jobs{where} ORDER BY {ORDER_BY[query.sort]} LIMIT ? OFFSET ?",
            [*args, query.limit, query.offset],
        ).fetchall()
        return [store_row(dict(row)) for row in rows], total

    def get_snapshot(self, job_id: str) -> tuple[int, Row | None]:
        """Like :meth:`get`, with the data version taken before the read."""
        version = self.version()
        if not is_uuid(job_id):
            return version, None
        row = self._conn.read(
            lambda conn: conn.execute(f"SELECT {self._select} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        )
        return version, store_row(dict(row)) if row is not None else None

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to ``limit`` job ids that start with ``prefix``."""
        return self._conn.read(
            lambda conn: [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                    (prefix, prefix + "\uffff", limit),
                )
            ]
        )

    def job_types(self) -> list[str]:
        """The job types of VPO's jobs, sorted (from VPO's job_type index)."""
        return self._conn.read(
            lambda conn: [row[0] for row in conn.execute("SELECT DISTINCT job_type FROM jobs ORDER BY job_type")]
        )

    def workers(self) -> list[Row]:
        """VPO's workers are VPO's own: none registers here."""
        return []

    def log_path(self, job: Row) -> Path:
        """Where the job's log is (plain or gzipped), or where it would be."""
        return logs.job_log_file(self.logs_dir, job["id"], job.get("log_path")) or self.logs_dir / f"{job['id']}.log"

    def read_log(self, job: Row, offset: int | None, lines: int) -> LogSlice:
        """Lines of the job's log, from ``.log`` or ``.log.gz``; nothing for a job without one."""
        return logs.read_job_log(logs.job_log_file(self.logs_dir, job["id"], job.get("log_path")), offset, lines)

    def has_log(self, job: Row) -> bool:
        """True when the job has a log with content."""
        return logs.has_content(logs.job_log_file(self.logs_dir, job["id"], job.get("log_path")))

    def log_mark(self, job: Row) -> Hashable:
        """The log file's size and modification time (None while it has none)."""
        return file_mark(logs.job_log_file(self.logs_dir, job["id"], job.get("log_path")))

    def recover_stale(self, stale_after_s: float, *, now: datetime | None = None) -> list[Row]:
        """VPO recovers its own abandoned jobs: nothing is changed here."""
        return []

    # writes: none

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise ReadOnlyStore(READ_ONLY_REASON)

    def create(self, file_path: str, job_type: str, *, priority: int = PRIORITY_DEFAULT, **_: Any) -> Row:
        """Refused: VPO's jobs are queued by VPO."""
        return self._refuse()

    def prune(self, older_than_s: float, *, now: datetime | None = None, batch: int = PRUNE_BATCH_DEFAULT) -> int:
        """Refused: VPO's jobs and logs are VPO's to delete."""
        return self._refuse()

    submit = claim = heartbeat = progress = finish = release = cancel = open_log = _refuse
    register_worker = worker_heartbeat = worker_stopped = _refuse

    def on_job_queued(self, callback: Callable[[], None]) -> None:
        """No worker of jobdash's runs on VPO's store: nothing to wake."""


def _where(
    query: ListQuery, cutoff: str | None, *, by_status: bool = False, by_time: bool = False
) -> tuple[str, list[Any]]:
    """Given a query, return its WHERE clause and arguments. A unary ``+`` keeps SQLite
    from using a column's index: ``by_status`` drives by the status index (statuses are the
    selective filter a dashboard uses), ``by_time`` by created_at (for broad filters)."""
    status_column = "+status" if by_time else "status"
    type_column = "+job_type" if by_time or by_status else "job_type"
    clauses: list[str] = []
    args: list[Any] = []
    if query.statuses:
        clauses.append(f"{status_column} IN ({','.join('?' * len(query.statuses))})")
        args.extend(query.statuses)
    if query.types:
        clauses.append(f"{type_column} IN ({','.join('?' * len(query.types))})")
        args.extend(query.types)
    if cutoff is not None:
        clauses.append("created_at >= ?")
        args.append(cutoff)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _check_schema(conn: sqlite3.Connection) -> tuple[int, str]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "jobs" not in tables:
        raise VpoSchemaError("the database has no jobs table; is this a VPO library database (~/.vpo/library.db)?")
    if "_meta" not in tables:
        raise VpoSchemaError("the database has no _meta table, so its VPO schema version is unknown")
    row = conn.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise VpoSchemaError("the database's _meta table has no schema_version")
    version = check_version(row[0])
    present = {info[1] for info in conn.execute("PRAGMA table_info(jobs)")}
    return version, select_list(present)


def _open(path: Path, busy_timeout_ms: int) -> VpoConnection:
    """Open VPO's database read-only, or raise VpoOpenError saying what is wrong."""
    if not path.exists():
        raise VpoOpenError(f"VPO database {path} does not exist (VPO keeps it in ~/.vpo/library.db)")
    if not path.is_file():
        raise VpoOpenError(f"VPO database {path} is not a file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(16)
    except OSError as error:
        raise VpoOpenError(f"VPO database {path} cannot be read: {error.strerror}") from None
    if magic != b"SQLite format 3\x00":
        raise VpoOpenError(f"{path} is not a SQLite database (VPO's library database is ~/.vpo/library.db)")
    folder = path.parent
    problem = shm_problem(
        os.path.exists(f"{path}-wal"), os.path.exists(f"{path}-shm"), os.access(folder, os.W_OK), path
    )
    if problem:
        raise VpoOpenError(problem)
    try:
        return VpoConnection(path, busy_timeout_ms=busy_timeout_ms)
    except sqlite3.Error as error:
        raise VpoOpenError(f"VPO database {path} cannot be opened: {error}") from None


def open_vpo(db_path: Path, data_dir: Path | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> VpoStore:
    """Open VPO's database as a store; VpoOpenError (one line) if it cannot be used."""
    try:
        return VpoStore(db_path, data_dir, busy_timeout_ms=busy_timeout_ms)
    except VpoSchemaError as error:
        raise VpoOpenError(f"{db_path}: {error}") from None
    except StoreUnavailable as error:
        if "busy" in str(error) or "locked" in str(error):
            raise VpoOpenError(
                f"VPO database {db_path} stayed locked by another process for longer than the busy timeout "
                f"({busy_timeout_ms / 1000:g} s, VPO's own); try again when VPO is done, or serve a copy"
            ) from None
        raise VpoOpenError(f"VPO database {db_path}: {error}") from None
    except sqlite3.DatabaseError as error:
        raise VpoOpenError(f"VPO database {db_path} cannot be read: {error}") from None
