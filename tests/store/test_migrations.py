"""Numbered schema migrations tracked with PRAGMA user_version (jobdash.store.sqlite.migrations)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdash.store.sqlite import migrations
from jobdash.store.sqlite.database import Database
from jobdash.store.sqlite.migrations import LATEST, MIGRATIONS, current_version, migrate
from jobdash.store.sqlite.store import DB_FILENAME

INDEXES = {
    "idx_jobs_created",
    "idx_jobs_status_created",
    "idx_jobs_type_created",
    "idx_jobs_type_status_created",
    "idx_jobs_priority_created",
    "idx_jobs_claim",
}
TRIGGERS = {"jobs_version_insert", "jobs_version_update", "jobs_version_delete"}
JOB_COLUMNS = [
    "id",
    "file_path",
    "job_type",
    "status",
    "priority",
    "policy_name",
    "created_at",
    "started_at",
    "completed_at",
    "progress_percent",
    "progress_json",
    "worker_pid",
    "worker_heartbeat",
    "output_path",
    "error_message",
    "summary_json",
    "log_path",
    "params_json",  # added by migration 4
    "worker_id",  # added by migration 5
    "progress_updated_at",  # added by migration 7
]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A fresh, empty database file opened in autocommit mode, as Database opens it."""
    connection = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
    yield connection
    connection.close()


def schema(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Return (type, name) of every table, index and trigger."""
    rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {(t, n) for t, n in rows}


def schema_sql(conn: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
    """Return the full schema text, for before/after comparisons."""
    return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def test_latest_is_the_number_of_migrations() -> None:
    """LATEST counts the migration steps."""
    assert LATEST == len(MIGRATIONS) >= 2


def test_empty_database_is_at_version_zero(conn: sqlite3.Connection) -> None:
    """A new file starts at user_version 0."""
    assert current_version(conn) == 0


def test_migrate_from_empty_reaches_latest(conn: sqlite3.Connection) -> None:
    """From nothing, migrate() builds the whole schema and sets user_version to LATEST."""
    assert migrate(conn) == LATEST
    assert current_version(conn) == LATEST
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    found = schema(conn)
    assert {("table", "jobs"), ("table", "jobs_version")} <= found
    assert {("index", name) for name in INDEXES} <= found
    assert {("trigger", name) for name in TRIGGERS} <= found
    assert not conn.in_transaction


def test_jobs_table_keeps_the_orchestrator_column_names(conn: sqlite3.Connection) -> None:
    """The jobs table has exactly the established column names, in order (params_json, added
    later, last)."""
    migrate(conn)
    assert [row[1] for row in conn.execute("PRAGMA table_info(jobs)")] == JOB_COLUMNS


def test_version_counter_starts_at_zero_and_triggers_move_it(conn: sqlite3.Connection) -> None:
    """jobs_version has one row, and insert, update and delete each move it."""
    migrate(conn)
    version = lambda: conn.execute("SELECT version FROM jobs_version").fetchall()  # noqa: E731
    assert version() == [(0,)]
    conn.execute(
        "INSERT INTO jobs (id, file_path, job_type, created_at) VALUES ('a', '/m', 'scan', '2026-01-01T00:00:00.000Z')"
    )
    assert version() == [(1,)]
    conn.execute("UPDATE jobs SET priority = 5")
    assert version() == [(2,)]
    conn.execute("DELETE FROM jobs")
    assert version() == [(3,)]


def test_created_at_from_other_writers_is_normalised(conn: sqlite3.Connection) -> None:
    """Rows written with "+00:00" or whole-second "Z" are stored in the one sortable format."""
    migrate(conn)
    for job_id, stamp in [
        ("a", "2026-01-01T00:00:00Z"),
        ("b", "2026-01-01T00:00:00.300+00:00"),
        ("c", "2026-01-01T02:00:00.500+02:00"),
        ("d", "not a time"),
    ]:
        conn.execute(
            "INSERT INTO jobs (id, file_path, job_type, created_at) VALUES (?, '/m', 'scan', ?)",
            (job_id, stamp),
        )
    rows = dict(conn.execute("SELECT id, created_at FROM jobs").fetchall())
    assert rows == {
        "a": "2026-01-01T00:00:00.000Z",
        "b": "2026-01-01T00:00:00.300Z",
        "c": "2026-01-01T00:00:00.500Z",
        "d": "not a time",
    }
    conn.execute("UPDATE jobs SET created_at = '2026-02-01T00:00:00+00:00' WHERE id = 'a'")
    assert conn.execute("SELECT created_at FROM jobs WHERE id = 'a'").fetchone()[0] == ("2026-02-01T00:00:00.000Z")


def test_jobs_defaults(conn: sqlite3.Connection) -> None:
    """A row inserted with only the required columns is queued, priority 100, 0 %."""
    migrate(conn)
    conn.execute("INSERT INTO jobs (id, file_path, job_type, created_at) VALUES ('a', '/m', 'scan', 'now')")
    assert conn.execute("SELECT status, priority, progress_percent FROM jobs").fetchone() == ("queued", 100, 0)


def test_rerunning_is_a_no_op(conn: sqlite3.Connection) -> None:
    """A second migrate() changes neither the schema, nor the data, nor the change counter."""
    migrate(conn)
    conn.execute("INSERT INTO jobs (id, file_path, job_type, created_at) VALUES ('a', '/m', 'scan', 'now')")
    before = (
        schema_sql(conn),
        conn.execute("SELECT * FROM jobs").fetchall(),
        conn.execute("SELECT * FROM jobs_version").fetchall(),
    )
    assert migrate(conn) == LATEST
    assert migrate(conn) == LATEST
    after = (
        schema_sql(conn),
        conn.execute("SELECT * FROM jobs").fetchall(),
        conn.execute("SELECT * FROM jobs_version").fetchall(),
    )
    assert after == before
    assert current_version(conn) == LATEST


def test_a_database_part_way_up_is_completed(conn: sqlite3.Connection) -> None:
    """A database left at step 1 (with data) is brought to LATEST keeping its rows."""
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO jobs (id, file_path, job_type, created_at) VALUES ('a', '/m', 'scan', 'now')")
    assert migrate(conn) == LATEST
    assert conn.execute("SELECT id FROM jobs").fetchall() == [("a",)]
    assert ("trigger", "jobs_version_update") in schema(conn)


def test_migration_7_adds_progress_updated_at_null_for_existing_rows(conn: sqlite3.Connection) -> None:
    """A database at step 6 with jobs (one running, with progress) gains the column; every
    existing row has NULL there (not known), the rest of each row is kept."""
    for number, statements in enumerate(MIGRATIONS[:6], start=1):
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute(
        "INSERT INTO jobs (id, file_path, job_type, status, created_at, started_at, progress_json)"
        " VALUES ('a', '/m', 'scan', 'running', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', ?)",
        ('{"processed": 1, "total": 2, "unit": "files"}',),
    )
    conn.execute("INSERT INTO jobs (id, file_path, job_type, created_at) VALUES ('b', '/m', 'scan', 'now')")
    before = conn.execute("SELECT * FROM jobs ORDER BY id").fetchall()
    assert migrate(conn) == LATEST
    assert conn.execute("SELECT id, progress_updated_at FROM jobs ORDER BY id").fetchall() == [("a", None), ("b", None)]
    after = conn.execute(f"SELECT {', '.join(JOB_COLUMNS[:-1])} FROM jobs ORDER BY id").fetchall()
    assert after == before


def test_progress_updated_at_moves_the_change_counter_a_heartbeat_does_not(conn: sqlite3.Connection) -> None:
    """progress_updated_at is shown, so a write of it alone (another program's) moves the
    change counter; a heartbeat still does not."""
    migrate(conn)
    version = lambda: conn.execute("SELECT version FROM jobs_version").fetchone()[0]  # noqa: E731
    conn.execute("INSERT INTO jobs (id, file_path, job_type, created_at) VALUES ('a', '/m', 'scan', 'now')")
    start = version()
    conn.execute("UPDATE jobs SET worker_heartbeat = '2026-01-01T00:00:00.000Z'")
    assert version() == start
    conn.execute("UPDATE jobs SET progress_updated_at = '2026-01-01T00:00:00.000Z'")
    assert version() == start + 1


def test_newer_database_is_refused_with_a_clear_error(conn: sqlite3.Connection) -> None:
    """A database from a newer jobdash is refused, saying which versions and what to do."""
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError) as excinfo:
        migrate(conn)
    message = str(excinfo.value)
    assert f"version {LATEST + 1}" in message
    assert "newer" in message and str(LATEST) in message
    assert "upgrade jobdash" in message
    assert current_version(conn) == LATEST + 1
    assert schema(conn) == set()


def test_database_refuses_a_newer_file(tmp_path: Path) -> None:
    """Opening a newer database through Database raises the same clear error."""
    path = tmp_path / "jobs.db"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST + 5}")
    with pytest.raises(RuntimeError, match="newer than this jobdash supports"):
        Database(path)


def open_fds_to(path: Path) -> list[str]:
    """Return this process's open file descriptors that point at `path`."""
    fd_dir = Path("/proc/self/fd")
    found = []
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            if os.readlink(fd_dir / fd) == str(path.resolve()):
                found.append(fd)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_refusing_a_newer_file_closes_its_connection(tmp_path: Path) -> None:
    """A Database that refuses to open does not leave its connection open behind the error."""
    path = tmp_path / "jobs.db"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST + 1}")
    assert open_fds_to(path) == []
    with pytest.raises(RuntimeError):
        Database(path)
    # The exception (and its traceback, as a logger or crash reporter would keep it) is
    # still alive here; the database file must already be closed.
    assert open_fds_to(path) == []


def test_failed_step_rolls_back_whole(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step that fails part-way leaves the database at the previous whole step."""
    broken = [*MIGRATIONS, ["CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL"]]
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    monkeypatch.setattr(migrations, "LATEST", len(broken))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn)
    assert current_version(conn) == len(MIGRATIONS)
    assert ("table", "extra") not in schema(conn)
    assert ("table", "jobs") in schema(conn)
    assert not conn.in_transaction


def test_database_turns_on_wal(tmp_path: Path) -> None:
    """A Database puts the file in WAL mode, which persists for other connections."""
    path = tmp_path / "jobs.db"
    db = Database(path)
    try:
        with contextlib.closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
    finally:
        db.close()


def test_database_on_an_existing_latest_file_is_a_no_op(tmp_path: Path) -> None:
    """Opening a migrated database again keeps it as it is."""
    path = tmp_path / "jobs.db"
    Database(path).close()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        before = schema_sql(raw)
    Database(path).close()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert schema_sql(raw) == before


def test_processes_starting_at_once_on_a_new_data_dir_all_open_it(tmp_path: Path) -> None:
    """A server, a worker and a CLI started together each migrate a new database; each step
    is applied once (a step re-checks the version under the write lock), none fails."""
    script = "import sys; from jobdash.store.sqlite.store import SqliteStore; SqliteStore(sys.argv[1]).close()"
    for round_ in range(5):
        data = tmp_path / f"data{round_}"
        data.mkdir()
        procs = [
            subprocess.Popen([sys.executable, "-c", script, str(data)], stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        errors = [proc.communicate(timeout=60)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 6, errors
        conn = sqlite3.connect(data / DB_FILENAME)
        try:
            assert current_version(conn) == LATEST
        finally:
            conn.close()
