"""Drill 3: disk or database trouble under a running ``jobdash serve`` and its worker.

What it shows, against the real server (uvicorn, its thread pool, its long-lived
SQLite connections) and its real worker child:

- The database file emptied in place (a failed restore, a disk that lost it): every
  endpoint — ``/api/jobs``, ``/api/jobs/{id}``, its logs, ``/healthz`` — answers 503
  with ``Retry-After`` and ``{"error": "job store unavailable: ..."}`` naming the
  problem, also to a poll that carries the ETag of an answer kept from before (the read
  cache cannot confirm its version, so it recomputes, and the 503 surfaces: no stale
  304), and to a poll that asks to be held (``Prefer: wait=25``): it gets the 503 at
  once, not a hold. The idle worker logs the trouble and retries without crashing. When the file
  is back, the same processes answer 200 again (the old ETag is a 304 again) and the
  same worker runs the next job: no restart.
- The database read-only (its file, -wal and -shm made immutable, as a file system
  remounted read-only would): the API keeps answering reads with 200. That is the
  intended behaviour: the API only reads, the data it shows is the data there is, and
  a 503 would hide it from the operator. The worker's writes fail ("disk I/O error");
  its progress is skipped, its outcome retried every 2 s; once the store is writable
  the job ends ``completed`` with every file counted.
- The database locked by another process (``BEGIN EXCLUSIVE``) for longer than the
  5 s busy timeout: in WAL mode readers are not blocked by a writer, so the API keeps
  answering, promptly; the worker's writes fail as "database is busy" after the busy
  timeout and are retried, and both the running job and the queued one end
  ``completed`` with the right counts once the lock is gone.

``PRAGMA integrity_check`` is ``ok`` after each. How the pages show a 503 and honour
its ``Retry-After`` is drilled in the browser drills.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from jobdash.store.sqlite.database import BUSY_TIMEOUT_MS
from jobdash.store.sqlite.store import DB_FILENAME
from jobdash.util.timestamps import now_iso
from support.browser_drills import ServerProcess
from support.drills import (
    StoreLock,
    assert_scan_summary,
    get_json,
    integrity_check,
    job,
    scan_library,
    wait_for,
)
from support.sqlhelpers import insert_row, write_protected

pytestmark = pytest.mark.slow

RATE = "200"  # --max-files-per-second: scans last long enough to be caught running
EARLIER_ID = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"
WORKER_STARTED = re.compile(r"worker process (\d+) started")
# Worker._persist's warning: an outcome write failed on the lock and will be retried.
OUTCOME_RETRIED = re.compile(r"\(database is locked\); retrying$", re.MULTILINE)


def _endpoints(job_id: str) -> list[str]:
    return ["/api/jobs", f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/logs?lines=5", "/healthz"]


def _server(tmp_path: Path, rate: str = RATE) -> ServerProcess:
    """``jobdash serve`` with its worker child (scanning at most ``rate`` files a
    second), returned once both are up."""
    server = ServerProcess(
        tmp_path / "data", tmp_path / "server.log", worker=True, max_wait=30, extra=("--max-files-per-second", rate)
    ).start()
    try:
        wait_for(
            lambda: "started (job types" in server.output(), 20, "the worker child to start", diagnostics=server.output
        )
    except BaseException:
        server.close()  # no server left behind to trouble the next tests
        raise
    return server


def _worker_pids(server: ServerProcess) -> list[int]:
    return [int(pid) for pid in WORKER_STARTED.findall(server.output())]


def _status_is(base: str, job_id: str, *statuses: str) -> dict[str, Any] | None:
    item = job(base, job_id)
    return item if item["status"] in statuses else None


def _running_part_way(base: str, job_id: str) -> dict[str, Any] | None:
    item = job(base, job_id)
    return item if item["status"] == "running" and item["progress_percent"] > 0 else None


def _scanned_all_files(base: str, job_id: str) -> bool:
    """True once the job's log (a file, readable whatever the database's state) says the
    scan walked every file: from then on only its outcome write is left."""
    status, _, body = get_json(base, f"/api/jobs/{job_id}/logs?lines=3")
    return status == 200 and any(" scanned " in line for line in body["lines"])


def _assert_unavailable(status: int, headers: dict[str, str], body: Any, what: str) -> str:
    assert status == 503, (what, status, body)
    assert headers.get("retry-after", "").isdigit() and int(headers["retry-after"]) > 0, (what, headers)
    assert headers.get("content-type", "").startswith("application/json"), (what, headers)
    assert headers.get("cache-control") == "no-cache" and "etag" not in headers, (what, headers)
    assert set(body) == {"error"} and body["error"].startswith("job store unavailable: "), (what, body)
    return body["error"]


def test_emptied_database_is_503_everywhere_and_recovers_without_a_restart(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        base, data_dir = server.base, server.data_dir
        stamp = now_iso()
        insert_row(
            data_dir,
            {
                "id": EARLIER_ID,
                "file_path": "/media/earlier",
                "job_type": "scan",
                "status": "completed",
                "priority": 100,
                "created_at": stamp,
                "started_at": stamp,
                "completed_at": stamp,
                "progress_percent": 100,
            },
        )
        (data_dir / "logs" / f"{EARLIER_ID}.log").write_text(f"{stamp} INFO done\n")
        etags = {}
        for path in _endpoints(EARLIER_ID):
            status, headers, _ = get_json(base, path)
            assert status == 200, (path, status)
            etags[path] = headers["etag"]

        # Everything in the main file (WAL checkpointed), then the file emptied in place.
        conn = sqlite3.connect(data_dir / DB_FILENAME, timeout=10)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        db_file = data_dir / DB_FILENAME
        saved = db_file.read_bytes()
        with open(db_file, "r+b") as handle:
            handle.truncate(0)
        errors: set[str] = set()
        answered = 0
        try:
            trouble_until = time.monotonic() + 2.5  # over one worker retry cycle (2 s)
            while time.monotonic() < trouble_until:
                for path in _endpoints(EARLIER_ID):
                    for extra in (
                        {},
                        {"If-None-Match": etags[path]},
                        {"If-None-Match": etags[path], "Prefer": "wait=25"},
                    ):
                        status, headers, body = get_json(base, path, extra)
                        errors.add(_assert_unavailable(status, headers, body, f"{path} {extra}"))
                        answered += 1
                time.sleep(0.2)
            wait_for(
                lambda: "job store unavailable" in server.output(),
                10,
                "the worker to report the trouble",
                diagnostics=server.output,
            )
        finally:
            with open(db_file, "r+b") as handle:
                handle.write(saved)
        assert all("not a database" in e or "no jobdash tables" in e for e in errors), errors

        # Fixed: the same server answers again, with the same data and ETags.
        def all_ok() -> bool:
            return all(get_json(base, path)[0] == 200 for path in _endpoints(EARLIER_ID))

        wait_for(all_ok, 10, "every endpoint to answer 200 again", diagnostics=server.output)
        for path in _endpoints(EARLIER_ID)[:3]:
            status, headers, _ = get_json(base, path, {"If-None-Match": etags[path]})
            assert status == 304, (path, status)

        # The worker that lived through it runs the next job: it was never restarted.
        library = scan_library(tmp_path / "library", 50)
        queued = server.store.create(library["path"], "scan")["id"]
        done = wait_for(
            lambda: _status_is(base, queued, "completed", "failed"),
            30,
            "the next job to end",
            diagnostics=server.output,
        )
        assert done["status"] == "completed", done
        assert_scan_summary(done["summary_raw"], library)
        pids = _worker_pids(server)
        assert len(pids) == 1 and server.store.get(queued)["worker_pid"] == pids[0], server.output()
        assert "Traceback" not in server.output(), server.output()
        assert integrity_check(data_dir) == ["ok"]
        print(f"drill 3 (emptied): {answered} requests answered 503 + Retry-After; errors: {sorted(errors)}")
    finally:
        server.close()


def test_read_only_database_keeps_reads_and_the_worker_retries_until_writable(tmp_path: Path) -> None:
    library = scan_library(tmp_path / "library", 800)  # ~4 s at 200 files/s
    server = _server(tmp_path)
    try:
        base, data_dir = server.base, server.data_dir
        job_id = server.store.create(library["path"], "scan")["id"]
        server.store.close()
        server._store = None  # no connection of the test's own while the files are locked
        wait_for(lambda: _running_part_way(base, job_id), 30, "the scan to run", diagnostics=server.output)
        files = [data_dir / f"{DB_FILENAME}{suffix}" for suffix in ("", "-wal", "-shm")]
        reads = 0
        with write_protected(files[0]), write_protected(files[1]), write_protected(files[2]):
            frozen = job(base, job_id)
            wait_for(
                lambda: _scanned_all_files(base, job_id), 30, "the scan to walk every file", diagnostics=server.output
            )
            wait_for(
                lambda: server.output().count("job store unavailable") >= 2,
                10,
                "the worker to retry its outcome",
                diagnostics=server.output,
            )
            for path in _endpoints(job_id):
                status, _, body = get_json(base, path)
                assert status == 200, (path, status, body)
                reads += 1
            item = job(base, job_id)
            assert item["status"] == "running", "nothing can be written while read-only"
            assert item["progress_percent"] <= frozen["progress_percent"] + 10, (frozen, item)
        done = wait_for(
            lambda: _status_is(base, job_id, "completed", "failed"),
            15,
            "the job to end once writable",
            diagnostics=server.output,
        )
        assert done["status"] == "completed", done
        assert_scan_summary(done["summary_raw"], library)
        assert "a disk I/O error occurred" in server.output() or "read-only" in server.output()
        assert "Traceback" not in server.output(), server.output()
        assert integrity_check(data_dir) == ["ok"]
        print(f"drill 3 (read-only): {reads} reads answered 200 while read-only; job completed")
    finally:
        server.close()


def test_database_locked_past_the_busy_timeout(tmp_path: Path) -> None:
    # ~5 s at 100 files/s: progress is recorded about once a second, so its last second
    # (80% and over, still running) is wide enough to be caught on a busy machine.
    running_lib = scan_library(tmp_path / "first", 500)
    queued_lib = scan_library(tmp_path / "second", 100, seed=1)
    server = _server(tmp_path, rate="100")
    lock: StoreLock | None = None
    try:
        base, data_dir = server.base, server.data_dir
        first = server.store.create(running_lib["path"], "scan", priority=10)["id"]
        second = server.store.create(queued_lib["path"], "scan", priority=20)["id"]
        server.store.close()
        server._store = None
        wait_for(lambda: _running_part_way(base, first), 30, "the scan to run", diagnostics=server.output)

        # Near its end, so that the lock is still held when the scan records its outcome.
        def nearly_done() -> bool:
            item = job(base, first)
            assert item["status"] in ("queued", "running"), f"the scan ended before the lock: {item}"
            return item["status"] == "running" and item["progress_percent"] >= 80

        wait_for(nearly_done, 30, "the scan to be nearly done", every=0.02, diagnostics=server.output)
        lock = StoreLock(data_dir)
        slowest, reads = 0.0, 0
        busy_timeout_s = BUSY_TIMEOUT_MS / 1000

        def read_all() -> None:
            nonlocal slowest, reads
            for path in _endpoints(first):
                started = time.monotonic()
                status, _, body = get_json(base, path)
                slowest = max(slowest, time.monotonic() - started)
                reads += 1
                assert status == 200, (path, status, body)

        # Every write the worker tries waits out the busy timeout and fails: progress is
        # skipped (advisory), the outcome is retried every 2 s. Reads go on all along.
        while not OUTCOME_RETRIED.search(server.output()):
            read_all()
            # A deadline, not a speed: each write the lock blocks waits out the busy timeout
            # (a progress write, the last progress at the end, then the outcome).
            assert time.monotonic() - lock.locked_at < 90, f"no outcome retry seen:\n{server.output()}"
            time.sleep(0.25)
        assert _scanned_all_files(base, first)
        states = (job(base, first)["status"], job(base, second)["status"])
        assert states == ("running", "queued"), (states, lock.process.poll(), server.output())
        held = lock.release()
        lock = None
        assert held > busy_timeout_s + 2, held
        assert "the database is busy" in server.output(), server.output()

        for job_id, library in ((first, running_lib), (second, queued_lib)):
            done = wait_for(
                lambda job_id=job_id: _status_is(base, job_id, "completed", "failed"),
                30,
                f"job {job_id} to end",
                diagnostics=server.output,
            )
            assert done["status"] == "completed", done
            assert_scan_summary(done["summary_raw"], library)
        assert slowest < 1.0, f"a read waited {slowest:.2f} s behind the lock"
        assert "Traceback" not in server.output(), server.output()
        assert integrity_check(data_dir) == ["ok"]
        print(f"drill 3 (locked {held:.1f} s): {reads} reads answered 200, slowest {slowest * 1000:.0f} ms")
    finally:
        if lock is not None:
            lock.release()
        server.close()
