"""The one owner of SQLite connections: a single writer path and read-only readers.

Writes go through :meth:`Database.write`, which serialises them in-process with a lock
and across processes with ``BEGIN IMMEDIATE``; reads go through :meth:`Database.read`
on a per-thread read-only connection. WAL mode lets readers run while a writer commits,
and the busy timeout absorbs short lock waits, so the API never reports "database is
locked" for ordinary contention. SQL itself lives in plain ``fn(conn, ...)`` functions
(see :mod:`jobdash.store.sqlite.jobs_sql`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from jobdash.store.interface import StoreUnavailable
from jobdash.store.sqlite import migrations

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


def _decode_text(data: bytes) -> str:
    """Decode a TEXT value; bytes that are not UTF-8 become U+FFFD. Another process (the
    orchestrator) may have stored a file name's raw bytes: one such row must not make
    every read that touches it fail."""
    return str(data, "utf-8", "replace")


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


def _schema_missing(conn: sqlite3.Connection | None) -> bool:
    """Given the connection that failed, return True if its file holds no jobdash schema
    at all (``user_version`` 0: the file was emptied, or replaced by a new one)."""
    if conn is None:
        return False
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0]) == 0
    except sqlite3.Error:
        return True


def _unavailable(error: sqlite3.Error, conn: sqlite3.Connection | None = None) -> StoreUnavailable | None:
    """Given a sqlite3 error (and the connection it came from), return StoreUnavailable
    if it is an availability problem rather than a bug."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    reason = _UNAVAILABLE_CODES.get(code & 0xFF)
    if reason is None and "no such table" in str(error) and _schema_missing(conn):
        # The tables vanished under a running process: the file was emptied or swapped.
        reason = "the database file has no jobdash tables (emptied or replaced while in use)"
    if reason is None:
        return None
    return StoreUnavailable(f"job store unavailable: {reason} ({error})")


def _retry_while_busy(step: Callable[[], Any], timeout_ms: int) -> None:
    """Run ``step``, retrying while another process holds the lock it needs, up to the busy
    timeout. Switching to WAL can answer SQLITE_BUSY at once, without SQLite's own busy
    wait, when another process is opening the same new database at that moment."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF != 5 or time.monotonic() >= deadline:  # SQLITE_BUSY
                raise
            time.sleep(0.02)


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
            _retry_while_busy(lambda: self._writer.execute("PRAGMA journal_mode = WAL"), busy_timeout_ms)
            self._writer.execute("PRAGMA synchronous = NORMAL")
            migrations.migrate(self._writer)
        except BaseException as error:
            if self._writer is not None:
                self._writer.close()
            if isinstance(error, sqlite3.Error):
                raise (_unavailable(error) or error) from error
            raise

    def _connect(
        self, *, readonly: bool, busy_timeout_ms: int | None = None, create: bool = True
    ) -> sqlite3.Connection:
        if readonly or not create:
            # A reopened writer must not create an empty file where the store vanished.
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}",
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
        conn.text_factory = _decode_text
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

    def _discard_reader(self, *, immediate: bool = False) -> None:
        """Close this thread's reader after an availability error; the next read opens a
        fresh one. A connection that once found the file unusable (emptied, replaced)
        can stay stuck on that error after the file is fixed."""
        slot = "immediate" if immediate else "conn"
        conn = getattr(self._local, slot, None)
        if conn is None:
            return
        setattr(self._local, slot, None)
        with self._readers_lock:
            self._readers = [other for other in self._readers if other is not conn]
        try:
            conn.close()
        except sqlite3.Error:
            pass

    def _unavailable_writer(self) -> None:
        """Close the writer after an availability error; :meth:`write` reopens it."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except sqlite3.Error:
                pass

    def read_immediate(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a single-statement ``fn(conn, *args)`` that never waits for a lock:
        StoreUnavailable at once instead.

        For tiny reads (a single-row lookup) from the event loop itself, where a thread
        hop would cost more than the read and a wait would stall every request. One
        statement is its own snapshot, so no transaction is opened around it.
        """
        assert not self._closed, "database is closed"
        conn = None
        try:
            conn = self._reader(immediate=True)
            return fn(conn, *args)
        except sqlite3.Error as error:
            unavailable = _unavailable(error, conn)
            if unavailable is None:
                raise
            self._discard_reader(immediate=True)
            raise unavailable from error

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one read transaction (a consistent snapshot)."""
        assert not self._closed, "database is closed"
        conn = None
        try:
            conn = self._reader()
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as error:
            unavailable = _unavailable(error, conn)
            if unavailable is None:
                raise
            self._discard_reader()
            raise unavailable from error

    def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one ``BEGIN IMMEDIATE`` transaction; commit or roll back."""
        assert not self._closed, "database is closed"
        with self._write_lock:
            try:
                if self._writer is None:  # closed after an availability error
                    self._writer = self._connect(readonly=False, create=False)
                    self._writer.execute("PRAGMA synchronous = NORMAL")
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                unavailable = _unavailable(error, self._writer)
                if unavailable is None:
                    raise
                self._unavailable_writer()
                raise unavailable from error
            try:
                result = fn(conn, *args)
                conn.execute("COMMIT")
                return result
            except BaseException as error:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the error being raised says more than a failed rollback
                if not isinstance(error, sqlite3.Error):
                    raise
                unavailable = _unavailable(error, conn)
                if unavailable is None:
                    raise
                self._unavailable_writer()
                raise unavailable from error

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
