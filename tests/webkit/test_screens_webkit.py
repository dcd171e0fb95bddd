"""Both pages' look in WebKit at 1280 px (light and dark) and on a 390 px window, in their main states (the
seeds of the Playwright screenshot tests): no sideways scrolling, text in every badge.
Screenshots go to $JOBDASH_SCREENSHOTS (when set) as webkit-<layout>-<state>.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.browser_drills import ServerProcess
from support.job_page import delete_job
from support.screen_seeds import seed_dashboard, seed_job
from support.screens import screenshot_folder
from support.webkit import WebKitPage, check_webkit_layout, resize, wait_until

pytestmark = pytest.mark.browser

# Layout -> (window width, height, colour scheme).
LAYOUTS = {"1280-light": (1280, 860, "light"), "1280-dark": (1280, 860, "dark"), "390-phone": (390, 844, "light")}
LIVE = '#connection-status[data-state="live"]'
SHOWN = "#job-view:not([hidden]), #job-missing:not([hidden]), #page-error:not([hidden])"


@pytest.fixture
def shots() -> Path | None:
    return screenshot_folder()


def window(request: pytest.FixtureRequest, layout: str) -> tuple[Any, str]:
    """The WebKit session for ``layout`` (the dark one for dark layouts), sized for it;
    return it and the layout's colour scheme."""
    width, height, scheme = LAYOUTS[layout]
    driver = request.getfixturevalue("webkit_dark" if scheme == "dark" else "webkit")
    resize(driver, width, height)
    return driver, scheme


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_dashboard_layout(
    request: pytest.FixtureRequest, server: Any, tmp_path: Path, shots: Path | None, layout: str
) -> None:
    server.reset()
    driver, scheme = window(request, layout)
    # A server of its own, to stop for the reconnecting and offline states.
    api = ServerProcess(tmp_path / "data", tmp_path / "api.log", dist=server.dist).start()
    try:
        seed_dashboard(api)
        dash = WebKitPage(driver, api, api_prefix="/api/jobs").open("index.html", shown=LIVE)
        wait_until(lambda: dash.js("return document.querySelectorAll('#jobs-body tr').length") == 9, "nine rows")
        check_webkit_layout(dash, shots, f"{layout}-jobs.png", scheme, "#jobs-body .badge")

        dash = WebKitPage(driver, api, api_prefix="/api/jobs").open("index.html?status=failed", shown=LIVE)
        assert dash.js("return document.querySelectorAll('#jobs-body tr').length") == 1
        check_webkit_layout(dash, shots, f"{layout}-failed.png", scheme, "#jobs-body .badge")

        api.stop()
        dash.run_for(5000)
        assert dash.state() == "reconnecting"
        check_webkit_layout(dash, shots, f"{layout}-reconnecting.png", scheme, "#jobs-body .badge")
        dash.run_for(10_000)
        dash.run_for(10_000)
        assert dash.state() == "offline"
        check_webkit_layout(dash, shots, f"{layout}-offline.png", scheme, "#jobs-body .badge")
        api.start()

        server.reset()
        dash = WebKitPage(driver, server, api_prefix="/api/jobs").open("index.html", shown=LIVE)
        assert dash.js("return document.querySelector('[data-empty=\"none\"]').checkVisibility()")
        check_webkit_layout(dash, shots, f"{layout}-empty.png", scheme, "#jobs-body .badge")
        assert dash.errors() == []
    finally:
        api.close()


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(
    "state", ["running", "stalled", "completed", "failed", "transcode", "waiting", "missing", "bogus"]
)
def test_detail_layout(
    request: pytest.FixtureRequest, server: Any, shots: Path | None, layout: str, state: str
) -> None:
    server.reset()
    driver, scheme = window(request, layout)
    if state == "bogus":
        page = WebKitPage(driver, server).open("job.html?id=not-a-job-id", shown=SHOWN)
        assert page.js("return !document.getElementById('page-error').hidden")
    else:
        job = seed_job(server, state)
        page = WebKitPage(driver, server).open(f"job.html?id={job}", shown=SHOWN)
        if state == "missing":
            delete_job(server, job)
            page.run_for(5000)
            assert page.js("return !document.getElementById('job-missing').hidden")
        else:
            status = {"transcode": "running", "waiting": "queued", "stalled": "running"}.get(state, state)
            assert page.attribute('#job-view [data-field="status"]', "data-status") == status
            page.run_for(3000)
            if state in ("running", "stalled"):
                pace = {"running": "time-left", "stalled": "stalled"}[state]
                assert page.attribute("[data-role=pace]", "data-pace") == pace
    check_webkit_layout(page, shots, f"detail-{state}-{layout}.png", scheme, ".badge")
    assert page.errors() == []
