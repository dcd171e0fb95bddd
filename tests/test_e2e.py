"""End to end over real HTTP: `jobdash serve` (API + worker child) in a subprocess,
`jobdash scan` queues a scan of a generated library, and the API shows it run.

The library is ``make_library`` output plus hard-linked mirrors of its media files, so
the scan has enough files (61,500, linked in about a second) to run for well over a
second: progress writes are throttled to one per 0.5 s, and polling must be able to see
the job part-way. Measured on 2 CPUs: the scan runs ~3 s under polling and shows five
progress values between 0 and 100; a 2,000-file tree alone scans in ~0.1 s, too fast.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobdash.jobs.containers import is_media_file
from jobdash.jobs.sample_library import make_library

pytestmark = pytest.mark.slow

LIBRARY_FILES = 1500  # make_library media files (nested: movies, shows, extras)
MIRRORS = 40  # hard-linked copies of every media file: ~60k files to scan
READY_TIMEOUT_S = 20.0
JOB_TIMEOUT_S = 60.0
POLL_S = 0.05
PER_FILE_LINE = re.compile(r"^\S+ (INFO|WARN) (.+) (\w+) (\d+) ([0-9a-f]{16})( \(.*\))?$")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> set[int]:
    """Return the pids whose parent is ``pid`` (from /proc)."""
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; fields after its ")" are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry))
    return found


def wait_for_children(pid: int, timeout: float = 10.0) -> set[int]:
    """Return the children of ``pid`` once there is at least one (the worker starts
    just after the server answers), or an empty set after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (found := children_of(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Server:
    """``python -m jobdash serve`` on a free port, its output captured in a file."""

    def __init__(self, data_dir: Path, log_file: Path, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        self._log = open(log_file, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jobdash", "serve", "--port", str(self.port), "--data-dir", str(data_dir), *extra],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a failed test can stop the server and its worker together
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_file.read_text(errors="replace")

    def wait_ready(self, client: httpx.Client) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode} before it was ready:\n{self.output()}")
            try:
                if client.get(f"{self.base}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"server not ready on {self.base} within {READY_TIMEOUT_S} s:\n{self.output()}")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def build_library(root: Path) -> dict[str, Any]:
    """Write the library and its mirrors; return the counts a scan of ``root`` must find."""
    made = make_library(root / "library", files=LIBRARY_FILES)
    media = sorted(p for p in (root / "library").rglob("*") if p.is_file() and is_media_file(p.name))
    assert len(media) == made["media_files"]
    for copy in range(MIRRORS):
        mirror = root / f"mirror {copy:02d}"
        mirror.mkdir()
        for index, path in enumerate(media):
            os.link(path, mirror / f"{index:05d} {path.name}")
    factor = MIRRORS + 1
    return {
        "files": made["media_files"] * factor,
        "bytes": made["bytes"] * factor,
        "containers": {name: count * factor for name, count in made["by_container"].items()},
    }


def all_log_lines(http: httpx.Client, base: str, job_id: str, page: int = 1000) -> list[str]:
    lines: list[str] = []
    while True:
        body = http.get(f"{base}/api/jobs/{job_id}/logs", params={"offset": len(lines), "lines": page}).json()
        assert body["offset"] == len(lines)
        lines += body["lines"]
        if not body["has_more"]:
            assert len(lines) == body["total_lines"]
            return lines


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("e2e") / "lib"
    return root, build_library(root)


def queue_scan(root: Path, data_dir: Path) -> str:
    """Run `jobdash scan` as an operator would; return the job id it prints."""
    queued = subprocess.run(
        [sys.executable, "-m", "jobdash", "scan", str(root), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert queued.returncode == 0, queued.stderr
    job_id = queued.stdout.strip()
    assert str(uuid.UUID(job_id)) == job_id, queued.stdout
    return job_id


def stop_server(server: Server, worker_pids: set[int]) -> str:
    """SIGTERM the server; assert it shuts down gracefully and its worker is gone first."""
    worker_pids |= children_of(server.process.pid)
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=25)
    except subprocess.TimeoutExpired:
        pytest.fail(f"server did not stop within 25 s of SIGTERM:\n{server.output()}")
    # Checked at once: the server must have stopped its worker before exiting, not
    # left it to notice later that its parent is gone.
    survivors = [pid for pid in worker_pids if alive(pid)]
    output = server.output()
    # uvicorn re-raises the signal after a graceful shutdown, so -SIGTERM is clean too.
    assert code in (0, -signal.SIGTERM), f"exit status {code}:\n{output}"
    assert "Application shutdown complete" in output and "Traceback" not in output, output
    assert not survivors, f"worker child {survivors} outlived the server:\n{output}"
    # The worker logs its stop; a server that waited for it shows that line before its own end.
    finished = output.index("Finished server process")
    for pid in worker_pids:
        stopped = output.find(f"worker {pid} stopped")
        assert 0 <= stopped < finished, f"the server did not stop worker {pid} before exiting:\n{output}"
    return output


def test_scan_end_to_end(tmp_path: Path, http: httpx.Client, library: tuple[Path, dict[str, Any]]) -> None:
    root, expected = library
    data_dir = tmp_path / "data"
    server = Server(data_dir, tmp_path / "server.log")
    try:
        server.wait_ready(http)
        base = server.base
        worker_pids = wait_for_children(server.process.pid)
        assert worker_pids, f"serve must start a worker child:\n{server.output()}"
        job_id = queue_scan(root, data_dir)

        # Follow the job as a page would: status polls, and the log from an offset.
        percents: list[float] = []
        counts: list[tuple[int | None, int | None]] = []
        followed: list[str] = []
        started = time.monotonic()
        running_since: float | None = None
        item: dict[str, Any] = {}
        while time.monotonic() - started < JOB_TIMEOUT_S:
            item = http.get(f"{base}/api/jobs/{job_id}").json()
            if item["status"] == "running" and running_since is None:
                running_since = time.monotonic()
            if item["status"] in ("running", "completed"):
                percents.append(item["progress_percent"])
                counts.append((item["processed_count"], item["total_count"]))
            logs = http.get(f"{base}/api/jobs/{job_id}/logs", params={"offset": len(followed), "lines": 1000}).json()
            assert logs["offset"] == len(followed)
            followed += logs["lines"]
            if item["status"] not in ("queued", "running"):
                break
            time.sleep(POLL_S)
        ran_for = time.monotonic() - (running_since or started)
        assert item["status"] == "completed", f"{item}\n{server.output()}"

        # Progress was seen part-way and only ever rose.
        assert any(0 < p < 100 for p in percents), (
            f"no progress between 0 and 100 seen in {ran_for:.2f} s of running: {percents[:20]}"
        )
        assert percents == sorted(percents) and percents[-1] == 100
        for processed, total in counts:
            if total is not None:
                assert total == expected["files"] and processed is not None and 0 <= processed <= total

        # The summary matches the tree.
        summary = item["summary_raw"]
        assert summary["files_found"] == summary["files_scanned"] == expected["files"]
        assert summary["errors"] == 0 and summary["mismatched"] == 0
        assert summary["bytes"] == expected["bytes"]
        assert summary["containers"] == expected["containers"]
        assert item["summary"].startswith(f"Scanned {expected['files']:,} of {expected['files']:,} files")
        assert item["has_logs"] is True and item["duration_seconds"] is not None
        listed = http.get(f"{base}/api/jobs", params={"status": "completed", "type": "scan"}).json()
        assert [job["id"] for job in listed["jobs"]] == [job_id]

        # The log: a header, one line per file, a footer; offset paging gives it whole.
        lines = all_log_lines(http, base, job_id)
        followed += lines[len(followed) :]
        assert followed == lines, "following by offset must give exactly the full log"
        per_file = [line for line in lines if PER_FILE_LINE.match(line)]
        assert len(per_file) == expected["files"]
        assert len(lines) == expected["files"] + 4, lines[:3] + lines[-3:]
        assert "started by worker" in lines[0]
        assert f"found {expected['files']} media files" in lines[1]
        assert f"scanned {expected['files']} of {expected['files']} media files" in lines[-2]
        assert "job completed" in lines[-1]
        tail = http.get(f"{base}/api/jobs/{job_id}/logs", params={"lines": 10}).json()
        assert tail["lines"] == lines[-10:] and tail["offset"] == len(lines) - 10

        # A clean stop: SIGTERM ends the server, which stops its worker first.
        stop_server(server, worker_pids)
    finally:
        server.close()


def test_sigterm_during_a_scan_returns_the_job_to_the_queue(
    tmp_path: Path, http: httpx.Client, library: tuple[Path, dict[str, Any]]
) -> None:
    """DESIGN: SIGTERM ends a worker cleanly, releasing its job; nothing keeps scanning."""
    root, _ = library
    data_dir = tmp_path / "data"
    server = Server(data_dir, tmp_path / "server.log")
    try:
        server.wait_ready(http)
        worker_pids = wait_for_children(server.process.pid)
        assert worker_pids, f"serve must start a worker child:\n{server.output()}"
        job_id = queue_scan(root, data_dir)
        deadline = time.monotonic() + JOB_TIMEOUT_S
        item: dict[str, Any] = {}
        while time.monotonic() < deadline:
            item = http.get(f"{server.base}/api/jobs/{job_id}").json()
            if item["status"] == "running" and 0 < item["progress_percent"] < 100:
                break
            assert item["status"] in ("queued", "running"), item
            time.sleep(0.02)
        else:
            pytest.fail(f"the scan was never seen part-way: {item}")
        stop_server(server, worker_pids)
        time.sleep(1.5)  # an orphaned worker would keep writing; give it the chance
        from jobdash.store.sqlite.store import SqliteStore

        store = SqliteStore(data_dir)
        try:
            row = store.get(job_id)
        finally:
            store.close()
        assert row is not None
        assert row["status"] == "queued", f"job left {row['status']} at {row['progress_percent']}%"
        assert row["worker_pid"] is None and row["started_at"] is None
    finally:
        server.close()


def test_serve_with_a_missing_dist_fails_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dist"
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jobdash",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "data"),
            "--dist",
            str(missing),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 20, "must fail at start, not serve"
    assert str(missing) in result.stderr and "index.html" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "" or "serving" not in result.stdout
