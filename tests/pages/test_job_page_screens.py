"""The detail page's look at 1280 px (light and dark) and on a 390 px phone: running
(progress and log), completed, failed, a running transcode with params and progress in
media time, a queued transcode waiting for a worker, missing (deleted while open) and a
bogus id. No
horizontal scrolling, text beside every status colour, dark colours in dark mode.
Screenshots go to $JOBDASH_SCREENSHOTS (when set) as detail-<state>-<layout>.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import watched_page
from support.dashboard import expected_network_errors
from support.job_page import DetailPage, delete_job
from support.live_server import LiveServer
from support.screen_seeds import seed_job
from support.screens import check_layout, layout_params, layouts, screenshot_folder

pytestmark = pytest.mark.browser

LAYOUTS = layouts(900)


@pytest.mark.parametrize("layout", layout_params())
@pytest.mark.parametrize(
    "state", ["running", "stalled", "completed", "failed", "transcode", "waiting", "missing", "bogus"]
)
def test_detail_layout(browser: Any, server: LiveServer, tmp_path: Path, layout: str, state: str) -> None:
    shots = screenshot_folder()
    options = LAYOUTS[layout]
    with watched_page(browser, **options) as page:
        server.reset()
        detail = DetailPage(page, server)
        if state == "bogus":
            detail.open(query="id=not-a-job-id")
            expect(page.locator("#page-error")).to_be_visible()
        else:
            job = seed_job(server, state)
            detail.open(job)
            if state == "missing":
                delete_job(server, job)
                detail.run_for(5000)
                expect(page.locator("#job-missing")).to_be_visible()
                expected_network_errors(page)
            else:
                status = {"transcode": "running", "waiting": "queued", "stalled": "running"}.get(state, state)
                expect(detail.field("status")).to_have_attribute("data-status", status)
                if state == "transcode":
                    expect(page.locator("[data-role=progress-text]")).to_have_text("Processing 0:23 of 1:00")
                    expect(page.locator('[data-field="params"] > div')).to_have_count(4)
                if state == "waiting":
                    expect(page.locator('#job-view [data-role="waiting"]')).to_be_visible()
                if state == "running":
                    expect(page.locator("[data-role=pace]")).to_have_attribute("data-pace", "time-left")
                if state == "stalled":
                    expect(page.locator("[data-role=pace]")).to_have_text("No progress for 4 min")
                detail.run_for(3000)  # the elapsed time has ticked; the log is at its end
        check_layout(page, shots, f"detail-{state}-{layout}.png", options["color_scheme"], ".badge:visible")
