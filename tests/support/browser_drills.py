"""Support for the reliability and security drills: servers that can be stopped and
started again on the same port, a plain static server, extra browser pages that fail the
test on unexpected console errors, and in-page traps for injected script.

``ServerProcess`` is ``jobdash serve`` in a subprocess, like tests/support/live_server.py's
LiveServer, but on a port chosen once and kept: ``stop()`` and ``start()`` again bring
the same server back at the same origin (and data directory), so that pages left open
can reconnect to it. Its ``url()`` and ``store`` make it usable wherever the dashboard
and detail-page drivers (dashboard_support.Dashboard, job_page_support.DetailPage) take
a LiveServer. ``dist`` is optional: without it the server is the API only (a split-origin
deployment). With ``database_url`` it serves the PostgreSQL store at that URL
(``--database``), and its ``store`` is a PostgresStore on the same database: several
ServerProcesses on one URL are API replicas. ``StaticServer`` is ``python -m
http.server`` over a directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobdash.store.factory import open_store
from jobdash.store.interface import JobStore
from support.browser import watched_page
from support.live_server import READY_TIMEOUT_S, ROOT, _clean_env, await_holds, free_port

STOP_TIMEOUT_S = 10.0


# Runs before the page's modules (init scripts are exempt from the page's CSP): traps
# window.alert/confirm/prompt and records every CSP violation. An injected
# `onerror=window.__pwned=1` would set window.__pwned.
SECURITY_TRAPS = """
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = function (...args) { window.__dialogs.push([name, ...args.map(String)]); };
}
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""

READ_TRAPS = """() => ({
  dialogs: window.__dialogs,
  violations: window.__violations,
  pwned: typeof window.__pwned === "undefined" ? null : String(window.__pwned),
})"""


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_up(process: subprocess.Popen[bytes], url: str, output: Any) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} before it was ready:\n{output()}")
        if _http_ok(url):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {READY_TIMEOUT_S} s:\n{output()}")


def _stop(process: subprocess.Popen[bytes], *, group: bool) -> None:
    """SIGTERM (the process group when ``group``), then SIGKILL after STOP_TIMEOUT_S."""
    if process.poll() is not None:
        return
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()


class ServerProcess:
    """``jobdash serve`` on a fixed loopback port, stoppable and restartable.

    Held polls are off unless ``max_wait`` (``--max-wait``) is given: most drills step the
    pages' fake clocks, and a hold lasts real seconds (see support/live_server.py).
    """

    def __init__(
        self,
        data_dir: Path,
        log_file: Path,
        *,
        dist: Path | None = None,
        worker: bool = False,
        port: int | None = None,
        cors_origins: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        database_url: str | None = None,
        max_wait: int = 0,
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.dist = dist
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        self.starts = 0
        self.args = [sys.executable, "-m", "jobdash", "serve", "--data-dir", str(data_dir), "--port", str(self.port)]
        if dist is not None:
            self.args += ["--dist", str(dist)]
        if not worker:
            self.args.append("--no-worker")
        if database_url is not None:
            self.args += ["--database", database_url]
        for origin in cors_origins:
            self.args += ["--cors-origin", origin]
        self.args += ["--max-wait", str(max_wait), *extra]
        self.process: subprocess.Popen[bytes] | None = None
        self._store: JobStore | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    def url(self, path: str = "") -> str:
        return f"{self.base}/{path.lstrip('/')}"

    @property
    def store(self) -> JobStore:
        """A store on the server's database (SQLite in its data dir, or PostgreSQL at its
        ``database_url``), usable while the server is down too."""
        if self._store is None:
            self._store = open_store(self.data_dir, database_url=self.database_url)
        return self._store

    def output(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def start(self) -> ServerProcess:
        """Start the server (appending to its log) and return once /healthz answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=_clean_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1
        _wait_until_up(self.process, f"{self.base}/healthz", self.output)
        return self

    def await_holds(self, count: int) -> None:
        """Wait until the server holds ``count`` polls (see ``live_server.await_holds``)."""
        await_holds(self.base, count, self.output)

    def stop(self) -> int:
        """Stop it as an operator or a service manager would (SIGTERM); return its exit code."""
        assert self.process is not None
        _stop(self.process, group=True)
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL its process group: the server dies at once, as with a crashed host."""
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=STOP_TIMEOUT_S)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self.process is not None:
            _stop(self.process, group=True)


@contextmanager
def running_server(data_dir: Path, log_file: Path, **options: Any) -> Iterator[ServerProcess]:
    server = ServerProcess(data_dir, log_file, **options)
    try:
        yield server.start()
    finally:
        server.close()


class StaticServer:
    """``python -m http.server PORT --bind 127.0.0.1 --directory DIR``: a plain static host."""

    def __init__(self, directory: Path, log_file: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "") -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    def output(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def start(self) -> StaticServer:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "http.server",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--directory",
                    str(self.directory),
                ],
                cwd=self.directory,
                env=_clean_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _wait_until_up(self.process, self.url("index.html"), self.output)
        return self

    def close(self) -> None:
        if self.process is not None:
            _stop(self.process, group=False)


@contextmanager
def static_server(directory: Path, log_file: Path) -> Iterator[StaticServer]:
    server = StaticServer(directory, log_file)
    try:
        yield server.start()
    finally:
        server.close()


class SplitOrigin:
    """Pages from a static host, data from an API server: what the page drivers need
    (``url()`` for pages, ``store`` for jobs)."""

    def __init__(self, pages: StaticServer, api: ServerProcess) -> None:
        self.pages = pages
        self.api = api

    def url(self, path: str = "") -> str:
        return self.pages.url(path)

    @property
    def store(self) -> JobStore:
        return self.api.store


# --- browser pages ---------------------------------------------------------------------------


def extra_page(browser: Any) -> Any:
    """A page in a context of its own (its own fake clock), which fails the test on any
    console error left in ``page.console_errors`` at the end, like the ``page`` fixture."""
    return watched_page(browser)


def drop_console_errors(page: Any, *expected: str) -> list[str]:
    """Remove the console errors that contain one of ``expected`` (errors a drill causes
    on purpose); return them. Every other error stays, for the fixture to fail on."""
    dropped = [text for text in page.console_errors if any(part in text for part in expected)]
    page.console_errors[:] = [text for text in page.console_errors if text not in dropped]
    return dropped
