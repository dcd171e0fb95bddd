"""Plugins for real, on both pages: a job module and the built-in transcode run by real
``jobdash worker`` processes, submitted with ``jobdash submit``, watched on the dashboard
and the job page — live progress in the type's own unit, logs, cancellation and failure,
and the workers strip following workers as they start and stop.

The pages' fake clock runs at real speed while workers work (``clock.resume()``); the
tests wait on DOM attributes only.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from support.cli import clean_env, jobdash
from support.dashboard import Dashboard
from support.job_page import DetailPage
from support.live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INTERVAL_MS = 2000
LIVE_MS = 30_000

# A job module as an operator would write one: counts slowly, logs, can be told to fail.
MODULE = """
from jobdash import JobFailed, job_type


@job_type(description="Count to N, slowly")
def count(ctx):
    total = int(ctx.params.get("to", "5"))
    for n in range(1, total + 1):
        ctx.log(f"counted {n} <b>not markup</b>")
        ctx.progress(n, total, unit="items", force=True)
        ctx.sleep(float(ctx.params.get("pause", "0.4")))
    if ctx.params.get("fail"):
        raise JobFailed(f"gave up after {total} items")
    return {"counted": total}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    flags = ("--poll-interval-ms", str(INTERVAL_MS), "--log-poll-interval-ms", str(INTERVAL_MS))
    with live_server(tmp_path_factory.mktemp("plugins"), *flags, serve_flags=("--stale-after", "10")) as running:
        yield running


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "counting_jobs.py"
    path.write_text(MODULE)
    return path


@contextmanager
def worker(server: LiveServer, module: Path, log_file: Path, *types: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real `jobdash worker --job-module MODULE [--types ...]`, stopped with SIGTERM."""
    args = [sys.executable, "-m", "jobdash", "worker", "--data-dir", str(server.data_dir), "--job-module", str(module)]
    if types:
        args += ["--types", ",".join(types)]
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            args, env=clean_env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def submit(server: LiveServer, module: Path, job_type: str, target: str | Path, *params: str) -> str:
    args = ["submit", job_type, target, "--job-module", module, "--data-dir", server.data_dir]
    for param in params:
        args += ["--param", param]
    result = jobdash(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_module_job_live_on_the_dashboard_with_the_workers_strip(
    dash: Dashboard, module: Path, tmp_path: Path
) -> None:
    """The strip shows a worker as it starts, what it runs, and gone once it stops; the
    job's row moves through queued (waiting for a worker) and running ("n of 15 items") to
    completed, without a reload."""
    server = dash.server
    queued = submit(server, module, "count", "first", "to=15", "pause=0.4")
    dash.open()
    expect(dash.page.locator("#workers")).to_have_attribute("data-alive", "0")
    expect(dash.row(queued).locator('[data-role="waiting"]')).to_have_attribute("data-waiting-for", "count")
    dash.page.clock.resume()
    with worker(server, module, tmp_path / "worker.log", "count") as process:
        strip = dash.page.locator("#workers")
        expect(strip).to_have_attribute("data-alive", "1", timeout=LIVE_MS)
        alive = strip.locator('[data-state="alive"]')
        expect(alive).to_contain_text("count")
        expect(alive).to_contain_text(f"pid {process.pid}")
        expect(dash.row(queued).locator('[data-role="waiting"]')).to_be_hidden(timeout=LIVE_MS)
        expect(dash.cell(queued, "status").locator(".badge")).to_have_attribute(
            "data-status", "running", timeout=LIVE_MS
        )
        expect(dash.row(queued)).to_contain_text(re.compile(r"\b([1-9]|1[0-4]) of 15 items"), timeout=LIVE_MS)
        expect(alive.locator("a")).to_contain_text(queued[:8], timeout=LIVE_MS)
        expect(dash.cell(queued, "status").locator(".badge")).to_have_attribute(
            "data-status", "completed", timeout=LIVE_MS
        )
        expect(dash.row(queued)).to_contain_text("15 of 15 items")
    expect(strip).to_have_attribute("data-alive", "0", timeout=LIVE_MS)
    expect(strip.locator('[data-worker-id][data-state="gone"]')).to_have_count(1)


def test_a_module_job_cancelled_and_another_failing_on_the_job_page(
    detail: DetailPage, module: Path, tmp_path: Path
) -> None:
    """Cancelling a running plugin job stops it at its next step, and its page says so; a
    job whose handler raises shows the error, its log lines appended as they came."""
    server = detail.server
    long_job = submit(server, module, "count", "long", "to=200", "pause=0.2")
    failing = submit(server, module, "count", "short", "to=3", "pause=0.1", "fail=yes")
    detail.open(long_job)
    detail.page.clock.resume()
    with worker(server, module, tmp_path / "worker.log"):
        expect(detail.field("status")).to_have_attribute("data-status", "running", timeout=LIVE_MS)
        expect(detail.page.locator("[data-role=progress-text]")).to_have_text(
            re.compile(r"Processing \d+ of 200 items"), timeout=LIVE_MS
        )
        expect(detail.log.locator("li", has_text="counted 2 <b>not markup</b>")).to_have_count(1, timeout=LIVE_MS)
        cancelled = jobdash("cancel", long_job, "--data-dir", server.data_dir)
        assert cancelled.returncode == 0, cancelled.stderr
        expect(detail.field("status")).to_have_attribute("data-status", "cancelled", timeout=LIVE_MS)
        expect(detail.log.locator("li", has_text="job cancelled by the operator")).to_have_count(1, timeout=LIVE_MS)
        assert detail.page.locator("#job-view b").count() == 0

        detail.open(failing)
        detail.page.clock.resume()
        expect(detail.field("status")).to_have_attribute("data-status", "failed", timeout=LIVE_MS)
        expect(detail.field("error_message")).to_have_text("gave up after 3 items")
        expect(detail.log.locator("li", has_text="gave up after 3 items")).to_have_count(1, timeout=LIVE_MS)
    row = server.store.get(long_job)
    assert row["status"] == "cancelled" and int(row["progress_percent"]) < 100


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the transcode type is registered only where ffmpeg is")
def test_a_real_transcode_on_the_job_page(detail: DetailPage, module: Path, tmp_path: Path) -> None:
    """The built-in transcode, run by a worker that takes only transcodes: progress in
    media time, params shown, then the output and the summary."""
    from jobdash.jobs.sample_clip import make_clip

    clip = tmp_path / "clip.mkv"
    make_clip(clip, seconds=4)
    server = detail.server
    job_id = submit(server, module, "transcode", clip, "preset=h264-720p", "realtime=true")
    detail.open(job_id)
    expect(detail.field("params")).to_contain_text("h264-720p")
    detail.page.clock.resume()
    with worker(server, module, tmp_path / "worker.log", "transcode"):
        expect(detail.page.locator("[data-role=progress-text]")).to_have_text(
            re.compile(r"Processing 0:0[0-4] of 0:04"), timeout=LIVE_MS
        )
        expect(detail.field("status")).to_have_attribute("data-status", "completed", timeout=LIVE_MS)
    expect(detail.field("output_path")).to_have_text(str(tmp_path / "clip.h264-720p.mp4"))
    expect(detail.field("summary")).to_contain_text("Transcoded 0:04 of video (h264-720p)")
    assert (tmp_path / "clip.h264-720p.mp4").stat().st_size > 0
