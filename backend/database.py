"""The one owner of SQLite connections: a single writer path and read-only readers.

Writes go through :meth:`Database.write`, which serialises them in-process with a lock
and across processes with ``BEGIN IMMEDIATE``; reads go through :meth:`Database.read`
on a per-thread read-only connection. WAL mode lets readers run while a writer commits,
and the busy timeout absorbs short lock waits, so the API never reports "database is
locked" for ordinary contention. SQL itself lives in plain ``fn(conn, ...)`` functions
(see :mod:`backend.jobs_sql`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from backend import migrations

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000

# Primary SQLite result codes that mean "the store cannot serve now", not "bad SQL".
_UNAVAILABLE_CODES = {
    5: "the database is busy (locked by another process)",  # SQLITE_BUSY
    6: "a table is locked",  # SQLITE_LOCKED
    8: "the database is read-only",  # SQLITE_READONLY
    10: "a disk I/O error occurred",  # SQLITE_IOERR
    11: "the database file is corrupt",  # SQLITE_CORRUPT
    13: "the disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
    15: "a database lock protocol error occurred",  # SQLITE_PROTOCOL
    26: "the file is not a database",  # SQLITE_NOTADB
}


class StoreUnavailable(Exception):
    """The job store cannot serve right now (locked, read-only, missing, I/O error).

    Callers answer 503 with ``Retry-After``; the worker waits and retries.
    """


def _unavailable(error: sqlite3.Error) -> StoreUnavailable | None:
    """Given a sqlite3 error, return StoreUnavailable if it is an availability problem."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    reason = _UNAVAILABLE_CODES.get(code & 0xFF)
    if reason is None:
        return None
    return StoreUnavailable(f"job store unavailable: {reason} ({error})")


class Database:
    """Owns the connections to one SQLite file.

    ``Database(path)`` opens (creating if needed) the file, applies migrations and turns
    on WAL. Use :meth:`read` and :meth:`write` with plain ``fn(conn, *args)`` functions.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._closed = False
        try:
            self._writer = self._connect(readonly=False)
            self._writer.execute("PRAGMA journal_mode = WAL")
            self._writer.execute("PRAGMA synchronous = NORMAL")
            migrations.migrate(self._writer)
        except BaseException as error:
            if self._writer is not None:
                self._writer.close()
            if isinstance(error, sqlite3.Error):
                raise (_unavailable(error) or error) from error
            raise

    def _connect(self, *, readonly: bool, busy_timeout_ms: int | None = None) -> sqlite3.Connection:
        if readonly:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=self.busy_timeout_ms / 1000,
            )
        else:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self.busy_timeout_ms / 1000,
            )
        conn.row_factory = sqlite3.Row
        timeout = self.busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        return conn

    def _reader(self, *, immediate: bool = False) -> sqlite3.Connection:
        slot = "immediate" if immediate else "conn"
        conn = getattr(self._local, slot, None)
        if conn is None:
            conn = self._connect(readonly=True, busy_timeout_ms=0 if immediate else None)
            setattr(self._local, slot, conn)
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def read_immediate(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a single-statement ``fn(conn, *args)`` that never waits for a lock:
        StoreUnavailable at once instead.

        For tiny reads (a single-row lookup) from the event loop itself, where a thread
        hop would cost more than the read and a wait would stall every request. One
        statement is its own snapshot, so no transaction is opened around it.
        """
        assert not self._closed, "database is closed"
        try:
            return fn(self._reader(immediate=True), *args)
        except sqlite3.Error as error:
            raise (_unavailable(error) or error) from error

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one read transaction (a consistent snapshot)."""
        assert not self._closed, "database is closed"
        try:
            conn = self._reader()
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as error:
            raise (_unavailable(error) or error) from error

    def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one ``BEGIN IMMEDIATE`` transaction; commit or roll back."""
        assert not self._closed, "database is closed"
        assert self._writer is not None
        with self._write_lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise (_unavailable(error) or error) from error
            try:
                result = fn(conn, *args)
                conn.execute("COMMIT")
                return result
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise (_unavailable(error) or error) from error
                raise

    def close(self) -> None:
        """Close every connection this object opened. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        if self._writer is not None:
            with self._write_lock:
                self._writer.close()
