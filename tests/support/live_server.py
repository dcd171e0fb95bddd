"""A real jobdash for browser tests: the real build, served by the real server.

``live_server(tmp_path, "--poll-interval-ms", "2000")`` runs ``build.py --out DIR`` with
those flags, starts ``python -m jobdash serve --dist DIR --data-dir DATA --port FREE``
in a subprocess, waits until ``/healthz`` answers (printing the server's log if it never
does) and stops it afterwards. Tests drive jobs through ``server.store`` — a SqliteStore on
the same SQLite file, as another worker or the orchestrator would write it.

The server runs without its worker by default, so that jobs change only when a test
changes them.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from jobdash.store.sqlite.store import DB_FILENAME, SqliteStore

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 20.0
BUILD_TIMEOUT_S = 120.0


def _clean_env() -> dict[str, str]:
    """The environment without JOBDASH_* settings: a developer's own would change the
    build and the server under test."""
    return {name: value for name, value in os.environ.items() if not name.startswith("JOBDASH_")}


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Builds made in this test process, by flags: (the build's folder, its finished process).
_BUILDS: dict[tuple[str, ...], tuple[Path, subprocess.CompletedProcess[str]]] = {}


def held_polls(base: str) -> int:
    """How many polls the server at ``base`` holds now (its ``/healthz`` says)."""
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        return int(json.load(response)["held_polls"])


def await_holds(base: str, count: int, output: Callable[[], str]) -> None:
    """Wait until the server at ``base`` holds ``count`` polls (its ``/healthz`` says so);
    fail with the server's ``output()`` when it does not within READY_TIMEOUT_S.

    A request a page has sent may not have reached the server yet: a test that stops the
    server, or waits for a page to go quiet, waits for the holds first.
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    while (held := held_polls(base)) != count:
        assert time.monotonic() < deadline, f"the server holds {held} polls, not {count}:\n{output()}"
        time.sleep(0.05)


def build_frontend(out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Build the frontend with ``build.py FLAGS...`` into ``OUT``; return the finished
    process (its stderr holds the build's warnings). Raises RuntimeError with the
    build's output if it fails.

    The build is deterministic (the same sources and flags give byte-identical files), so
    each set of flags is built once per test process and copied for every later caller:
    OUT is always a copy of its own, which a test may edit.
    """
    kept = _BUILDS.get(flags)
    if kept is None:
        folder = Path(tempfile.mkdtemp(prefix="jobdash-build-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        kept = _BUILDS[flags] = (folder / "dist", _run_build(folder / "dist", *flags))
    shutil.copytree(kept[0], out)
    return kept[1]


def _run_build(out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run ``build.py --out OUT FLAGS...``; raise RuntimeError with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "build.py", "--out", str(out), *flags],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"build.py {' '.join(flags)} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


class LiveServer:
    """A running ``jobdash serve``: its base URL, dist and data directories, and a store."""

    def __init__(self, dist: Path, data_dir: Path, log_file: Path, *extra: str) -> None:
        self.dist = dist
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        self.build: subprocess.CompletedProcess[str] | None = None
        self._store: SqliteStore | None = None
        self._log = open(log_file, "wb")  # noqa: SIM115 (open for the server's lifetime)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jobdash",
                "serve",
                "--dist",
                str(dist),
                "--data-dir",
                str(data_dir),
                "--port",
                str(self.port),
                *extra,
            ],
            cwd=ROOT,
            env=_clean_env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # so that stopping it stops a worker child too
        )

    def url(self, path: str = "") -> str:
        """The absolute URL of ``path`` (e.g. "index.html?status=failed")."""
        return f"{self.base}/{path.lstrip('/')}"

    @property
    def store(self) -> SqliteStore:
        """A SqliteStore on the server's database (opened on first use)."""
        if self._store is None:
            self._store = SqliteStore(self.data_dir)
        return self._store

    def reset(self) -> None:
        """Delete every job and every registered worker, so that tests can share one
        server. Plain SQL on the database file, as another process could write it: the
        store's interface has no delete, by design."""
        conn = sqlite3.connect(self.data_dir / DB_FILENAME, timeout=5, isolation_level=None)
        try:
            conn.execute("DELETE FROM jobs")
            conn.execute("DELETE FROM workers")
        finally:
            conn.close()

    def output(self) -> str:
        """What the server has printed so far."""
        self._log.flush()
        return self.log_file.read_text(errors="replace")

    def await_holds(self, count: int) -> None:
        """Wait until the server holds ``count`` polls (see :func:`await_holds`)."""
        await_holds(self.base, count, self.output)

    def wait_ready(self) -> None:
        """Return once /healthz answers 200; raise RuntimeError with the log otherwise."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode} before it was ready:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server was not ready on {self.base} within {READY_TIMEOUT_S} s:\n{self.output()}")

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and close the store."""
        if self._store is not None:
            self._store.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@contextmanager
def live_server(
    tmp_path: Path, *build_flags: str, worker: bool = False, serve_flags: tuple[str, ...] = ()
) -> Iterator[LiveServer]:
    """Build the frontend with ``build_flags`` into ``tmp_path/dist`` and serve it with a
    fresh data directory; yield the running LiveServer.

    The built files are served from disk on every request, so a test may edit them (say,
    a hand-edited attribute in index.html) before it loads the page.

    Held polls are off (``--max-wait 0``) unless ``serve_flags`` sets ``--max-wait``: page
    tests drive time with Playwright's fake clock, and a hold lasts real seconds; with
    holds off the pages poll at their interval, as against a server that ignores
    ``Prefer``. The held-poll tests turn them on.
    """
    dist, data_dir = tmp_path / "dist", tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    build = build_frontend(dist, *build_flags)
    holds = () if "--max-wait" in serve_flags else ("--max-wait", "0")
    extra = (*(() if worker else ("--no-worker",)), *holds, *serve_flags)
    server = LiveServer(dist, data_dir, tmp_path / "server.log", *extra)
    server.build = build
    try:
        server.wait_ready()
        yield server
    finally:
        server.close()
