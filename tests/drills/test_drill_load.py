"""Drill 7: load with faults — 200 polling tabs, scans running, the server restarted.

What it shows, against a real ``jobdash serve`` with its worker child:

- A load generator in a process of its own simulates 200 open tabs for 60 s: two in
  three are dashboards polling ``/api/jobs`` (five different views) every 5 s with the
  ETag of their last answer, one in three are detail pages polling their job every 5 s
  and, while it runs, its log from the next offset every 15 s (the default intervals,
  read from ``/api/config/polling`` as pages do).
- Meanwhile the worker scans: six scans of a 1,200-file library at 200 files/s, about
  6 s each, queued before the load starts, so scans run through the whole drill.
- 25 s in, the server is stopped with SIGTERM (as a service manager does) and started
  again on the same port and data directory. The restart window runs from the SIGTERM
  until the new server's ``/healthz`` answers, plus 1 s: only requests that overlap it
  may fail, and only by a refused or dropped connection. No request gets a 5xx at any
  time, and every other request gets its 200 or 304.
- No job is lost: the scan running at SIGTERM is returned to the queue by its worker
  ("worker is stopping; job returned to the queue"), claimed again by the new server's
  worker and run from the start; all six end ``completed`` with every file counted.
  ``PRAGMA integrity_check`` is ``ok``.

The drill prints what it counted: requests sent, answered (200 / 304), failed inside
the window and out of it, and the restart window's length.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from support.browser_drills import ServerProcess
from support.drills import (
    all_log_lines,
    assert_scan_summary,
    integrity_check,
    job,
    open_fds,
    scan_library,
    wait_for,
)
from support.live_server import ROOT, _clean_env

pytestmark = pytest.mark.slow

TABS = 200
LOAD_SECONDS = 60.0
RESTART_AT_S = 25.0
WINDOW_MARGIN_S = 1.0
SCANS, FILES, RATE = 6, 1200, 200
CONNECTION_ERRORS = {"ConnectError", "ReadError", "RemoteProtocolError", "WriteError"}


def _load_generator(base: str, out: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as sink:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "support.drills",
                "load",
                "--base",
                base,
                "--tabs",
                str(TABS),
                "--seconds",
                str(LOAD_SECONDS),
                "--out",
                str(out),
            ],
            cwd=ROOT / "tests",
            env=_clean_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _ended(base: str, job_id: str) -> dict[str, Any] | None:
    item = job(base, job_id)
    return item if item["status"] in ("completed", "failed", "cancelled") else None


def _requests(out: Path) -> list[list[Any]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def test_load_with_a_server_restart_loses_no_request_and_no_job(tmp_path: Path) -> None:
    library = scan_library(tmp_path / "library", FILES)
    server = ServerProcess(
        tmp_path / "data",
        tmp_path / "server.log",
        worker=True,
        extra=("--max-files-per-second", str(RATE), "--poll-interval-ms", "5000"),
    )
    out, load_log = tmp_path / "requests.jsonl", tmp_path / "load.log"
    load: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        base = server.base
        job_ids = [server.store.create(library["path"], "scan")["id"] for _ in range(SCANS)]
        server.store.close()
        server._store = None

        def diagnostics() -> str:
            return f"--- server:\n{server.output()}\n--- load generator:\n{load_log.read_text(errors='replace')}"

        load = _load_generator(base, out, load_log)
        wait_for(
            lambda: load_log.exists() and '"started"' in load_log.read_text(),
            20,
            "the load generator to start",
            diagnostics=diagnostics,
        )
        load_started = time.monotonic()

        # The restart, 25 s in, while tabs poll and a scan runs.
        while time.monotonic() < load_started + RESTART_AT_S:
            time.sleep(0.1)
        running = [j for j in job_ids if job(base, j)["status"] == "running"]
        assert len(running) == 1, f"a scan must be running at the restart: {running}\n{diagnostics()}"
        window_start = time.monotonic()
        code = server.stop()
        stopped = time.monotonic()
        assert code in (0, -15), f"exit status {code}\n{diagnostics()}"
        server.start()
        window_end = time.monotonic() + WINDOW_MARGIN_S
        fds_before = open_fds(server.process.pid)  # of the new server, just started

        assert load.wait(timeout=LOAD_SECONDS + 30) == 0, diagnostics()
        load = None
        fds_after = open_fds(server.process.pid)

        # Requests: nothing lost outside the restart window, no 5xx ever.
        requests = _requests(out)
        outcomes: Counter[Any] = Counter()
        lost_outside: list[list[Any]] = []
        for started, ended, kind, result in requests:
            in_window = started <= window_end and ended >= window_start
            if result in (200, 304):
                outcomes[result] += 1
            elif in_window and result in CONNECTION_ERRORS:
                outcomes["failed in the restart window"] += 1
            else:
                outcomes[f"other: {result}"] += 1
                if not in_window:
                    lost_outside.append([round(started - window_start, 2), kind, result])
        assert not lost_outside, f"requests lost outside the restart window: {lost_outside[:20]}\n{diagnostics()}"
        assert not [k for k in outcomes if str(k).startswith("other")], outcomes
        answered = outcomes[200] + outcomes[304]
        expected_polls = TABS * (LOAD_SECONDS - (window_end - window_start)) / 5
        assert answered >= 0.8 * expected_polls, (answered, expected_polls)
        assert outcomes[304] > 0, "polls of unchanged data are answered 304"

        # Jobs: all six complete; the one running at SIGTERM went back to the queue and ran again.
        for job_id in job_ids:
            done = wait_for(
                lambda job_id=job_id: _ended(base, job_id), 60, f"job {job_id} to end", diagnostics=diagnostics
            )
            assert done["status"] == "completed", done
            assert_scan_summary(done["summary_raw"], library)
        restarted_log = all_log_lines(base, running[0])
        assert any("job returned to the queue" in line for line in restarted_log), restarted_log[-5:]
        assert sum("started by worker" in line for line in restarted_log) == 2
        assert integrity_check(server.data_dir) == ["ok"]
        output = server.output()
        assert "Traceback" not in output and output.count("Application shutdown complete") == 1, output

        print(
            f"\ndrill 7: {len(requests)} requests from {TABS} tabs in {LOAD_SECONDS:.0f} s "
            f"({dict(Counter(r[2] for r in requests))}); answered {outcomes[200]} x 200, "
            f"{outcomes[304]} x 304; failed in the restart window "
            f"{outcomes['failed in the restart window']} "
            f"({dict(Counter(r[3] for r in requests if r[3] not in (200, 304)))}); lost outside it: 0; "
            f"window {window_end - window_start:.1f} s (SIGTERM to exit {stopped - window_start:.1f} s); "
            f"jobs {SCANS}/{SCANS} completed, 1 released and rerun; new server's open files {fds_before} -> {fds_after}"
        )
    finally:
        if load is not None:
            load.kill()
            load.wait()
        server.close()
