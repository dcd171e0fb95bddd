"""VPO's library for page tests: the shared fixture folder, writable copies of it, a
byte-for-byte snapshot of a folder, and VPO's worker played with plain sqlite3.

The fixture (``shared/fixtures/vpo-library``: ``library.db`` made by VPO's own code,
schema 27, and ``logs/``) is never opened in place: SQLite may create ``-wal``/``-shm``
files beside a WAL database it opens, even to read. Tests copy the folder first.

:class:`VpoWorker` writes to a copy the way VPO's worker does (``vpo.jobs.queue``,
``vpo.jobs.logs``): a connection of its own in a thread of its own, ISO timestamps with
``+00:00``, ffmpeg's figures in ``progress_json``, heartbeats, and job logs of
``[<time>Z] <message>`` lines written in chunks of 100 as VPO's log writer flushes them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "vpo-library"
BUSY_TIMEOUT_S = 10  # VPO's own
LOG_FLUSH_LINES = 100  # VPO's JobLogWriter buffers this many lines before it writes

#: One entry per path under a folder (the folder itself is ""): a file's sha256, size and
#: mtime; a directory's "dir", 0 and mtime (a file created and removed again moves it).
Snapshot = dict[str, tuple[str, int, int]]


def snapshot(folder: Path) -> Snapshot:
    """Every file and directory under ``folder`` (itself included), byte for byte."""
    entries: Snapshot = {}
    for path in sorted([folder, *folder.rglob("*")]):
        stat = path.lstat()
        name = path.relative_to(folder).as_posix() if path != folder else ""
        if path.is_dir():
            entries[name + "/"] = ("dir", 0, stat.st_mtime_ns)
        else:
            entries[name] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns)
    return entries


def copy_fixture(target: Path) -> Path:
    """Copy the fixture folder to ``target`` (mtimes kept), writable by its owner; return it."""
    shutil.copytree(FIXTURE, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    return target


def vpo_now() -> str:
    """Now, as VPO writes timestamps to its database: '2026-12-06T13:20:03.324139+00:00'."""
    return datetime.now(UTC).isoformat()


def vpo_log_time() -> str:
    """Now, as VPO's log writer stamps a line: '2026-12-06T13:20:03.323968Z'."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shown_log_line(line: str) -> str:
    """What the job page shows for one line of a VPO log: '[time] text' -> 'time text'."""
    assert line.startswith("[") and "] " in line, line
    time, text = line[1:].split("] ", 1)
    return f"{time} {text}"


class VpoJobLog:
    """A job's log as VPO's JobLogWriter writes it: lines buffered, written (appended, one
    write per chunk) each time 100 are waiting, and the rest when it is closed."""

    def __init__(self, logs_dir: Path, job_id: str) -> None:
        self.path = logs_dir / f"{job_id}.log"
        self._buffer: list[str] = []

    def write_line(self, message: str) -> None:
        self._buffer.append(f"[{vpo_log_time()}] {message}")
        if len(self._buffer) >= LOG_FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write("\n".join(self._buffer) + "\n")
            self._buffer.clear()

    def close(self) -> None:
        self.flush()


class VpoWorker:
    """VPO's worker on a copy of the library: every write runs in one thread of its own
    on its own sqlite3 connection (as another process would write), and returns when it
    is committed."""

    def __init__(self, folder: Path, pid: int = 31337) -> None:
        self.folder = folder
        self.pid = pid
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpo-worker")
        self._conn: sqlite3.Connection | None = None

    # --- running in the worker's thread -------------------------------------------------

    def _call(self, fn: Any, *args: Any) -> Any:
        return self._pool.submit(fn, *args).result(timeout=30)

    def _open(self) -> None:
        conn = sqlite3.connect(self.folder / "library.db", timeout=BUSY_TIMEOUT_S)
        conn.execute("PRAGMA journal_mode = WAL")  # VPO's: a no-op on its database, which is WAL already
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        self._conn = conn

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        assert self._conn is not None
        cursor = self._conn.execute(sql, args)
        self._conn.commit()
        return cursor.rowcount

    def _claim(self) -> str | None:
        """vpo.jobs.queue.claim_next_job: the queued job with the lowest priority number, then oldest."""
        assert self._conn is not None
        now = vpo_now()
        self._conn.execute("BEGIN IMMEDIATE")
        row = self._conn.execute(
            "SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority ASC, created_at ASC LIMIT 1"
        ).fetchone()
        if row is None:
            self._conn.execute("ROLLBACK")
            return None
        self._conn.execute(
            "UPDATE jobs SET status = 'running', started_at = ?, worker_pid = ?, worker_heartbeat = ?, log_path = ?"
            " WHERE id = ? AND status = 'queued'",
            (now, self.pid, now, f"logs/{row[0]}.log", row[0]),
        )
        self._conn.execute("COMMIT")
        return str(row[0])

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- what VPO does ------------------------------------------------------------------

    def start(self) -> None:
        """Open VPO's connection (its -wal and -shm appear beside the database)."""
        self._call(self._open)

    def stop(self) -> None:
        """Close the connection (SQLite checkpoints and removes -wal/-shm) and the thread."""
        try:
            self._call(self._close)
        finally:
            self._pool.shutdown(wait=True)

    def claim(self) -> str | None:
        """Claim the next queued job as VPO does; return its id (None: nothing queued)."""
        return self._call(self._claim)

    def heartbeat(self, job_id: str) -> None:
        """vpo.jobs.queue.update_heartbeat."""
        self._call(
            self._write,
            "UPDATE jobs SET worker_heartbeat = ?, worker_pid = ? WHERE id = ? AND status = 'running'",
            (vpo_now(), self.pid, job_id),
        )

    def ffmpeg_progress(self, job_id: str, seconds: float, duration: float, *, frame: int | None = None) -> None:
        """A transcode's progress as VPO records ffmpeg's: the percentage of the duration
        and ffmpeg's figures in progress_json."""
        figures = {
            "frame": frame if frame is not None else int(seconds * 24),
            "fps": 48.2,
            "bitrate": "2431.5kbits/s",
            "speed": 2.01,
            "out_time_seconds": seconds,
        }
        self._call(
            self._write,
            "UPDATE jobs SET progress_percent = ?, progress_json = ? WHERE id = ?",
            (min(100.0, 100.0 * seconds / duration), json.dumps(figures), job_id),
        )

    def finish(self, job_id: str, status: str, *, error: str | None = None, output: str | None = None) -> None:
        """vpo.jobs.queue.release_job: the final status, its time, and the worker let go."""
        self._call(
            self._write,
            "UPDATE jobs SET status = ?, completed_at = ?, error_message = ?, output_path = ?,"
            " worker_pid = NULL, worker_heartbeat = NULL WHERE id = ?",
            (status, vpo_now(), error, output, job_id),
        )

    def set_status(self, job_id: str, status: str) -> None:
        """Write a status as it stands, even one VPO's schema 27 does not allow (its CHECK
        constraint is set aside for this one write): what a later VPO whose schema adds a
        status, or a damaged row, leaves in the table."""
        self._call(self._write_unchecked, "UPDATE jobs SET status = ? WHERE id = ?", (status, job_id))

    def _write_unchecked(self, sql: str, args: tuple[Any, ...]) -> int:
        assert self._conn is not None
        self._conn.execute("PRAGMA ignore_check_constraints = ON")
        try:
            return self._write(sql, args)
        finally:
            self._conn.execute("PRAGMA ignore_check_constraints = OFF")

    def prune(self, *job_ids: str) -> int:
        """Delete job rows, as VPO's cleanup does; return how many went."""
        marks = ",".join("?" * len(job_ids))
        return self._call(self._write, f"DELETE FROM jobs WHERE id IN ({marks})", job_ids)

    def job_log(self, job_id: str) -> VpoJobLog:
        """The job's log writer (it appends to logs/<id>.log)."""
        return VpoJobLog(self.folder / "logs", job_id)


@contextmanager
def vpo_worker(folder: Path) -> Iterator[VpoWorker]:
    """VPO's worker, started on ``folder`` (a copy of the fixture) and stopped afterwards."""
    worker = VpoWorker(folder)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
