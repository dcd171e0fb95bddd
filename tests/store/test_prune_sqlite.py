"""Pruning on the SQLite store (jobdash.store.sqlite.store): the log files under logs/ go
with their jobs and nothing outside logs/ is touched; rows other processes wrote; one
transaction per batch. What every store does is in test_prune.py."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobdash.store.interface import Row
from jobdash.store.sqlite.store import SqliteStore
from support.sqlhelpers import insert_row, set_columns

PID = os.getpid()
DAYS_90 = 90 * 86400.0


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A SqliteStore in tmp_path/data (tmp_path itself stays free for files outside it)."""
    data = tmp_path / "data"
    data.mkdir()
    job_store = SqliteStore(data)
    yield job_store
    job_store.close()


def later(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def ended(store: SqliteStore, **columns: Any) -> Row:
    """Queue, run and complete a scan (then set ``columns`` in SQL); return its row."""
    job = store.create("/media", "scan")
    assert store.claim(PID, ("scan",))["id"] == job["id"]  # type: ignore[index]
    assert store.finish(job["id"], "completed")
    if columns:
        set_columns(store, job["id"], **columns)
    row = store.get(job["id"])
    assert row is not None
    return row


def test_the_log_and_its_gz_sibling_are_removed(sqlite_store: SqliteStore) -> None:
    """``logs/<id>.log`` and ``logs/<id>.log.gz`` go; a job without a log file is fine."""
    job, no_log = ended(sqlite_store), ended(sqlite_store)
    plain = sqlite_store.log_path(job)
    assert plain == sqlite_store.data_dir / "logs" / f"{job['id']}.log"
    plain.write_text("a line\n")
    gzipped = plain.with_name(plain.name + ".gz")
    gzipped.write_bytes(b"\x1f\x8b")
    other = sqlite_store.logs_dir / "not-a-job.log"
    other.write_text("kept\n")

    assert sqlite_store.prune(DAYS_90, now=later(100)) == 2

    assert not plain.exists() and not gzipped.exists()
    assert not sqlite_store.log_path(no_log).exists()
    assert other.read_text() == "kept\n"


def test_a_stored_log_path_inside_logs_is_removed(sqlite_store: SqliteStore) -> None:
    """A stored relative log_path that lies under logs/ is removed like the default."""
    (sqlite_store.logs_dir / "2026").mkdir()
    job = ended(sqlite_store, log_path="logs/2026/scan.log")
    path = sqlite_store.log_path(job)
    path.write_text("a line\n")

    assert sqlite_store.prune(DAYS_90, now=later(100)) == 1

    assert not path.exists() and path.parent.is_dir()


def test_stored_log_paths_outside_logs_are_never_removed(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    """A stored log_path elsewhere (absolute, in the data dir, climbing out of logs/, or
    through a symlinked folder) keeps its file: it may be anything."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.log").write_text("someone's file\n")
    (sqlite_store.logs_dir / "link").symlink_to(elsewhere, target_is_directory=True)
    (sqlite_store.data_dir / "custom").mkdir()
    (sqlite_store.data_dir / "custom" / "job.log").write_text("beside the database\n")
    stored = [str(elsewhere / "x.log"), "custom/job.log", "logs/../jobdash.db", "logs/link/x.log"]
    for log_path in stored:
        ended(sqlite_store, log_path=log_path)

    assert sqlite_store.prune(DAYS_90, now=later(100)) == 4

    assert (elsewhere / "x.log").read_text() == "someone's file\n"
    assert (sqlite_store.data_dir / "custom" / "job.log").read_text() == "beside the database\n"
    assert (sqlite_store.data_dir / "jobdash.db").stat().st_size > 0
    assert sqlite_store.prune(DAYS_90, now=later(100)) == 0  # the database still works


def test_a_symlinked_log_is_unlinked_not_its_target(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    """A log that is a symlink in logs/ is removed as a link; the file it points to stays."""
    job = ended(sqlite_store)
    target = tmp_path / "target.log"
    target.write_text("not ours\n")
    sqlite_store.log_path(job).symlink_to(target)

    assert sqlite_store.prune(DAYS_90, now=later(100)) == 1

    assert not sqlite_store.log_path(job).is_symlink()
    assert target.read_text() == "not ours\n"


def test_a_log_that_cannot_be_removed_is_reported_and_pruning_goes_on(
    sqlite_store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A log path that cannot be unlinked (here a directory) is logged as a warning; the
    job is still pruned, and so are the ones in later batches."""
    stuck = ended(sqlite_store)
    sqlite_store.log_path(stuck).mkdir()
    others = [ended(sqlite_store) for _ in range(2)]

    with caplog.at_level(logging.WARNING, logger="jobdash.store"):
        assert sqlite_store.prune(DAYS_90, now=later(100), batch=1) == 3

    assert [sqlite_store.get(job["id"]) for job in (stuck, *others)] == [None] * 3
    assert any(stuck["id"] in record.getMessage() for record in caplog.records)


def test_each_batch_is_one_transaction(sqlite_store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five jobs in batches of two: three writes (2, 2, 1), the last one part-filled."""
    for _ in range(5):
        ended(sqlite_store)
    counts: list[int] = []
    write = sqlite_store.db.write

    def counting_write(fn: Any, *args: Any) -> Any:
        result = write(fn, *args)
        counts.append(len(result))
        return result

    monkeypatch.setattr(sqlite_store.db, "write", counting_write)
    assert sqlite_store.prune(DAYS_90, now=later(100), batch=2) == 5
    assert counts == [2, 2, 1]


def test_rows_of_other_writers_compare_as_instants(sqlite_store: SqliteStore) -> None:
    """completed_at written with an offset is compared as the instant it names, not as text
    (12:00+01:00 is before 11:30Z; 11:00-01:00 is after it). A finished row without
    completed_at, or with a non-UUID id and no log_path, does not break the run."""
    cutoff = datetime(2026, 1, 1, 11, 30, tzinfo=UTC)

    def row(status: str, completed_at: str | None, job_id: str | None = None) -> str:
        job_id = job_id or str(uuid.uuid4())
        insert_row(
            sqlite_store.data_dir,
            {
                "id": job_id,
                "file_path": "/m",
                "job_type": "process",
                "status": status,
                "created_at": "2025-12-31T00:00:00+00:00",
                "completed_at": completed_at,
            },
        )
        return job_id

    before = row("completed", "2026-01-01T12:00:00+01:00")
    not_uuid = row("failed", "2026-01-01T10:00:00Z", job_id="legacy-42")
    after = row("completed", "2026-01-01T11:00:00-01:00")
    unknown_end = row("cancelled", None)
    unreadable_end = row("failed", "yesterday")
    old_running = row("running", "2025-01-01T00:00:00Z")

    assert sqlite_store.prune(3600, now=cutoff + timedelta(hours=1)) == 2

    assert sqlite_store.get(before) is None
    assert sqlite_store.ids_with_prefix(not_uuid) == []  # get() looks up UUIDs only
    for kept in (after, unknown_end, unreadable_end, old_running):
        assert sqlite_store.get(kept) is not None
