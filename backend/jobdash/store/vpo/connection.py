"""Reading VPO's database without ever writing to it or to its folder.

A SQLite database in WAL mode is normally read through its ``-wal`` and ``-shm`` files,
and a reader creates them when they are missing — which would write into VPO's folder.
So: while VPO has them (it is running), connections open read-only (``mode=ro``) and
share them, as SQLite intends; while they are absent (VPO is stopped, everything is in
the main file), connections open the file as ``immutable`` and create nothing. Each
request looks (a ``stat`` of each, at most every :data:`LOOK_EVERY_S`) which case holds
and reopens when it changes, or when the main file changed under an immutable connection
(VPO ran and stopped in between).

The data version, which the read cache and ETags rest on, is ``PRAGMA data_version`` of
one kept connection (it moves whenever another connection commits), combined with a
counter of reopenings.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from jobdash.store.interface import StoreUnavailable
from jobdash.store.sqlite.database import _decode_text, _unavailable

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000  # VPO's own
# How often to look (two stats) whether VPO started or stopped: not on every request, whose
# whole cost on the 304 path is a few tens of microseconds.
LOOK_EVERY_S = 0.1
WAL_HEADER_MODE = 2  # bytes 18-19 of a SQLite header: 2 = WAL


class VpoOpenError(Exception):
    """VPO's database cannot be opened as it stands; the message says how to fix it."""


def is_wal(path: Path) -> bool:
    """Given a SQLite file, return True if its header says WAL mode."""
    with open(path, "rb") as handle:
        header = handle.read(20)
    return len(header) == 20 and header[18] == WAL_HEADER_MODE and header[19] == WAL_HEADER_MODE


def shm_problem(wal_exists: bool, shm_exists: bool, folder_writable: bool, path: Path) -> str | None:
    """Given what sits beside a WAL database, return why it cannot be read, or None.

    >>> shm_problem(True, False, False, Path("/v/library.db"))[:60]
    "VPO's database /v/library.db has a -wal file but no -shm and"
    """
    if wal_exists and not shm_exists and not folder_writable:
        return (
            f"VPO's database {path} has a -wal file but no -shm and its folder is not writable, so SQLite "
            "cannot read it without changing the folder: start VPO once (it recreates the -shm), give this "
            "user write access to the folder, or serve a copy made with `sqlite3 library.db .backup copy.db`"
        )
    return None


class VpoConnection:
    """Read-only connections to VPO's database: one per thread for reads, and one kept
    for the data version."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._wal = is_wal(self.path)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._generation = 0
        self._live = self._wal_files_exist()
        self._identity = self._file_identity()
        self._next_look = time.monotonic() + LOOK_EVERY_S
        self._all: list[sqlite3.Connection] = []
        self._version_conn = self._connect()
        self._closed = False

    def _file_identity(self) -> tuple[int, int, int]:
        """The main file's (inode, size, mtime): an immutable connection trusts the file
        not to change, so any change to it must reopen the connections."""
        stat = os.stat(self.path)
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    def _wal_files_exist(self) -> bool:
        return self._wal and os.path.exists(f"{self.path}-wal")

    def _connect(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        # Live (VPO has its -wal/-shm): shared read-only access. Otherwise the main file
        # holds everything: immutable, so that SQLite creates nothing beside it.
        uri += "?mode=ro" if self._live or not self._wal else "?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.text_factory = _decode_text
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA query_only = 1")
        self._all.append(conn)
        return conn

    def _refresh(self) -> None:
        """Note whether VPO started or stopped since the last look; connections of the old
        mode are replaced (each thread replaces its own at its next read)."""
        now = time.monotonic()
        if now < self._next_look:
            return
        self._next_look = now + LOOK_EVERY_S
        live = self._wal_files_exist()
        identity = self._file_identity()
        if live == self._live and (live or identity == self._identity):
            return
        with self._lock:
            if live == self._live and (live or identity == self._identity):
                return
            self._live, self._identity = live, identity
            self._generation += 1
            self._drop(self._version_conn)
            self._version_conn = self._connect()

    def _drop(self, conn: sqlite3.Connection) -> None:
        self._all = [other for other in self._all if other is not conn]
        conn.close()

    def version(self) -> int:
        """Return the data version: it moves whenever VPO commits (or starts or stops)."""
        self._refresh()
        try:
            with self._lock:
                changes = int(self._version_conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as error:
            raise (_unavailable(error) or error) from error
        return (self._generation << 32) + changes

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one read transaction on this thread's connection."""
        assert not self._closed, "closed"
        self._refresh()
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.generation != self._generation:
            with self._lock:
                if conn is not None:
                    self._drop(conn)
                conn = self._local.conn = self._connect()
                self._local.generation = self._generation
        try:
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as error:
            unavailable = _unavailable(error)
            if unavailable is None:
                raise
            raise StoreUnavailable(str(unavailable).replace("job store", "VPO's database", 1)) from error

    def close(self) -> None:
        """Close every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all = []
