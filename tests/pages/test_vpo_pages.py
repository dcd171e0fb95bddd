"""Both pages over a VPO library database (`jobdash serve --vpo-db`), in the browser.

Read-only (one server per module over a copy of the fixture VPO made): the dashboard
lists all 15 jobs with their types, statuses and progress in VPO's units; every job's
page opens; VPO's "[time] text" log lines show as time + text; VPO's own vpo.log never
shows; origin and batch show where VPO has them. The copy the server reads is the same
byte for byte afterwards (no -wal, no -shm, nothing else), and so is the shared fixture.

Live (a second copy, its own server): VPO's worker, played with plain sqlite3 the way VPO
writes (support/vpo.py), runs jobs while both pages watch: progress in media time,
status changes, log lines flushed 100 at a time, a status this dashboard does not know,
and pruned rows. The pages' fake clock runs at real speed there (``clock.resume()``);
the test waits on DOM attributes only.

Screenshots go to $JOBDASH_SCREENSHOTS (when set) as vpo-<page>-<layout>.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from playwright.sync_api import expect

from support.browser import watched_page
from support.dashboard import Dashboard, expected_network_errors
from support.job_page import DetailPage
from support.live_server import LiveServer, live_server
from support.screens import check_layout, layout_params, layouts, screenshot_folder
from support.vpo import FIXTURE, Snapshot, copy_fixture, shown_log_line, snapshot, vpo_worker

ORIGINAL = snapshot(FIXTURE) if FIXTURE.is_dir() else {}
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not ORIGINAL, reason=f"the VPO fixture is not at {FIXTURE}"),
]

RUNNING_TRANSCODE = "1b6f405b-c429-4e7a-a128-9a73d3efd33e"
QUEUED_TRANSCODE = "a7963c17-a593-489e-83fd-b0f289620376"
QUEUED_MOVE = "6b029db8-1fe6-413b-b017-09b2ae247904"
QUEUED_APPLY = "164f2512-612f-4018-8895-cba378e095e1"
FIRST_SCAN = "5e500325-fede-44e3-8b72-ae92218e6fe6"
SECOND_SCAN = "a1a564ab-ba92-4c0d-ab4e-ed8a62a3ec5e"
CLI_PROCESS = "2fc96ecb-ef93-4b13-944f-f29b07143470"
CLI_BATCH = "6da3d69e-a14d-4309-88f9-4e5b236e39e0"
DAEMON_PROCESS = "5028c55c-1bdf-47e0-8575-44a2c84ff3e9"

# Every job in the fixture: type and status, newest first (the dashboard's default order).
JOBS: dict[str, tuple[str, str]] = {
    "8adeb047-8405-4180-bb86-8ddc7fd62739": ("transcode", "cancelled"),
    QUEUED_APPLY: ("apply", "queued"),
    QUEUED_MOVE: ("move", "queued"),
    QUEUED_TRANSCODE: ("transcode", "queued"),
    RUNNING_TRANSCODE: ("transcode", "running"),
    "49b445bb-34b4-4471-b761-4a5126318b12": ("apply", "failed"),
    "b7a066a3-14b2-4fa1-aebf-084359b208b3": ("prune", "completed"),
    "b530a948-afdd-4fdd-9d67-a0be4d48559a": ("process", "failed"),
    DAEMON_PROCESS: ("process", "completed"),
    "179ade0d-a306-40c7-a07f-c49f680bfca1": ("prune", "completed"),
    SECOND_SCAN: ("scan", "completed"),
    "76c71e1d-5aee-4842-ba50-e2e2f21b1312": ("process", "failed"),
    "8c60993b-618a-4b32-ab6e-04b330e8f6c2": ("process", "completed"),
    CLI_PROCESS: ("process", "completed"),
    FIRST_SCAN: ("scan", "completed"),
}
# Lines of VPO's own process log (logs/vpo.log): never a job's.
VPO_LOG_MARKER = re.compile(r" - vpo\.| - INFO - | - WARNING - ")

LIVE_MS = 20_000  # upper bound for one live step (polls every 2 s)
LAYOUTS = layouts(900)


@pytest.fixture(scope="module", autouse=True)
def the_shared_fixture_stays_unchanged() -> Iterator[None]:
    yield
    assert snapshot(FIXTURE) == ORIGINAL, f"the shared VPO fixture {FIXTURE} was changed"


class Served(NamedTuple):
    folder: Path  # the copy of the fixture the server reads
    server: LiveServer
    before: Snapshot  # the copy, byte for byte, before the server started


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A copy of the fixture and a server showing it read-only; afterwards (the server
    stopped) the copy must be exactly what it was before the server started."""
    root = tmp_path_factory.mktemp("vpo-read-only")
    copy = copy_fixture(root / "vpo")
    before = snapshot(copy)
    files = {name: entry for name, entry in before.items() if not name.endswith("/")}
    assert files == {name: entry for name, entry in ORIGINAL.items() if not name.endswith("/")}, "a faithful copy"
    with live_server(root, serve_flags=("--vpo-db", str(copy / "library.db"))) as running:
        yield Served(copy, running, before)
    assert snapshot(copy) == before, "serving the VPO library changed its folder"


@pytest.fixture(scope="module")
def server(library: Served) -> LiveServer:
    return library.server


def log_lines(folder: Path, job_id: str) -> list[str]:
    path = folder / "logs" / f"{job_id}.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def progress_detail(dash: Dashboard, job_id: str) -> Any:
    return dash.cell(job_id, "progress_percent").locator(".progress-detail")


# --- read-only -----------------------------------------------------------------------------


def test_the_dashboard_lists_every_vpo_job(page: Any, server: LiveServer) -> None:
    dash = Dashboard(page, server).open()
    expect(page.locator("#jobs-body tr")).to_have_count(len(JOBS))
    assert dash.row_ids() == list(JOBS)
    expect(page.locator("#jobs-range")).to_have_text("1–15 of 15")
    for job_id, (job_type, status) in JOBS.items():
        expect(dash.cell(job_id, "job_type")).to_have_text(job_type)
        badge = dash.cell(job_id, "status").locator(".badge")
        expect(badge).to_have_attribute("data-status", status)
        expect(badge).to_have_text(status.capitalize())
    # Progress in VPO's units: media time for the running transcode, files for the scans.
    expect(progress_detail(dash, RUNNING_TRANSCODE)).to_have_text("0:42 of 1:40")
    expect(dash.cell(RUNNING_TRANSCODE, "progress_percent").locator('[role="progressbar"]')).to_have_attribute(
        "aria-valuenow", "42.5"
    )
    expect(progress_detail(dash, FIRST_SCAN)).to_have_text("4 of 4 files")
    expect(progress_detail(dash, SECOND_SCAN)).to_have_text("0 of 3 files")
    expect(dash.cell(RUNNING_TRANSCODE, "duration_seconds")).not_to_have_text("—")
    # VPO's workers do not register: no "waiting for a worker" under its queued jobs.
    expect(page.locator("#workers")).to_be_hidden()
    expect(page.locator('#jobs-body [data-role="waiting"]:visible')).to_have_count(0)
    # The type filter lists VPO's types.
    for job_type in ("apply", "move", "process", "prune", "scan", "transcode"):
        expect(page.locator(f'#filter-type option[value="{job_type}"]')).to_have_count(1)


def test_the_dashboard_filters_vpo_jobs(page: Any, server: LiveServer) -> None:
    dash = Dashboard(page, server).open("?status=failed")
    expect(page.locator("#jobs-body tr")).to_have_count(3)
    dash.page.select_option("#filter-type", "process")
    dash.settle()
    assert set(dash.row_ids()) == {"b530a948-afdd-4fdd-9d67-a0be4d48559a", "76c71e1d-5aee-4842-ba50-e2e2f21b1312"}


@pytest.mark.parametrize("job_id", list(JOBS))
def test_every_vpo_job_page_opens_with_its_status_and_log(page: Any, library: Served, job_id: str) -> None:
    folder, server, _ = library
    job_type, status = JOBS[job_id]
    detail = DetailPage(page, server).open(job_id)
    expect(detail.field("status")).to_have_attribute("data-status", status)
    expect(detail.field("status")).to_have_text(status.capitalize())
    expect(detail.field("job_type")).to_have_text(job_type.capitalize())
    expect(detail.field("id")).to_have_text(job_id)
    lines = log_lines(folder, job_id)
    if lines:
        # "[time] text" shows as time + text, the time in its span, no level.
        expect(detail.log.locator("li")).to_have_count(len(lines))
        assert detail.log_texts() == [shown_log_line(line) for line in lines]
        expect(detail.log.locator(".log-time")).to_have_count(len(lines))
        expect(detail.log.locator(".log-level")).to_have_count(0)
        expect(detail.log.locator("li[data-level]")).to_have_count(0)
        expect(detail.log.locator("li").first.locator(".log-time")).to_have_text(lines[0][1:].split("] ")[0])
        expect(detail.field("has_logs")).to_have_text("Yes")
    else:
        expect(detail.log).to_be_hidden()
        empty = "The log starts when the job runs." if status == "queued" else "This job has no log."
        expect(page.locator("#job-log-empty")).to_have_text(empty)
        expect(detail.field("has_logs")).to_have_text("No")
    assert not VPO_LOG_MARKER.search(page.locator("#job-log-panel").inner_text()), "a line of vpo.log is shown"
    # The state the page settles in: polling stops at a terminal status only.
    expect(detail.status).to_have_attribute("data-state", "live" if status in ("queued", "running") else "paused")
    expect(page.locator('#job-view [data-role="waiting"]')).to_be_hidden()


def test_the_running_transcode_page_shows_media_time_and_keeps_polling(page: Any, server: LiveServer) -> None:
    detail = DetailPage(page, server).open(RUNNING_TRANSCODE)
    expect(page.locator("[data-role=progress-text]")).to_have_text("Processing 0:42 of 1:40")
    expect(detail.bar).to_have_attribute("aria-valuenow", "42.5")
    expect(detail.field("policy_name")).to_have_text("hevc")
    expect(detail.log.locator("li").last).to_have_text(
        "2026-12-06T13:20:03.324014Z Transcoding video track: h264 -> hevc"
    )
    kinds = {kind for _, kind in detail.run_for(15_000)}
    assert kinds == {"job", "log"}, "a running VPO job's status and log are polled"


def test_origin_and_batch_show_where_vpo_has_them(page: Any, server: LiveServer) -> None:
    detail = DetailPage(page, server)
    detail.open(CLI_PROCESS)
    expect(detail.field("origin")).to_have_text("cli")
    expect(detail.field("origin")).to_be_visible()
    expect(detail.field("batch_id")).to_have_text(CLI_BATCH)
    expect(detail.field("batch_id")).to_be_visible()
    expect(detail.field("summary")).to_have_text("1 phase completed, no changes.")

    page.goto(server.url(f"job.html?id={DAEMON_PROCESS}"))
    detail.settle()
    expect(detail.field("status")).to_have_attribute("data-status", "completed")
    expect(detail.field("origin")).to_have_text("daemon")
    expect(page.locator('[data-role="batch-row"]')).to_be_hidden()

    page.goto(server.url(f"job.html?id={FIRST_SCAN}"))
    detail.settle()
    expect(detail.field("summary")).to_have_text(
        "Scanned 4 of 4 files: 0 skipped (unchanged), 4 added, 0 removed; no errors."
    )
    expect(page.locator('[data-role="origin-row"]')).to_be_hidden()
    expect(page.locator('[data-role="batch-row"]')).to_be_hidden()


@pytest.mark.parametrize("layout", layout_params())
def test_vpo_screens(browser: Any, server: LiveServer, tmp_path: Path, layout: str) -> None:
    """The VPO dashboard, the running VPO transcode's page and a CLI-queued process job's
    (origin and batch): no sideways scrolling, text in every badge, dark colours in dark mode."""
    shots = screenshot_folder()
    options = LAYOUTS[layout]
    with watched_page(browser, **options) as page:
        Dashboard(page, server).open()
        expect(page.locator("#jobs-body tr")).to_have_count(len(JOBS))
        check_layout(page, shots, f"vpo-jobs-{layout}.png", options["color_scheme"], "#jobs-body .badge")
    with watched_page(browser, **options) as page:
        detail = DetailPage(page, server).open(RUNNING_TRANSCODE)
        expect(detail.log.locator("li")).to_have_count(7)
        detail.run_for(1000)
        check_layout(page, shots, f"vpo-transcode-{layout}.png", options["color_scheme"], ".badge:visible")
    with watched_page(browser, **options) as page:
        detail = DetailPage(page, server).open(CLI_PROCESS)
        expect(detail.field("batch_id")).to_be_visible()
        check_layout(page, shots, f"vpo-cli-process-{layout}.png", options["color_scheme"], ".badge:visible")


def test_the_served_copy_is_unchanged_while_served(library: Served) -> None:
    """After every page above has read it: no -wal, no -shm, no byte or mtime changed in
    VPO's folder (checked again once the server has stopped, by the module fixture)."""
    assert snapshot(library.folder) == library.before


# --- live ----------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Path, LiveServer]]:
    """Another copy, and a server on it polling every 2 s (status and log)."""
    copy = copy_fixture(tmp_path / "vpo")
    flags = ("--poll-interval-ms", "2000", "--log-poll-interval-ms", "2000")
    with live_server(tmp_path, *flags, serve_flags=("--vpo-db", str(copy / "library.db"))) as running:
        yield copy, running


def open_live(stack: ExitStack, browser: Any, server: LiveServer, job_id: str | None = None) -> Any:
    """A page of its own (a context of its own): the dashboard, or a job's page."""
    page = stack.enter_context(watched_page(browser))
    return Dashboard(page, server).open() if job_id is None else DetailPage(page, server).open(job_id)


# Half a minute of VPO at work: Chromium only. What it shows is the store's (VPO's
# commits reach both pages); the pages themselves are drilled in every engine elsewhere.
@pytest.mark.slow
@pytest.mark.engines("chromium")
def test_vpo_at_work_moves_both_pages(browser: Any, live: tuple[Path, LiveServer], tmp_path: Path) -> None:
    folder, server = live
    shots = screenshot_folder()
    with ExitStack() as stack:
        dash = open_live(stack, browser, server)
        running = open_live(stack, browser, server, RUNNING_TRANSCODE)
        queued = open_live(stack, browser, server, QUEUED_TRANSCODE)
        move = open_live(stack, browser, server, QUEUED_MOVE)
        # As loaded: VPO's queued jobs wait for no "worker that runs ..." (VPO's workers are its own).
        expect(dash.page.locator('#jobs-body [data-role="waiting"]:visible')).to_have_count(0)
        for page in (queued, move):
            expect(page.field("status")).to_have_attribute("data-status", "queued")
            expect(page.page.locator('#job-view [data-role="waiting"]')).to_be_hidden()
        expect(queued.page.locator("#job-log-empty")).to_have_text("The log starts when the job runs.")
        expect(running.log.locator("li")).to_have_count(7)
        running.tag_log_lines()
        dash.tag_rows()
        for watcher in (dash, running, queued, move):
            watcher.page.clock.resume()

        with vpo_worker(folder) as vpo:
            # The running transcode: a heartbeat (nothing shown changes), then ffmpeg's progress.
            vpo.heartbeat(RUNNING_TRANSCODE)
            vpo.ffmpeg_progress(RUNNING_TRANSCODE, 50.0, 100.0)
            expect(progress_detail(dash, RUNNING_TRANSCODE)).to_have_text("0:50 of 1:40", timeout=LIVE_MS)
            expect(dash.cell(RUNNING_TRANSCODE, "progress_percent").locator('[role="progressbar"]')).to_have_attribute(
                "aria-valuenow", "50"
            )
            expect(running.page.locator("[data-role=progress-text]")).to_have_text(
                "Processing 0:50 of 1:40", timeout=LIVE_MS
            )
            expect(running.bar).to_have_attribute("aria-valuenow", "50")

            # Its log, as VPO writes it: nothing reaches the file until 100 lines wait.
            log = vpo.job_log(RUNNING_TRANSCODE)
            for n in range(1, 151):
                if n % 50 == 0:
                    vpo.heartbeat(RUNNING_TRANSCODE)
                log.write_line(f"frame={n * 24:5d} fps=48.2 q=28.0 size=  {n * 96:6d}kB time=00:00:{n % 60:02d}.00")
            expect(running.log.locator("li")).to_have_count(107, timeout=LIVE_MS)
            log.write_line("Output: <b>movie-a.hevc.mkv</b> (not markup)")
            log.close()  # the last 51 lines
            expect(running.log.locator("li")).to_have_count(158, timeout=LIVE_MS)
            assert running.same_log_lines(), "the lines shown before were replaced"
            lines = log_lines(folder, RUNNING_TRANSCODE)
            assert running.log_texts() == [shown_log_line(line) for line in lines], "lines lost or repeated"
            numbers = running.page.eval_on_selector_all("#job-log > li", "items => items.map((li) => li.dataset.line)")
            assert numbers == [str(n) for n in range(1, 159)]
            assert running.page.locator("#job-log b").count() == 0
            expect(running.page.locator("[data-role=log-count]")).to_have_text("158 lines")

            vpo.ffmpeg_progress(RUNNING_TRANSCODE, 100.0, 100.0)
            vpo.finish(RUNNING_TRANSCODE, "completed", output="/srv/library/media/movie-a.hevc.mkv")
            expect(running.field("status")).to_have_attribute("data-status", "completed", timeout=LIVE_MS)
            expect(running.page.locator("[data-role=progress-text]")).to_have_text("Processed 1:40 of 1:40")
            expect(running.field("output_path")).to_have_text("/srv/library/media/movie-a.hevc.mkv")
            expect(running.status).to_have_attribute("data-state", "paused", timeout=LIVE_MS)
            expect(dash.cell(RUNNING_TRANSCODE, "status").locator(".badge")).to_have_attribute(
                "data-status", "completed", timeout=LIVE_MS
            )
            expect(progress_detail(dash, RUNNING_TRANSCODE)).to_have_text("1:40 of 1:40")

            # VPO claims by priority: the apply (priority 10) first, which VPO cannot run.
            assert vpo.claim() == QUEUED_APPLY
            vpo.finish(QUEUED_APPLY, "failed", error="Unknown job type: JobType.APPLY")
            expect(dash.cell(QUEUED_APPLY, "status").locator(".badge")).to_have_attribute(
                "data-status", "failed", timeout=LIVE_MS
            )

            # Then the queued transcode: queued -> running (no progress yet) -> running at 0:25 -> completed.
            assert vpo.claim() == QUEUED_TRANSCODE
            expect(queued.field("status")).to_have_attribute("data-status", "running", timeout=LIVE_MS)
            expect(queued.field("progress_percent").locator(".progress")).to_have_attribute(
                "data-mode", "indeterminate"
            )
            expect(queued.page.locator("#job-log-empty")).to_have_text("No log lines yet.", timeout=LIVE_MS)
            expect(dash.cell(QUEUED_TRANSCODE, "status").locator(".badge")).to_have_attribute(
                "data-status", "running", timeout=LIVE_MS
            )
            job_log = vpo.job_log(QUEUED_TRANSCODE)
            for line in ("=" * 60, f"JOB START: {QUEUED_TRANSCODE}", "Type: transcode", "policy: hevc", "=" * 60):
                job_log.write_line(line)
            vpo.ffmpeg_progress(QUEUED_TRANSCODE, 25.0, 100.0)
            expect(queued.page.locator("[data-role=progress-text]")).to_have_text(
                "Processing 0:25 of 1:40", timeout=LIVE_MS
            )
            expect(progress_detail(dash, QUEUED_TRANSCODE)).to_have_text("0:25 of 1:40", timeout=LIVE_MS)
            job_log.write_line("JOB END: SUCCESS")
            job_log.close()
            vpo.ffmpeg_progress(QUEUED_TRANSCODE, 100.0, 100.0)
            vpo.finish(QUEUED_TRANSCODE, "completed")
            expect(queued.field("status")).to_have_attribute("data-status", "completed", timeout=LIVE_MS)
            expect(queued.log.locator("li")).to_have_count(6, timeout=LIVE_MS)
            expect(queued.log.locator("li").last).to_have_text(re.compile(r"^\S+Z JOB END: SUCCESS$"))
            expect(dash.cell(QUEUED_TRANSCODE, "status").locator(".badge")).to_have_attribute(
                "data-status", "completed", timeout=LIVE_MS
            )

            # A status a later VPO may add: "Unknown", not terminal (both pages keep polling).
            vpo.set_status(QUEUED_MOVE, "paused")
            badge = dash.cell(QUEUED_MOVE, "status").locator(".badge")
            expect(badge).to_have_attribute("data-status", "unknown", timeout=LIVE_MS)
            expect(badge).to_have_text("Unknown")
            expect(badge).to_have_attribute("title", re.compile("does not know"))
            expect(move.field("status")).to_have_attribute("data-status", "unknown", timeout=LIVE_MS)
            expect(move.field("status")).to_have_text("Unknown")
            expect(move.status).to_have_attribute("data-state", re.compile("^(live|updating)$"))
            check_layout(dash.page, shots, "vpo-unknown-jobs-1280-light.png", "light", "#jobs-body .badge")
            check_layout(move.page, shots, "vpo-unknown-job-1280-light.png", "light", ".badge:visible")

            # VPO prunes: the unknown move (its page is still polling) and the first scan.
            assert vpo.prune(QUEUED_MOVE, FIRST_SCAN) == 2
            expect(move.page.locator("#job-missing")).to_be_visible(timeout=LIVE_MS)
            expect(move.page.locator("#job-view")).to_be_hidden()
            expect(dash.page.locator("#jobs-range")).to_have_text("1–13 of 13", timeout=LIVE_MS)
            expect(dash.row(QUEUED_MOVE)).to_have_count(0)
            expect(dash.row(FIRST_SCAN)).to_have_count(0)
            expected_network_errors(move.page)

        # Rows that stayed were updated in place, never rebuilt.
        assert all(dash.same_rows().values())
        assert set(dash.same_rows()) == set(JOBS) - {QUEUED_MOVE, FIRST_SCAN}
        # VPO stopped (its -wal/-shm gone): the server reads the file alone again.
        expect(dash.page.locator("#jobs-body tr")).to_have_count(13)
        pruned = open_live(stack, browser, server, FIRST_SCAN)
        expect(pruned.page.locator("#job-missing")).to_be_visible()
        expect(pruned.page.locator("#job-missing")).to_contain_text("This job no longer exists")
        expected_network_errors(pruned.page)
