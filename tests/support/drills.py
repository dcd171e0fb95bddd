"""Helpers shared by the operational drills (worker crash, store trouble, fuzz, load).

Real processes only: ``WorkerProc`` is ``python -m jobdash worker`` in a subprocess (its
output in a file, printed when a drill fails), ``StoreLock`` is another process holding
SQLite's write lock on the store, ``scan_library`` writes a sample media library and
returns what a scan of it must find. Servers come from support/live_server.py (built
frontend) and support/browser_drills.py (restartable on a fixed port).

Run as ``python -m support.drills load ...`` from tests/ it is the load generator of the
load drill.

Waiting is always on a condition with a deadline (``wait_for``), never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from jobdash.jobs.sample_library import make_library
from jobdash.store.sqlite.store import DB_FILENAME
from support.live_server import ROOT, _clean_env

T = TypeVar("T")

STOP_TIMEOUT_S = 15.0


def wait_for(
    condition: Callable[[], T],
    timeout: float,
    what: str,
    *,
    every: float = 0.05,
    diagnostics: Callable[[], str] = lambda: "",
) -> T:
    """Return ``condition()``'s first truthy value; fail with ``what`` (and the
    diagnostics, e.g. a server log) if ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last: {last!r}\n{diagnostics()}")
        time.sleep(every)


def get_json(
    base: str, path: str, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], Any]:
    """GET ``base + path``; return (status, lower-case headers, parsed JSON body or None)."""
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    parsed = json.loads(body) if body else None
    return status, {k.lower(): v for k, v in headers.items()}, parsed


def job(base: str, job_id: str) -> dict[str, Any]:
    """The JobDetailItem of ``job_id`` from the API (asserting a 200)."""
    status, _, body = get_json(base, f"/api/jobs/{job_id}")
    assert status == 200, (status, body)
    return body


def all_log_lines(base: str, job_id: str) -> list[str]:
    """Every log line of a job, paged through the API by absolute offset."""
    lines: list[str] = []
    while True:
        status, _, body = get_json(base, f"/api/jobs/{job_id}/logs?offset={len(lines)}&lines=1000")
        assert status == 200, (status, body)
        lines += body["lines"]
        if not body["has_more"]:
            return lines


def integrity_check(data_dir: Path) -> list[str]:
    """``PRAGMA integrity_check`` of the store's file, from a connection of its own."""
    conn = sqlite3.connect(data_dir / DB_FILENAME, timeout=10)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()


def row_of(data_dir: Path, job_id: str) -> dict[str, Any]:
    """The raw jobs row of ``job_id``, read with plain SQL (every column)."""
    conn = sqlite3.connect(data_dir / DB_FILENAME, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        conn.close()
    assert found is not None, f"job {job_id} is not in the table"
    return dict(found)


def scan_library(root: Path, files: int, *, seed: int = 0) -> dict[str, Any]:
    """Write a nested sample library of ``files`` small media files under ``root``; return
    its real path and what a scan of it must report (``files``, ``bytes``, ``containers``).

    Files are at most 8 KiB, so writing thousands takes about a second.
    """
    made = make_library(root, files=files, seed=seed, max_size=8192)
    return {
        "path": str(root.resolve()),
        "files": made["media_files"],
        "bytes": made["bytes"],
        "containers": made["by_container"],
    }


def assert_scan_summary(summary: dict[str, Any] | None, library: dict[str, Any]) -> None:
    """The summary of a completed scan matches the library: nothing skipped or lost."""
    assert summary is not None, "a completed scan has a summary"
    assert summary["files_found"] == summary["files_scanned"] == library["files"], summary
    assert summary["errors"] == 0 and summary["bytes"] == library["bytes"], summary
    assert summary["containers"] == library["containers"], summary


class WorkerProc:
    """``python -m jobdash worker --data-dir D FLAGS...`` in a subprocess of its own.

    With ``database_url`` it works on that PostgreSQL store (``--database``); ``env``
    adds variables to its (JOBDASH_*-free) environment.

    >>> worker = WorkerProc(data_dir, tmp_path / "worker.log", "--stale-after", "10")  # doctest: +SKIP
    """

    def __init__(
        self,
        data_dir: Path,
        log_file: Path,
        *flags: str,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.log_file = log_file
        store = ["--database", database_url] if database_url is not None else []
        with open(log_file, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jobdash", "worker", "--data-dir", str(data_dir), *store, *flags],
                cwd=ROOT,
                env={**_clean_env(), **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def kill(self) -> int:
        """SIGKILL: the worker dies at once, mid-write or not, with no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> int:
        """SIGTERM and wait (a clean stop releases the current job); SIGKILL if stuck."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


# Another process that takes the store's write lock and keeps it until told to release.
_LOCKER = r"""
import select, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
# The drill writes a line (or closes stdin) to release; never held past the bound.
select.select([sys.stdin], [], [], float(sys.argv[2]))
conn.execute("COMMIT")
conn.close()
print("released", flush=True)
"""


class StoreLock:
    """Another process holding ``BEGIN EXCLUSIVE`` on the store until :meth:`release`.

    In WAL mode EXCLUSIVE takes the write lock only: writers wait (busy timeout) and
    then fail with SQLITE_BUSY; readers are not blocked.
    """

    def __init__(self, data_dir: Path, max_hold_s: float = 60.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, str(data_dir / DB_FILENAME), f"{max_hold_s:g}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_clean_env(),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line == "locked", f"the locking process did not get the lock: {line!r}"
        self.locked_at = time.monotonic()

    def release(self) -> float:
        """Commit and end the locking process; return how long the lock was held."""
        held = time.monotonic() - self.locked_at
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write("release\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            self.process.wait(timeout=STOP_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return held


def pids_alive(pids: list[int]) -> list[int]:
    """The pids that still exist and are not zombies."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def open_fds(pid: int) -> int:
    """How many file descriptors ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


# --- the load generator (drill 7) ----------------------------------------------------------
#
# Run as a process of its own:
#   python -m support.drills load (from tests/) --base URL --tabs 200 --seconds 60 --out FILE
# Each simulated tab polls like a page: a dashboard tab GETs /api/jobs (one of a few
# views) every poll interval with the ETag of its last answer; a detail tab GETs one
# job at the interval and, while the job runs, its log from the next offset at the log
# interval. A request times out after 10 s, as in the pages. Every request is written as
# one JSON line: [started, ended, kind, status or error name] (time.monotonic(), which
# is the same clock in every process on Linux).

REQUEST_TIMEOUT_S = 10.0
DASHBOARD_VIEWS = (
    "",
    "?status=running,queued",
    "?sort=-priority&limit=20",
    "?type=scan&since=24h",
    "?status=completed&limit=100",
)


async def _tab(
    client: Any,
    base: str,
    index: int,
    job_ids: list[str],
    intervals: tuple[float, float],
    until: float,
    record: Callable[[list[Any]], None],
    rng: Any,
) -> None:
    import asyncio

    import httpx

    interval, log_interval = intervals
    etags: dict[str, str] = {}
    is_detail = index % 3 == 2 and job_ids  # a third of the tabs show one job's page
    job_id = job_ids[index % len(job_ids)] if is_detail else None
    log_offset: int | None = None
    next_log = 0.0
    status = None
    await asyncio.sleep(rng.uniform(0, interval))  # tabs were opened at different times

    async def get(kind: str, path: str) -> Any:
        headers = {"If-None-Match": etags[path]} if path in etags else {}
        started = time.monotonic()
        try:
            response = await client.get(base + path, headers=headers, timeout=REQUEST_TIMEOUT_S)
        except httpx.HTTPError as error:
            record([started, time.monotonic(), kind, type(error).__name__])
            return None
        record([started, time.monotonic(), kind, response.status_code])
        if response.status_code == 200 and "etag" in response.headers:
            etags[path] = response.headers["etag"]
        return response

    while time.monotonic() < until:
        tick = time.monotonic()
        if job_id is None:
            await get("list", "/api/jobs" + DASHBOARD_VIEWS[index % len(DASHBOARD_VIEWS)])
        else:
            response = await get("detail", f"/api/jobs/{job_id}")
            if response is not None and response.status_code == 200:
                status = response.json()["status"]  # a 304 means: as it was
            if status == "running" and time.monotonic() >= next_log:
                next_log = time.monotonic() + log_interval
                query = f"?offset={log_offset}&lines=1000" if log_offset is not None else "?lines=200"
                logs = await get("logs", f"/api/jobs/{job_id}/logs{query}")
                if logs is not None and logs.status_code == 200:
                    body = logs.json()
                    log_offset = body["offset"] + len(body["lines"])
        await asyncio.sleep(max(0.0, tick + interval - time.monotonic()))


async def _load(base: str, tabs: int, seconds: float, out: Path, seed: int) -> None:
    import asyncio
    import random

    import httpx

    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=tabs, max_keepalive_connections=tabs)
    with open(out, "w") as sink:

        def record(entry: list[Any]) -> None:
            sink.write(json.dumps(entry) + "\n")

        async with httpx.AsyncClient(limits=limits) as client:
            config = (await client.get(base + "/api/config/polling")).json()
            listing = (await client.get(base + "/api/jobs?limit=100")).json()
            job_ids = [job["id"] for job in listing["jobs"]]
            intervals = (config["interval_ms"] / 1000, config["log_interval_ms"] / 1000)
            until = time.monotonic() + seconds
            print(json.dumps({"started": time.monotonic(), "tabs": tabs, "jobs": len(job_ids)}), flush=True)
            await asyncio.gather(
                *(
                    _tab(client, base, index, job_ids, intervals, until, record, random.Random(rng.random()))
                    for index in range(tabs)
                )
            )


def _main(argv: list[str]) -> int:
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(prog="drill_support.py load")
    parser.add_argument("command", choices=["load"])
    parser.add_argument("--base", required=True)
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    asyncio.run(_load(args.base, args.tabs, args.seconds, args.out, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
