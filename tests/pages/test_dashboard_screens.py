"""The dashboard's look at 1280 px (light and dark) and on a 390 px phone, in its main
states: no horizontal scrolling, text beside every status colour, dark colours in dark
mode. The seeded list has a workers strip (one worker alive running a scan, one gone), a
transcode waiting for a worker and one at "0:23 of 1:00". Screenshots go to
$JOBDASH_SCREENSHOTS (when set) for a human to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import watched_page
from support.dashboard import Dashboard, expected_network_errors
from support.live_server import LiveServer
from support.screen_seeds import seed_dashboard
from support.screens import check_layout, layout_params, layouts, screenshot_folder

pytestmark = pytest.mark.browser

LAYOUTS = layouts(860)


@pytest.mark.parametrize("layout", layout_params())
def test_dashboard_layout(browser: Any, server: LiveServer, tmp_path: Path, layout: str) -> None:
    shots = screenshot_folder()
    options = LAYOUTS[layout]
    scheme = options["color_scheme"]
    with watched_page(browser, **options) as page:
        server.reset()
        seed_dashboard(server)
        dash = Dashboard(page, server).open()
        expect(page.locator("#jobs-body tr")).to_have_count(9)
        expect(page.locator('#jobs-body .progress[data-mode="indeterminate"]')).to_have_count(1)
        expect(page.locator("#workers [data-worker-id]")).to_have_count(2)
        expect(page.locator('#jobs-body [data-waiting-for="transcode"]')).to_have_count(1)
        expect(page.locator("#jobs-body .progress-detail", has_text="0:23 of 1:00")).to_have_count(1)
        page.clock.run_for(3000)
        check_layout(dash.page, shots, f"{layout}-jobs.png", scheme, "#jobs-body .badge")

        page.select_option("#filter-status", "failed")
        dash.settle()
        expect(page.locator("#jobs-body tr")).to_have_count(1)
        check_layout(dash.page, shots, f"{layout}-failed.png", scheme, "#jobs-body .badge")
        page.select_option("#filter-status", "")
        dash.settle()

        page.route("**/api/jobs**", lambda route: route.abort())
        dash.run_for(5000)
        expect(dash.status).to_have_attribute("data-state", "reconnecting")
        check_layout(dash.page, shots, f"{layout}-reconnecting.png", scheme, "#jobs-body .badge")
        dash.run_for(10_000)
        dash.run_for(10_000)
        expect(dash.status).to_have_attribute("data-state", "offline")
        check_layout(dash.page, shots, f"{layout}-offline.png", scheme, "#jobs-body .badge")
        page.unroute("**/api/jobs**")
        expected_network_errors(page)

        # Cancelled scans: none (the cancelled job is a transcode).
        page.select_option("#filter-status", "cancelled")
        dash.settle()
        page.select_option("#filter-type", "scan")
        dash.settle()
        expect(page.locator('[data-empty="filtered"]')).to_be_visible()
        check_layout(dash.page, shots, f"{layout}-filtered-empty.png", scheme, "#jobs-body .badge")

        server.reset()
        page.goto(server.url("index.html"))
        dash.settle()
        expect(page.locator('[data-empty="none"]')).to_be_visible()
        expect(page.locator('#workers [data-role="workers-empty"]')).to_be_visible()
        check_layout(dash.page, shots, f"{layout}-empty.png", scheme, "#jobs-body .badge")
