"""Job logs kept in the PostgreSQL database (jobdash.store.postgres.logs_sql and
log_writer): line numbering across writers, reads by offset like the SQLite store's
files, the per-log cap, the buffered writer across a database outage, and pruning.

Runs against the test session's private PostgreSQL server (skipped, saying why, where
PostgreSQL is not installed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from jobdash.store.interface import StoreUnavailable
from jobdash.store.log_reader import LogSlice
from jobdash.store.postgres import log_writer, logs_sql
from jobdash.store.postgres.store import PostgresStore
from jobdash.store.sqlite.store import SqliteStore

PID = 4242


@pytest.fixture
def pg_store(database_url: str) -> Iterator[PostgresStore]:
    """A PostgresStore on a new database with the schema."""
    store = PostgresStore(database_url)
    yield store
    store.close()


def stored_lines(url: str, job_id: str) -> list[tuple[int, str]]:
    """Return a job's log rows (line number, text) as the table holds them."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT line_no, line FROM job_log_lines WHERE job_id = %s ORDER BY line_no", (job_id,)
        ).fetchall()
    return [(int(number), str(line)) for number, line in rows]


def test_lines_from_several_writers_are_numbered_without_gaps_or_clashes(
    database_url: str, pg_store: PostgresStore
) -> None:
    """Two writers on one job's log (two store instances, as a worker and a host that
    recovers its job would be), writing at once, number the lines 0, 1, 2, … with none
    lost or doubled, and each writer's own lines keep their order."""
    other = PostgresStore(database_url)
    job = pg_store.create("/m", "scan")
    writers = {"a": pg_store.open_log(job), "b": other.open_log(job)}
    start = threading.Barrier(2, timeout=10)

    def write(name: str) -> None:
        start.wait()
        for i in range(100):
            writers[name].write(f"{name}-{i:03d}")
            writers[name].flush()

    threads = [threading.Thread(target=write, args=(name,)) for name in writers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        for writer in writers.values():
            writer.close()
    finally:
        other.close()
    rows = stored_lines(database_url, job["id"])
    assert [number for number, _ in rows] == list(range(200))
    messages = [line.rsplit(" ", 1)[1] for _, line in rows]
    for name in writers:
        assert [m for m in messages if m.startswith(name)] == [f"{name}-{i:03d}" for i in range(100)]
    whole = pg_store.read_log(job, 0, 1000)
    assert whole.total_lines == 200 and [line for _, line in rows] == whole.lines


def test_read_log_answers_like_the_sqlite_store(pg_store: PostgresStore, sqlite_store: SqliteStore) -> None:
    """For the same lines, read_log gives the same LogSlice on both stores for every
    offset and count: from the start, the middle, the end, past the end, the tail
    (offset None), zero lines; and an empty slice for a job without a log."""
    lines = [f"2026-03-10T12:00:{i:02d}.000Z INFO line {i}" for i in range(10)]
    pg_job = pg_store.create("/m", "scan")
    sqlite_job = sqlite_store.create("/m", "scan")
    pg_empty = pg_store.create("/e", "scan")
    sqlite_empty = sqlite_store.create("/e", "scan")
    pg_store.db.write(logs_sql.append_lines, pg_job["id"], list(lines), 1000, "marker")
    path = sqlite_store.log_path(sqlite_job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    cases: list[tuple[int | None, int]] = [
        (0, 5),
        (0, 10),
        (0, 100),
        (3, 4),
        (9, 5),
        (10, 5),
        (11, 5),
        (1000, 1),
        (None, 3),
        (None, 10),
        (None, 100),
        (0, 0),
        (5, 0),
        (None, 0),
    ]
    for offset, count in cases:
        expected = sqlite_store.read_log(sqlite_job, offset, count)
        assert pg_store.read_log(pg_job, offset, count) == expected, (offset, count)
        assert pg_store.read_log(pg_empty, offset, count) == sqlite_store.read_log(sqlite_empty, offset, count)
    assert pg_store.read_log(pg_job, None, 3) == LogSlice(lines[7:], 10, 7)
    assert pg_store.has_log(pg_job) and not pg_store.has_log(pg_empty)
    with pytest.raises(ValueError, match="in the database"):
        pg_store.log_path(pg_job)


def test_the_log_mark_changes_when_lines_are_stored(pg_store: PostgresStore) -> None:
    job = pg_store.create("/m", "scan")
    before = pg_store.log_mark(job)
    with pg_store.open_log(job) as job_log:
        job_log.write("one")
    after = pg_store.log_mark(job)
    assert after != before and pg_store.log_mark(job) == after


def test_a_log_stops_at_its_cap_with_one_marker_line(database_url: str) -> None:
    """A store with log_lines_cap=10 keeps a log's first 10 lines and then exactly one
    marker line saying the limit was reached; later writes are dropped, in one batch or
    many, and the log still counts as present."""
    store = PostgresStore(database_url, log_lines_cap=10)
    try:
        in_one_batch = store.create("/one", "scan")
        with store.open_log(in_one_batch) as job_log:
            for i in range(15):
                job_log.write(f"line {i}")
        line_by_line = store.create("/many", "scan")
        with store.open_log(line_by_line) as job_log:
            for i in range(12):
                job_log.write(f"line {i}")
                job_log.flush()
        for job in (in_one_batch, line_by_line):
            with store.open_log(job) as job_log:
                job_log.write("after the cap")
            found = store.read_log(job, 0, 100)
            assert found.total_lines == 11
            assert [line.rsplit(" ", 2)[-2:] for line in found.lines[:10]] == [["line", str(i)] for i in range(10)]
            assert "limit of 10 lines" in found.lines[10]
            assert sum("limit" in line for line in found.lines) == 1
            assert not any("after the cap" in line for line in found.lines)
            assert store.has_log(job)
            assert len(stored_lines(database_url, job["id"])) == 11
    finally:
        store.close()


def test_the_buffered_writer_shows_the_first_line_at_once_and_the_rest_on_flush(pg_store: PostgresStore) -> None:
    """A log's first line is readable as soon as it is written; later lines written in a
    burst wait in the buffer until flush() (the worker's heartbeat) or close()."""
    job = pg_store.create("/m", "scan")
    job_log = pg_store.open_log(job)
    job_log.write("first")
    assert pg_store.read_log(job, 0, 10).lines[0].endswith("INFO first")
    burst_started = time.monotonic()
    job_log.write("second", level="WARN")
    job_log.write("third")
    if time.monotonic() - burst_started < log_writer.FLUSH_EVERY_S:  # still within one batch window
        assert pg_store.read_log(job, 0, 10).total_lines == 1
    job_log.flush()
    assert [line.split(" ", 1)[1] for line in pg_store.read_log(job, 0, 10).lines] == [
        "INFO first",
        "WARN second",
        "INFO third",
    ]
    job_log.write("fourth")
    job_log.close()
    job_log.close()  # idempotent
    assert pg_store.read_log(job, None, 1).lines[0].endswith("INFO fourth")
    assert pg_store.read_log(job, 0, 10).total_lines == 4


def test_lines_written_while_the_database_is_down_are_written_when_it_is_back(
    pg_cluster: Any, pg_store: PostgresStore, caplog: pytest.LogCaptureFixture
) -> None:
    """The log is advisory: while the server is stopped, writing and flushing neither
    raise nor lose lines; they are kept and written, in order and once, after it is back."""
    job = pg_store.create("/m", "scan")
    job_log = pg_store.open_log(job)
    job_log.write("before")
    pg_cluster.stop_server("fast")
    try:
        job_log.write("during 1")
        job_log.write("during 2")
        with caplog.at_level(logging.WARNING, logger="jobdash.joblog"):
            job_log.flush()
        assert "kept to write later" in caplog.text  # the outage was met, and survived
    finally:
        pg_cluster.start_server()
    job_log.write("after")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        job_log.flush()
        try:
            if pg_store.read_log(job, 0, 10).total_lines >= 4:
                break
        except StoreUnavailable:  # the pool may still be reconnecting
            pass
        time.sleep(0.1)
    job_log.close()
    found = pg_store.read_log(job, 0, 10)
    assert [line.split(" ", 2)[2] for line in found.lines] == ["before", "during 1", "during 2", "after"]


def test_prune_removes_the_log_lines_of_pruned_jobs(database_url: str, pg_store: PostgresStore) -> None:
    """Pruning a finished job deletes its log rows too; a running job's log stays."""
    done = pg_store.create("/done", "scan", priority=1)
    running = pg_store.create("/running", "scan", priority=2)
    for job in (done, running):
        assert pg_store.claim(PID, ("scan",))["id"] == job["id"]  # type: ignore[index]
        with pg_store.open_log(job) as job_log:
            for i in range(3):
                job_log.write(f"line {i}")
    assert pg_store.finish(done["id"], "completed")
    assert pg_store.prune(60, now=datetime.now(UTC) + timedelta(hours=1)) == 1
    assert stored_lines(database_url, done["id"]) == []
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM job_logs WHERE job_id = %s", (done["id"],)).fetchone() == (0,)
    assert not pg_store.has_log(done)
    assert len(stored_lines(database_url, running["id"])) == 3
