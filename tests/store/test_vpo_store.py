"""The read-only VPO source over a copy of a real VPO library database (jobdash.store.vpo).

The fixture in ``shared/fixtures/vpo-library`` was made by VPO's own code (schema 27,
15 jobs in all five statuses, their logs, VPO's own ``vpo.log``). Every test works on a
copy; the original is checked unchanged at the end of the module.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdash.model.items import detail_item, list_item
from jobdash.model.list_query import ListQuery
from jobdash.store.interface import ReadOnlyStore
from jobdash.store.vpo.connection import VpoOpenError
from jobdash.store.vpo.store import VpoStore, open_vpo
from support.vpo import FIXTURE, copy_fixture, snapshot

RUNNING_TRANSCODE = "1b6f405b-c429-4e7a-a128-9a73d3efd33e"
FIRST_SCAN = "5e500325-fede-44e3-8b72-ae92218e6fe6"
CLI_PROCESS = "2fc96ecb-ef93-4b13-944f-f29b07143470"


ORIGINAL = snapshot(FIXTURE) if FIXTURE.is_dir() else {}
pytestmark = pytest.mark.skipif(not ORIGINAL, reason=f"the VPO fixture is not at {FIXTURE}")


@pytest.fixture(scope="module", autouse=True)
def the_fixture_stays_unchanged() -> Iterator[None]:
    yield
    assert snapshot(FIXTURE) == ORIGINAL, "the shared VPO fixture was changed"


@pytest.fixture(autouse=True)
def look_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store looks whether VPO started or stopped at most every 0.1 s; these tests
    act faster than that, so it looks on every call here."""
    from jobdash.store.vpo import connection

    monkeypatch.setattr(connection, "LOOK_EVERY_S", 0.0)


@pytest.fixture
def vpo(tmp_path: Path) -> Path:
    """A writable copy of the fixture folder."""
    return copy_fixture(tmp_path / "vpo")


@pytest.fixture
def store(vpo: Path) -> Iterator[VpoStore]:
    opened = open_vpo(vpo / "library.db")
    yield opened
    opened.close()


def all_jobs(store: VpoStore) -> list[dict]:
    rows, total = store.list(ListQuery(limit=100))
    assert total == len(rows)
    return rows


def test_every_fixture_job_is_read(store: VpoStore) -> None:
    rows = all_jobs(store)
    assert len(rows) == 15 and store.schema_version == 27
    assert {row["status"] for row in rows} == {"queued", "running", "completed", "failed", "cancelled"}
    assert store.job_types() == ["apply", "move", "process", "prune", "scan", "transcode"]
    for row in rows:  # every row becomes both API items without error
        list_item(row)
        detail_item(row, has_logs=store.has_log(row))
        # VPO has no such column: when progress last changed is not known.
        assert row["progress_updated_at"] is None and list_item(row)["progress_updated_at"] is None


def test_rows_map_to_what_the_pages_show(store: VpoStore) -> None:
    """Timestamps in Z; a running transcode's media time and duration; a scan's counts in
    files and its summary in words; origin and batch id."""
    transcode = list_item(store.get(RUNNING_TRANSCODE))
    assert (transcode["processed_count"], transcode["total_count"], transcode["progress_unit"]) == (42, 100, "seconds")
    assert transcode["created_at"] == "2026-12-06T13:20:03.322Z" and transcode["progress_percent"] == 42.5
    scan = detail_item(store.get(FIRST_SCAN), has_logs=False)
    assert (scan["processed_count"], scan["total_count"], scan["progress_unit"]) == (4, 4, "files")
    assert scan["summary"] == "Scanned 4 of 4 files: 0 skipped (unchanged), 4 added, 0 removed; no errors."
    process = detail_item(store.get(CLI_PROCESS), has_logs=True)
    assert (process["origin"], process["batch_id"]) == ("cli", "6da3d69e-a14d-4309-88f9-4e5b236e39e0")
    assert process["summary"] == "1 phase completed, no changes."


def test_filters_sorts_and_pages_use_vpo_order(store: VpoStore) -> None:
    rows, total = store.list(ListQuery(statuses=("queued",), types=("transcode", "move")))
    assert total == 2 and {row["job_type"] for row in rows} == {"transcode", "move"}
    newest = [row["created_at"] for row in store.list(ListQuery(limit=100))[0]]
    assert newest == sorted(newest, reverse=True)
    by_priority = store.list(ListQuery(sort="priority", limit=5, offset=5))[0]
    assert len(by_priority) == 5
    assert store.list(ListQuery(since="24h"))[1] in (0, 15)  # the fixture's jobs are from one moment


def test_logs_plain_gzipped_missing_and_never_vpo_log(store: VpoStore, vpo: Path) -> None:
    job = store.get(RUNNING_TRANSCODE)
    plain = store.read_log(job, None, 200)
    assert plain.total_lines == 7 and plain.lines[0].startswith("[2026-12-06T13:20:03.3")
    log = vpo / "logs" / f"{RUNNING_TRANSCODE}.log"
    with gzip.open(log.with_name(log.name + ".gz"), "wb") as archived:
        archived.write(log.read_bytes())
    log.unlink()  # VPO archived it
    assert store.read_log(job, 2, 3).lines == plain.lines[2:5] and store.has_log(job)
    no_log = store.get(FIRST_SCAN)
    assert not store.has_log(no_log) and store.read_log(no_log, None, 10).total_lines == 0
    with sqlite3.connect(vpo / "library.db") as conn:  # a row pointing at VPO's own log
        conn.execute("UPDATE jobs SET log_path = 'logs/vpo.log' WHERE id = ?", (FIRST_SCAN,))
    pointed = store.get(FIRST_SCAN)
    assert not store.has_log(pointed) and store.read_log(pointed, None, 10).lines == []


def test_every_write_is_refused(store: VpoStore) -> None:
    for call in (
        lambda: store.create("/m", "scan"),
        lambda: store.cancel(RUNNING_TRANSCODE),
        lambda: store.claim(1, ("scan",)),
        lambda: store.register_worker("h", 1, ("scan",)),
        lambda: store.finish(RUNNING_TRANSCODE, "failed"),
        lambda: store.prune(86400.0),
    ):
        with pytest.raises(ReadOnlyStore, match="VPO library database read-only"):
            call()
    assert store.recover_stale(1) == [] and store.workers() == []
    assert store.read_only and "queue and cancel jobs with VPO" in store.read_only_reason


def test_reading_a_stopped_vpos_database_writes_nothing(vpo: Path) -> None:
    """With VPO stopped (no -wal beside the database), jobdash reads the file as immutable:
    the folder is byte for byte the same afterwards, no -wal or -shm created."""
    before = snapshot(vpo)
    opened = open_vpo(vpo / "library.db")
    for row in all_jobs(opened):
        opened.read_log(row, None, 50)
    opened.version()
    opened.close()
    assert snapshot(vpo) == before
    assert sorted(p.name for p in vpo.iterdir()) == ["library.db", "logs"]


def test_commits_by_vpo_move_the_version_and_show(store: VpoStore, vpo: Path) -> None:
    """VPO's worker writing (its own connection, -wal and -shm appear): the data version
    moves on each commit and the change is read, progress included."""
    first = store.version()
    assert store.version() == first
    vpo_conn = sqlite3.connect(vpo / "library.db", isolation_level=None)
    try:
        vpo_conn.execute("PRAGMA journal_mode = WAL")
        vpo_conn.execute(
            "UPDATE jobs SET progress_percent = 50.0, progress_json = ? WHERE id = ?",
            (
                json.dumps(
                    {"frame": 1200, "fps": 48.0, "bitrate": "2431kbits/s", "speed": 2.0, "out_time_seconds": 50.0}
                ),
                RUNNING_TRANSCODE,
            ),
        )
        moved = store.version()
        assert moved != first
        item = list_item(store.get(RUNNING_TRANSCODE))
        assert (item["processed_count"], item["total_count"]) == (50, 100)
        assert store.version() == moved, "no commit, no change"
        vpo_conn.execute("DELETE FROM jobs WHERE id = ?", (FIRST_SCAN,))  # VPO's pruning
        assert store.version() != moved and store.get(FIRST_SCAN) is None
    finally:
        vpo_conn.close()


@pytest.mark.parametrize(
    "status, progress_json, summary_json, expected_status",
    [
        ("paused", None, None, "unknown"),
        ("running", "{not json", "[1,2]", "running"),
        ("running", '{"out_time_seconds": "soon"}', None, "running"),
    ],
)
def test_corrupt_rows_show_with_a_fallback_never_hidden(
    vpo: Path, status: str, progress_json: str | None, summary_json: str | None, expected_status: str
) -> None:
    with sqlite3.connect(vpo / "library.db") as conn:
        # A status VPO's CHECK would refuse: a newer VPO, or a row mended by hand.
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute(
            "UPDATE jobs SET status = ?, progress_json = ?, summary_json = ?, file_path = CAST(? AS TEXT) WHERE id = ?",
            (status, progress_json, summary_json, b"/media/\xff\xfename.mkv", RUNNING_TRANSCODE),
        )
    opened = open_vpo(vpo / "library.db")
    try:
        rows = all_jobs(opened)
        assert len(rows) == 15
        item = detail_item(opened.get(RUNNING_TRANSCODE), has_logs=True)
        assert item["status"] == expected_status and "\ufffd" in item["file_path"]
        assert item["summary_raw"] is None or isinstance(item["summary_raw"], dict)
    finally:
        opened.close()


def test_an_older_schema_with_other_columns_in_another_order(tmp_path: Path) -> None:
    """Schema 8 (no origin or batch_id, columns in their old order) is read by name."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO _meta VALUES ('schema_version', '8')")
        conn.execute(
            "CREATE TABLE jobs (status TEXT, id TEXT PRIMARY KEY, job_type TEXT, file_path TEXT, priority INTEGER,"
            " created_at TEXT, progress_percent REAL, summary_json TEXT, log_path TEXT)"
        )
        conn.execute(
            "INSERT INTO jobs VALUES ('completed', '0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11', 'scan', '/m', 100,"
            " '2024-01-02T03:04:05.000006+00:00', 100.0, NULL, NULL)"
        )
    opened = open_vpo(path)
    try:
        (row,) = all_jobs(opened)
        item = detail_item(row, has_logs=False)
        assert (item["status"], item["origin"], item["created_at"]) == ("completed", None, "2024-01-02T03:04:05.000Z")
    finally:
        opened.close()


def _db(tmp_path: Path, *statements: str) -> Path:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    return path


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda tmp: tmp / "missing.db", "does not exist"),
        (lambda tmp: tmp, "is not a file"),
        (lambda tmp: (tmp / "notes.txt", (tmp / "notes.txt").write_text("hello"))[0], "is not a SQLite database"),
        (lambda tmp: _db(tmp, "CREATE TABLE t (x)"), "has no jobs table"),
        (lambda tmp: _db(tmp, "CREATE TABLE jobs (id TEXT)"), "has no _meta table"),
        (
            lambda tmp: _db(
                tmp,
                "CREATE TABLE jobs (id TEXT)",
                "CREATE TABLE _meta (key, value)",
                "INSERT INTO _meta VALUES ('schema_version', '7')",
            ),
            "VPO schema version 7 is not supported: jobdash reads version 8 and newer",
        ),
        (
            lambda tmp: _db(
                tmp,
                "CREATE TABLE jobs (id TEXT, status TEXT)",
                "CREATE TABLE _meta (key, value)",
                "INSERT INTO _meta VALUES ('schema_version', '27')",
            ),
            "has no file_path, job_type, created_at column",
        ),
    ],
)
def test_unusable_files_are_one_line_errors(tmp_path: Path, make: object, words: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(VpoOpenError) as excinfo:
        open_vpo(path)
    message = str(excinfo.value)
    assert words in message and "\n" not in message, message


def test_a_database_locked_past_the_busy_timeout_is_refused(vpo: Path) -> None:
    """Another process holding an exclusive lock (a rollback-journal database being written)
    longer than the busy timeout: one line saying so, not a hang."""
    path = vpo / "library.db"
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
            " c.execute('BEGIN EXCLUSIVE'); c.execute('UPDATE jobs SET priority = priority');"
            " print('locked', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(
            VpoOpenError, match=r"stayed locked by another process for longer than the busy timeout \(1 s"
        ):
            open_vpo(path, busy_timeout_ms=1000)
        assert time.monotonic() - started < 20
    finally:
        holder.kill()
        holder.communicate()


def test_a_wal_without_shm_in_a_folder_it_may_not_write_is_explained(
    vpo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VPO crashed (-wal left, -shm gone) and the folder is not writable for this user:
    one line with the ways out. (Folder permission simulated: tests run as root.)"""
    (vpo / "library.db-wal").write_bytes(b"")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == vpo and mode == os.W_OK else real_access(p, mode)
    )
    with pytest.raises(VpoOpenError) as excinfo:
        open_vpo(vpo / "library.db")
    assert "has a -wal file but no -shm and its folder is not writable" in str(excinfo.value)
    assert "start VPO once" in str(excinfo.value)


def test_a_total_is_reused_briefly_then_recounted(store: VpoStore, vpo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """VPO commits progress twice a second: a total counted less than COUNT_REUSE_S ago is
    reused, and the data version moves once it is older, so the answer is recounted."""
    from types import SimpleNamespace

    from jobdash.store.vpo import store as store_module

    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(store_module, "time", SimpleNamespace(monotonic=lambda: clock.now))
    assert store.list(ListQuery())[1] == 15
    conn = sqlite3.connect(vpo / "library.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("DELETE FROM jobs WHERE id = ?", (FIRST_SCAN,))  # VPO prunes a job
    finally:
        conn.close()
    moved = store.version()
    rows, total = store.list(ListQuery(limit=100))
    assert len(rows) == 14 and total == 15, "the total counted a moment ago is reused"
    assert store.version() == moved, "still young: the answer stands"
    clock.now += store_module.COUNT_REUSE_S
    assert store.version() != moved, "too old: the version moves, so the answer is made again"
    assert store.list(ListQuery(limit=100))[1] == 14
