"""The detail page's states: a job that fails (a real worker, an unreadable root), a job
that ends while watched (one last fetch, then nothing), a job deleted while watched or
unknown at load (#job-missing), an address without a valid id (#page-error), and every
field of a finished job laid out.

Real server and build; the worker runs in the test process (Worker.run_once) where a
test needs one. Time is Playwright's fake clock.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jobdash.worker.loop import Worker
from support.dashboard import expected_network_errors, running_job
from support.job_page import DetailPage, append_log, delete_job

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LOG_INTERVAL_MS = 15000


def test_a_scan_whose_root_vanished_fails_and_shows_its_error(detail: DetailPage, tmp_path: Path) -> None:
    root = tmp_path / "Gone Library"
    root.mkdir()
    job = detail.store.create(str(root), "scan")["id"]
    detail.open(job)
    expect(detail.field("status")).to_have_attribute("data-status", "queued")
    expect(detail.page.locator("[data-role=error]")).to_be_hidden()

    root.rmdir()  # deleted before the worker claims the job
    assert Worker(detail.store).run_once()
    assert sorted(detail.run_for(INTERVAL_MS)) == [(INTERVAL_MS, "job"), (INTERVAL_MS, "log")]
    expect(detail.field("status")).to_have_attribute("data-status", "failed")
    expect(detail.field("status")).to_have_text("Failed")
    error = detail.field("error_message")
    expect(error).to_be_visible()
    expect(error).to_have_text(f"scan root {root} does not exist")
    expect(detail.log.locator("li").last).to_contain_text("does not exist")
    expect(detail.log.locator("li").last).to_have_attribute("data-level", "error")
    expect(detail.status).to_have_attribute("data-state", "paused")
    expect(detail.status).to_contain_text("job finished")
    assert detail.run_for(INTERVAL_MS * 6) == []


def test_a_job_that_ends_gets_one_last_fetch_then_nothing_polls(detail: DetailPage) -> None:
    store = detail.store
    job = running_job(store, "/media/Movies", processed=40, total=50)
    append_log(store, job, "first")
    detail.open(job)
    expect(detail.field("duration_seconds")).not_to_have_text("—")
    expect(detail.page.locator("[data-role=duration-label]")).to_have_text("Elapsed")

    append_log(store, job, "last words")
    store.progress(job, 50, 50)
    store.finish(job, "completed", summary={"files_found": 50, "files_scanned": 50, "errors": 0, "bytes": 2048})
    # The status poll sees the end; the log poller makes its one last fetch at once
    # (not at the log interval, 15 s away).
    assert sorted(detail.run_for(INTERVAL_MS)) == [(INTERVAL_MS, "job"), (INTERVAL_MS, "log")]
    expect(detail.log.locator("li").last).to_contain_text("last words")
    expect(detail.field("status")).to_have_attribute("data-status", "completed")
    expect(detail.page.locator("[data-role=duration-label]")).to_have_text("Duration")
    expect(detail.field("summary")).to_have_text("Scanned 50 of 50 files (2.0 KiB); no errors.")
    expect(detail.page.locator("[data-role=progress-text]")).to_have_text("Processed 50 of 50 files")
    expect(detail.bar).to_have_attribute("aria-valuenow", "100")
    expect(detail.status).to_have_attribute("data-state", "paused")
    expect(detail.status).to_contain_text("Paused — job finished")
    expect(detail.log_panel).to_have_attribute("data-state", "paused")
    requests = len(detail.network)
    assert detail.run_for(LOG_INTERVAL_MS * 4) == []
    assert len(detail.network) == requests, "the network saw no request either"
    # The elapsed time no longer ticks: the duration is the API's.
    shown = detail.field("duration_seconds").text_content()
    detail.page.clock.run_for(10_000)
    expect(detail.field("duration_seconds")).to_have_text(shown)


def test_a_job_deleted_while_watched_shows_the_missing_state_and_stops(detail: DetailPage) -> None:
    store = detail.store
    job = running_job(store, "/media/Deleted", processed=1, total=10)
    append_log(store, job, "hello")
    detail.open(job, query=f"id={job}&from=status%3Drunning")
    expect(detail.page.locator("#job-view")).to_be_visible()

    delete_job(detail.server, job)
    assert detail.run_for(INTERVAL_MS) == [(INTERVAL_MS, "job")]
    missing = detail.page.locator("#job-missing")
    expect(missing).to_be_visible()
    expect(missing).to_contain_text("This job no longer exists")
    expect(missing.get_by_role("link", name="Back to the jobs list")).to_have_attribute("href", "./?status=running")
    expect(detail.page.locator("#job-view")).to_be_hidden()
    expect(detail.status).to_have_attribute("data-state", "paused")
    assert detail.run_for(LOG_INTERVAL_MS * 4) == [], "a timer survived"
    expected_network_errors(detail.page)


def test_an_unknown_job_at_load_is_missing(detail: DetailPage) -> None:
    detail.open(str(uuid.uuid4()))
    expect(detail.page.locator("#job-missing")).to_be_visible()
    expect(detail.page.locator("#page-error")).to_be_hidden()
    assert detail.run_for(INTERVAL_MS * 3) == []
    expected_network_errors(detail.page)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("id=not-a-job", "“not-a-job” is not a job id"),
        ("id=%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D1%3E", "“<img src=x onerror=window.__xss=1>” is not a job id"),
        ("", "This address names no job"),
    ],
)
def test_an_address_without_a_valid_id_shows_a_page_error(detail: DetailPage, query: str, message: str) -> None:
    detail.open(query=query)
    error = detail.page.locator("#page-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(message)
    expect(error.get_by_role("link", name="Back to the jobs list")).to_have_attribute("href", "./")
    expect(detail.page.locator("#job-view")).to_be_hidden()
    expect(detail.page.locator("#job-loading")).to_be_hidden()
    expect(detail.status).to_have_attribute("data-state", "paused")
    assert detail.page.locator("#page-error img").count() == 0
    assert detail.network == [], "no API request for an address without a job id"
    detail.page.clock.run_for(INTERVAL_MS * 2)
    assert detail.network == []
    assert detail.page.evaluate("typeof window.__xss") == "undefined"


def test_every_field_of_a_job_is_laid_out(detail: DetailPage) -> None:
    store = detail.store
    created = store.create("/srv/media/Movies", "scan", priority=7, policy_name="nightly")
    job = created["id"]
    store.claim(1234, ("scan",))
    store.progress(job, 25, 100)
    store.finish(job, "failed", error_message="disk on fire", output_path="/srv/out/report.json")
    detail.open(job)
    with urllib.request.urlopen(detail.server.url(f"api/jobs/{job}")) as response:
        item = json.load(response)
    expect(detail.field("id")).to_have_text(job)
    expect(detail.field("id_short")).to_have_text(job[:8])
    expect(detail.field("job_type")).to_have_text("Scan")
    expect(detail.field("file_path")).to_have_text("/srv/media/Movies")
    expect(detail.field("priority")).to_have_text("7")
    expect(detail.field("policy_name")).to_have_text("nightly")
    expect(detail.field("output_path")).to_have_text("/srv/out/report.json")
    expect(detail.field("error_message")).to_have_text("disk on fire")
    for name in ("created_at", "started_at", "completed_at"):
        expect(detail.field(name)).to_have_attribute("datetime", item[name])
        expect(detail.field(name)).to_have_attribute("title", item[name])
    expect(detail.field("processed_count")).to_have_text("25")
    expect(detail.field("total_count")).to_have_text("100")
    expect(detail.page.locator("[data-role=progress-text]")).to_have_text("Stopped after 25 of 100 files")
    expect(detail.bar).to_have_attribute("aria-valuenow", "25")
    expect(detail.field("duration_seconds")).not_to_have_text("—")
    expect(detail.field("has_logs")).to_have_text("No")
    expect(detail.page.locator("[data-role=summary-section]")).to_be_hidden()
    assert detail.page.title() == f"✗ Failed — scan {job[:8]}"


def test_the_page_runs_under_its_csp_with_every_module_preloaded(detail: DetailPage) -> None:
    job = running_job(detail.store, "/media/Strict", processed=2, total=8)
    append_log(detail.store, job, "a line")
    scripts: list[str] = []
    detail.page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    detail.open(job)
    detail.assert_strict_csp(scripts)
    page = detail.page
    stylesheets = page.eval_on_selector_all('link[rel="stylesheet"]', "links => links.map(l => l.href)")
    assert any("/css/job." in href for href in stylesheets)


def test_status_changes_are_announced_politely_and_the_log_is_not(detail: DetailPage) -> None:
    job = running_job(detail.store, "/media/Spoken", processed=2, total=8)
    append_log(detail.store, job, "a line")
    detail.open(job)
    page = detail.page
    live = page.locator('[aria-live="polite"]:has([data-field="status"])')
    expect(live).to_have_attribute("aria-atomic", "true")
    expect(live).to_have_text("Status: Running")
    # Only the status is in that region: the progress and the ticking time are not.
    assert live.locator('[data-field="progress_percent"], [data-field="duration_seconds"]').count() == 0
    expect(detail.log).to_have_attribute("aria-live", "off")
    assert detail.log.get_attribute("role") is None
    assert page.locator("#job-log [aria-live], #job-log-panel[aria-live]").count() == 0
    for bar in (detail.bar,):
        expect(bar).to_have_attribute("aria-valuemin", "0")
        expect(bar).to_have_attribute("aria-valuemax", "100")
        expect(bar).to_have_attribute("aria-valuenow", "25")
        expect(bar).to_have_attribute("aria-valuetext", "2 of 8 files (25%)")
    detail.store.finish(job, "cancelled")
    detail.run_for(INTERVAL_MS)
    expect(live).to_have_text("Status: Cancelled")
