"""The SQLite owner: read and write paths, rollback, availability errors, WAL readers."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdash.store.interface import StoreUnavailable
from jobdash.store.sqlite.database import Database
from support.sqlhelpers import write_protected


def insert(conn: sqlite3.Connection, job_id: str, path: str = "/m") -> str:
    """Insert a minimal job and return its id."""
    conn.execute(
        "INSERT INTO jobs (id, file_path, job_type, created_at) VALUES (?, ?, 'scan', '2026-01-01T00:00:00Z')",
        (job_id, path),
    )
    return job_id


def paths(conn: sqlite3.Connection) -> list[str]:
    """Return every job's file_path, by id."""
    return [row[0] for row in conn.execute("SELECT file_path FROM jobs ORDER BY id")]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The database file's path."""
    return tmp_path / "jobdash.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A Database on a fresh file, closed afterwards."""
    database = Database(db_path)
    yield database
    database.close()


@contextlib.contextmanager
def raw_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A separate plain sqlite3 connection (as another process would have), closed afterwards."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def test_write_then_read(db: Database) -> None:
    """write() commits and returns fn's result; read() sees it."""
    assert db.write(insert, "a") == "a"
    assert db.read(paths) == ["/m"]


def test_read_and_write_pass_extra_arguments(db: Database) -> None:
    """Extra positional arguments reach fn after the connection."""
    db.write(insert, "a", "/movies")
    assert db.read(lambda conn, prefix: [p for p in paths(conn) if p.startswith(prefix)], "/mov") == ["/movies"]


def test_write_is_visible_to_a_separate_connection(db: Database, db_path: Path) -> None:
    """A write is committed to the file, not held in an open transaction."""
    db.write(insert, "a")
    with raw_connection(db_path) as raw:
        assert paths(raw) == ["/m"]


def test_a_write_that_raises_rolls_back(db: Database) -> None:
    """If fn raises after writing, nothing it wrote is kept and the error propagates."""
    db.write(insert, "keep")

    def half_done(conn: sqlite3.Connection) -> None:
        insert(conn, "lost")
        conn.execute("UPDATE jobs SET file_path = '/changed'")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        db.write(half_done)
    assert db.read(paths) == ["/m"]
    assert db.write(insert, "next") == "next"  # the writer is usable again
    assert len(db.read(paths)) == 2


def test_a_sql_error_in_a_write_rolls_back_and_is_not_unavailable(db: Database) -> None:
    """A plain SQL mistake is a sqlite3 error (a bug), not StoreUnavailable."""

    def bad(conn: sqlite3.Connection) -> None:
        insert(conn, "lost")
        conn.execute("SELECT * FROM no_such_table")

    with pytest.raises(sqlite3.OperationalError) as excinfo:
        db.write(bad)
    assert not isinstance(excinfo.value, StoreUnavailable)
    assert db.read(paths) == []


def test_a_constraint_violation_rolls_back(db: Database) -> None:
    """A duplicate id fails the whole write."""
    db.write(insert, "a")
    with pytest.raises(sqlite3.IntegrityError):
        db.write(lambda conn: (insert(conn, "b"), insert(conn, "a")))
    assert db.read(lambda conn: [r[0] for r in conn.execute("SELECT id FROM jobs")]) == ["a"]


def test_reads_from_several_threads(db: Database) -> None:
    """Each thread reads through its own connection, all seeing committed data."""
    db.write(insert, "a")
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda: results.append(db.read(paths))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["/m"]] * 4


def test_readers_cannot_write(db: Database) -> None:
    """The read path is read-only: a write attempted through it fails."""
    with pytest.raises((StoreUnavailable, sqlite3.OperationalError)):
        db.read(insert, "a")
    assert db.read(paths) == []


def test_locked_database_write_is_store_unavailable(db_path: Path) -> None:
    """While another connection holds BEGIN EXCLUSIVE, a write fails as StoreUnavailable after the busy timeout."""
    db = Database(db_path, busy_timeout_ms=50)
    try:
        with raw_connection(db_path) as other:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreUnavailable) as excinfo:
                db.write(insert, "a")
            assert "busy" in str(excinfo.value) or "locked" in str(excinfo.value)
            assert str(excinfo.value).startswith("job store unavailable:")
            # WAL: reads are still served while the other connection holds its lock.
            assert db.read(paths) == []
        assert db.write(insert, "a") == "a"  # usable again once the lock is gone
    finally:
        db.close()


def test_opening_a_locked_rollback_journal_database_is_store_unavailable(db_path: Path) -> None:
    """A not-yet-WAL database locked by another process cannot be opened: StoreUnavailable, not a crash."""
    with raw_connection(db_path) as other:
        other.execute("CREATE TABLE placeholder (x)")
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable):
            Database(db_path, busy_timeout_ms=50)


def test_read_only_file_write_is_store_unavailable(db_path: Path) -> None:
    """On a read-only database file, reads work and writes raise StoreUnavailable saying read-only."""
    Database(db_path).close()
    with write_protected(db_path):
        db = Database(db_path)
        try:
            assert db.read(paths) == []
            with pytest.raises(StoreUnavailable, match="read-only"):
                db.write(insert, "a")
        finally:
            db.close()


def test_read_only_empty_file_cannot_be_migrated(db_path: Path) -> None:
    """A read-only file that still needs its schema cannot be opened: StoreUnavailable."""
    db_path.touch()
    with write_protected(db_path):
        with pytest.raises(StoreUnavailable, match="read-only"):
            Database(db_path)


def test_a_file_that_is_not_a_database_is_store_unavailable(db_path: Path) -> None:
    """A garbage file is reported as unavailable (not a database), not as a crash."""
    db_path.write_bytes(b"this is not an sqlite database at all" * 100)
    with pytest.raises(StoreUnavailable, match="not a database"):
        Database(db_path)


def test_a_missing_directory_is_store_unavailable(tmp_path: Path) -> None:
    """A database in a directory that does not exist cannot be opened."""
    with pytest.raises(StoreUnavailable, match="cannot be opened"):
        Database(tmp_path / "missing" / "jobdash.db")


def test_readers_are_not_blocked_by_an_open_write_transaction(db: Database, db_path: Path) -> None:
    """WAL: with another connection mid-write (BEGIN IMMEDIATE + UPDATE), read() returns the old value."""
    db.write(insert, "a", "/old")
    with raw_connection(db_path) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE jobs SET file_path = '/new'")
        assert db.read(paths) == ["/old"]
        other.execute("COMMIT")
    assert db.read(paths) == ["/new"]


def test_read_is_one_snapshot(db: Database, db_path: Path) -> None:
    """Everything fn reads comes from one snapshot, even if another connection commits meanwhile."""
    db.write(insert, "a")

    def read_twice(conn: sqlite3.Connection) -> tuple[int, int]:
        first = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        with raw_connection(db_path) as other:
            insert(other, "b")
        second = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        return first, second

    assert db.read(read_twice) == (1, 1)
    assert len(db.read(paths)) == 2


def test_busy_timeout_is_set_on_connections(db_path: Path) -> None:
    """The configured busy timeout reaches both the writer and the readers."""
    db = Database(db_path, busy_timeout_ms=1234)
    try:
        assert db.read(lambda conn: conn.execute("PRAGMA busy_timeout").fetchone()[0]) == 1234
        assert db.write(lambda conn: conn.execute("PRAGMA busy_timeout").fetchone()[0]) == 1234
    finally:
        db.close()


def test_close_is_idempotent_and_blocks_further_use(db_path: Path) -> None:
    """close() can be called twice; a closed Database refuses reads and writes."""
    db = Database(db_path)
    db.read(paths)
    db.close()
    db.close()
    with pytest.raises(AssertionError):
        db.read(paths)
    with pytest.raises(AssertionError):
        db.write(insert, "a")


def test_text_that_is_not_utf8_reads_with_replacement_characters(db: Database, db_path: Path) -> None:
    """A row another process wrote with a file name's raw bytes (invalid UTF-8) reads with
    U+FFFD in their place, instead of failing every read that touches it."""
    with raw_connection(db_path) as conn:
        insert(conn, "a")
        conn.execute("UPDATE jobs SET file_path = CAST(x'2f6d2fff6e616d65' AS TEXT) WHERE id = 'a'")
    assert db.read(paths) == ["/m/\ufffdname"]
    assert db.write(paths) == ["/m/\ufffdname"]


def _empty_in_place(db_path: Path) -> bytes:
    """Checkpoint the WAL into the file, then truncate the file to nothing (as a failed
    restore or a full disk might leave it); return its bytes to put back."""
    with raw_connection(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    saved = db_path.read_bytes()
    with open(db_path, "r+b") as handle:
        handle.truncate(0)
    return saved


def _put_back(db_path: Path, saved: bytes) -> None:
    with open(db_path, "r+b") as handle:
        handle.write(saved)


def test_an_emptied_file_is_unavailable_and_every_path_recovers_when_it_is_back(db: Database, db_path: Path) -> None:
    """Drill 3: the file emptied under a running process is StoreUnavailable on every path
    (not a "no such table" bug error), and once the file is back each path works again
    without reopening the Database: a connection that hit the error is replaced."""
    db.write(insert, "a")
    assert db.read(paths) == ["/m"] and db.read_immediate(paths) == ["/m"]
    saved = _empty_in_place(db_path)
    for attempt in (lambda: db.read(paths), lambda: db.read_immediate(paths), lambda: db.write(insert, "b")):
        with pytest.raises(StoreUnavailable, match="job store unavailable"):
            attempt()
    _put_back(db_path, saved)
    assert db.read(paths) == ["/m"]
    assert db.read_immediate(paths) == ["/m"]
    assert db.write(insert, "b") == "b"
    assert db.read(paths) == ["/m", "/m"]


def test_a_file_swapped_for_another_database_is_unavailable_not_a_bug(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    """The file replaced in place by some other SQLite database (no jobdash schema,
    user_version 0): "no such table" then means the store is gone, not a bug in our SQL."""
    db.write(insert, "a")
    other = tmp_path / "other.db"
    with raw_connection(other) as conn:
        conn.execute("CREATE TABLE unrelated (x)")
    saved = _empty_in_place(db_path)
    _put_back(db_path, other.read_bytes())
    with pytest.raises(StoreUnavailable, match="no jobdash tables"):
        db.read(paths)
    with pytest.raises(StoreUnavailable, match="no jobdash tables"):
        db.write(insert, "b")
    _put_back(db_path, saved)
    assert db.read(paths) == ["/m"]


def test_a_reopened_writer_never_creates_a_missing_file(db: Database, db_path: Path) -> None:
    """After an availability error the writer is reopened without "create": a store
    whose file has vanished stays unavailable rather than silently starting empty."""
    db.write(insert, "a")
    _empty_in_place(db_path)
    with pytest.raises(StoreUnavailable):
        db.write(insert, "b")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreUnavailable, match="cannot be opened"):
        db.write(insert, "c")
    assert not db_path.exists()
