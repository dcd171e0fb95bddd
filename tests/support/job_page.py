"""Driving the job detail page in browser tests: open it under a fake clock, step polls,
read fields and log lines; run a real worker.

Like dashboard_support (whose in-page probes it reuses): the page is opened with
``page.clock.install()`` and paused, so every poll happens because a test advances the
clock, and ``window.__fetches`` records each request the page makes with its fake time.
The header indicator follows the status poller and ``#job-log-panel[data-state]`` the
log poller: ``settle()`` waits until neither is "updating".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from jobdash.store.log_writer import JobLog
from jobdash.store.sqlite.store import SqliteStore
from support.dashboard import ClockedPage, wait_for_fetches
from support.live_server import ROOT, LiveServer

REAL_WAIT_MS = 10_000  # upper bound for real-time waits (a request to the local server)
SHOWN = "#job-view:not([hidden]), #job-missing:not([hidden]), #page-error:not([hidden])"


class DetailPage(ClockedPage):
    """The detail page of a LiveServer, under a fake clock (status, log and job types
    fetches count)."""

    # --- opening and time -------------------------------------------------------------------

    def open(self, job_id: str | None = None, *, query: str | None = None) -> DetailPage:
        """Install the fake clock (paused), open job.html?id=JOB_ID (or ?QUERY), and wait
        until the page shows the job, the missing state or an error, with nothing in flight."""
        self.goto_paused("job.html?" + (query if query is not None else f"id={job_id}"))
        expect(self.page.locator(SHOWN)).to_have_count(1, timeout=REAL_WAIT_MS)
        self.settle()
        return self

    def settle(self) -> None:
        """Wait (in real time) until neither poller has a request in flight."""
        expect(self.status).not_to_have_attribute("data-state", "updating", timeout=REAL_WAIT_MS)
        expect(self.log_panel).not_to_have_attribute("data-state", "updating", timeout=REAL_WAIT_MS)
        wait_for_fetches(self.page)  # the job types too (polled while the job is queued)

    def run_for(self, ms: int) -> list[tuple[int, str]]:
        """Advance the fake clock by ``ms`` and let the requests it started finish.

        Returns (ms after the step began, "job" | "log" | "types") for each API request of the step.
        """
        start, before = self.now(), len(self.fetches())
        self.page.clock.run_for(ms)
        self.settle()
        return [(f["at"] - start, kind(f["url"])) for f in self.fetches()[before:]]

    # --- reading the page -------------------------------------------------------------------

    @property
    def log_panel(self) -> Any:
        return self.page.locator("#job-log-panel")

    @property
    def log(self) -> Any:
        return self.page.locator("#job-log")

    @property
    def bar(self) -> Any:
        return self.field("progress_percent").locator('[role="progressbar"]')

    def field(self, name: str) -> Any:
        return self.page.locator(f'#job-view [data-field="{name}"]')

    def log_texts(self) -> list[str]:
        return self.page.eval_on_selector_all("#job-log > li", "items => items.map((li) => li.textContent)")

    def tag_log_lines(self) -> None:
        """Remember every log line element, to check later that it is the same object."""
        self.page.evaluate("() => { window.__lines = [...document.querySelectorAll('#job-log > li')]; }")

    def same_log_lines(self) -> bool:
        """Whether the tagged line elements are still the first children of #job-log."""
        return self.page.evaluate(
            "() => window.__lines.every((li, i) => document.querySelector('#job-log').children[i] === li)"
        )


def kind(url: str) -> str:
    """ "log" for a logs request, "types" for a job types request, "job" for a job request."""
    path = urlsplit(url).path
    if path.endswith("/api/job-types"):
        return "types"
    return "log" if path.endswith("/logs") else "job"


def log_offset(url: str) -> int | None:
    """The offset parameter of a logs request (None for a tail request)."""
    values = parse_qs(urlsplit(url).query).get("offset")
    return int(values[0]) if values else None


def append_log(store: SqliteStore, job_id: str, *messages: str) -> None:
    """Append lines to a job's log, with the worker's own log writer."""
    job = store.get(job_id)
    assert job is not None
    with JobLog(store.log_path(job)) as job_log:
        for message in messages:
            job_log.write(message)


def delete_job(server: LiveServer, job_id: str) -> None:
    """Delete one job row with plain SQL, as another process could (the store has no delete)."""
    import sqlite3

    from jobdash.store.sqlite.store import DB_FILENAME

    conn = sqlite3.connect(server.data_dir / DB_FILENAME, timeout=5, isolation_level=None)
    try:
        conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
    finally:
        conn.close()


@contextmanager
def worker_process(data_dir: Path, files_per_second: float, log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m jobdash worker --max-files-per-second N`` on a data directory; stop
    it (SIGTERM, as an operator would) when the block ends."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("JOBDASH_")}
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jobdash",
                "worker",
                "--data-dir",
                str(data_dir),
                "--max-files-per-second",
                str(files_per_second),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
