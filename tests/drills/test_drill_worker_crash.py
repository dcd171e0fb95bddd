"""Drill 1: the worker is killed (SIGKILL) in the middle of a scan.

What it shows, against a real ``jobdash serve``, real ``jobdash worker`` processes and
the real built dashboard in Chromium:

- A worker killed mid-scan leaves its job ``running`` with a heartbeat that stops
  moving. The next worker to start (or the server's periodic check) finds the heartbeat
  older than ``--stale-after`` and fails the job with an error message that says the
  worker was lost (naming the heartbeat age and the dead worker's pid). Scans are not
  resumable: the abandoned scan is failed, not resumed; the operator queues it again.
- Nothing else is touched: a finished job keeps its row byte for byte, a queued job
  stays queued (same row) through the crash, and then runs to ``completed`` with every
  file counted, claimed exactly once, by the new worker.
- ``PRAGMA integrity_check`` of the database is ``ok`` after the kill.
- The dashboard open through all of it shows running -> failed in the same row, with no
  reload (same document, same row element).

Two variants: with a separate worker process, where "time passing" beyond the stale
window is simulated by rewriting the killed job's ``worker_heartbeat`` 30 s into the
past with plain SQL (the server's own threshold stays at its 60 s default, so the new
worker's start-up check is the one that fails the job); and with the server's own
worker child, where the server restarts the killed child at once and the abandoned job
is failed in real time once its heartbeat is 10 s old (``--stale-after 10``).
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.util.timestamps import to_iso
from support.browser_drills import ServerProcess
from support.dashboard import Dashboard
from support.drills import (
    WorkerProc,
    all_log_lines,
    assert_scan_summary,
    integrity_check,
    job,
    pids_alive,
    row_of,
    scan_library,
    wait_for,
)
from support.live_server import live_server
from support.sqlhelpers import set_columns

pytestmark = pytest.mark.slow

STALE_AFTER_S = 10  # the smallest --stale-after allowed
RATE = 200  # --max-files-per-second: the big scan takes ~10 s, so it is killed part-way
BIG_FILES, SMALL_FILES = 2000, 150
WORKER_FLAGS = ("--stale-after", str(STALE_AFTER_S), "--max-files-per-second", str(RATE))
POLL_MS = 2000


def _running_part_way(base: str, job_id: str) -> dict[str, Any] | None:
    item = job(base, job_id)
    assert item["status"] in ("queued", "running"), item
    return item if item["status"] == "running" and item["progress_percent"] > 0 else None


def _status_is(base: str, job_id: str, status: str) -> dict[str, Any] | None:
    item = job(base, job_id)
    return item if item["status"] == status else None


def _badge(dash: Dashboard, job_id: str) -> Any:
    return dash.cell(job_id, "status").locator(".badge")


def _finished_job(store: Any) -> dict[str, Any]:
    """A job that completed before the drill (written as another worker would)."""
    done = store.create("/media/earlier", "scan", priority=0)
    assert store.claim(os.getpid(), ("scan",))["id"] == done["id"]
    assert store.finish(done["id"], "completed", summary={"files_found": 0, "files_scanned": 0})
    return done


def test_sigkill_mid_scan_fails_the_job_and_spares_the_others(tmp_path: Path, page: Any) -> None:
    big = scan_library(tmp_path / "big library", BIG_FILES)
    small = scan_library(tmp_path / "small library", SMALL_FILES, seed=1)
    workers: list[WorkerProc] = []
    with live_server(tmp_path, "--poll-interval-ms", str(POLL_MS)) as server:  # no worker of its own
        data_dir, base = server.data_dir, server.base

        def diagnostics() -> str:
            logs = "\n".join(f"--- worker {w.pid}:\n{w.output()}" for w in workers)
            return f"--- server:\n{server.output()}\n{logs}"

        try:
            done = _finished_job(server.store)
            done_row = row_of(data_dir, done["id"])
            # Priorities fix the claim order (two jobs created in one millisecond tie).
            crashed = server.store.create(big["path"], "scan", priority=10)["id"]
            waiting = server.store.create(small["path"], "scan", priority=20)["id"]

            dash = Dashboard(page, server).open()
            page.evaluate("window.__drillDocument = 'the page that was opened'")
            dash.tag_rows()
            expect(_badge(dash, crashed)).to_have_attribute("data-status", "queued")

            workers.append(WorkerProc(data_dir, tmp_path / "worker-1.log", *WORKER_FLAGS))
            killed = workers[0]
            seen = wait_for(
                lambda: _running_part_way(base, crashed),
                30,
                "the big scan to be running part-way",
                diagnostics=diagnostics,
            )
            waiting_before = row_of(data_dir, waiting)
            assert waiting_before["status"] == "queued"
            assert killed.kill() == -signal.SIGKILL

            # The crash leaves the job running, its progress frozen where the worker died.
            left = row_of(data_dir, crashed)
            assert left["status"] == "running" and left["worker_pid"] == killed.pid, left
            assert left["progress_percent"] >= seen["progress_percent"] > 0
            assert left["progress_percent"] < 100, "the kill must come before the scan ends"
            assert row_of(data_dir, waiting) == waiting_before, "the queued job was touched"
            assert integrity_check(data_dir) == ["ok"], "the kill damaged the database"
            dash.run_for(POLL_MS)
            expect(_badge(dash, crashed)).to_have_attribute("data-status", "running")

            # Time passing: the dead worker's last heartbeat is now 30 s old, over the
            # new worker's 10 s threshold and under the server's 60 s default.
            set_columns(data_dir, crashed, worker_heartbeat=to_iso(datetime.now(UTC) - timedelta(seconds=30)))
            workers.append(WorkerProc(data_dir, tmp_path / "worker-2.log", *WORKER_FLAGS))
            successor = workers[1]
            failed = wait_for(
                lambda: _status_is(base, crashed, "failed"),
                STALE_AFTER_S,
                "the abandoned job to be failed",
                diagnostics=diagnostics,
            )
            message = failed["error_message"]
            assert message.startswith("Worker lost: no heartbeat for over 10 s"), message
            assert f"worker pid {killed.pid}" in message and "marked failed" in message, message
            assert failed["completed_at"] is not None and failed["summary_raw"] is None
            assert f"job {crashed}: Worker lost" in successor.output(), diagnostics()
            assert all_log_lines(base, crashed)[-1].endswith(message), "the job's log says why it failed"

            completed = wait_for(
                lambda: _status_is(base, waiting, "completed"),
                30,
                "the queued job to complete",
                diagnostics=diagnostics,
            )
            assert_scan_summary(completed["summary_raw"], small)
            waiting_log = all_log_lines(base, waiting)
            starts = [line for line in waiting_log if "started by worker" in line]
            assert len(starts) == 1 and f"started by worker {successor.pid}" in starts[0], starts
            assert row_of(data_dir, done["id"]) == done_row, "a finished job was touched"
            assert row_of(data_dir, crashed)["status"] == "failed", "failed stays failed"

            # The dashboard, open all along, shows the outcome at its next poll.
            dash.run_for(POLL_MS)
            expect(_badge(dash, crashed)).to_have_attribute("data-status", "failed")
            expect(_badge(dash, crashed)).to_have_text("Failed")
            expect(_badge(dash, waiting)).to_have_attribute("data-status", "completed")
            assert page.evaluate("window.__drillDocument") == "the page that was opened", "the page reloaded"
            assert dash.same_rows() == {done["id"]: True, crashed: True, waiting: True}

            assert successor.stop() == 0, diagnostics()
            assert integrity_check(data_dir) == ["ok"]
        finally:
            for worker in workers:
                worker.stop()


def test_sigkilled_worker_child_is_replaced_and_its_job_failed_in_real_time(tmp_path: Path) -> None:
    big = scan_library(tmp_path / "big library", BIG_FILES)
    small = scan_library(tmp_path / "small library", SMALL_FILES, seed=1)
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", worker=True, extra=WORKER_FLAGS)
    try:
        server.start()
        base = server.base
        crashed = server.store.create(big["path"], "scan", priority=10)["id"]
        waiting = server.store.create(small["path"], "scan", priority=20)["id"]
        wait_for(
            lambda: _running_part_way(base, crashed),
            30,
            "the big scan to be running part-way",
            diagnostics=server.output,
        )
        child = row_of(server.data_dir, crashed)["worker_pid"]
        os.kill(child, signal.SIGKILL)
        killed_at = time.monotonic()

        # The server notices its child died and starts another, which takes the next
        # queued job at once; the dead child's job stays running until its heartbeat
        # is over 10 s old, then is failed (by the server's or the new worker's check).
        completed = wait_for(
            lambda: _status_is(base, waiting, "completed"),
            30,
            "the queued job to complete under a new worker child",
            diagnostics=server.output,
        )
        assert_scan_summary(completed["summary_raw"], small)
        successor = row_of(server.data_dir, waiting)["worker_pid"]
        assert successor != child and pids_alive([successor]), "a new worker child runs"
        failed = wait_for(
            lambda: _status_is(base, crashed, "failed"),
            STALE_AFTER_S + 10,
            "the abandoned job to be failed",
            diagnostics=server.output,
        )
        took = time.monotonic() - killed_at
        assert f"worker pid {child}" in failed["error_message"], failed
        assert failed["error_message"].startswith("Worker lost: no heartbeat for over 10 s"), failed
        # At most the stale window after the last heartbeat (which was before the kill),
        # plus one check interval (2.5 s) and scheduling slack.
        assert took < STALE_AFTER_S + 2.5 + 2, f"failed {took:.1f} s after the kill"
        assert not pids_alive([child])
        assert integrity_check(server.data_dir) == ["ok"]
        print(f"drill 1 (server child): abandoned job failed {took:.1f} s after SIGKILL")
    finally:
        server.close()
