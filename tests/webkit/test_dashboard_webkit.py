"""The dashboard in WebKit (WebKitGTK, Safari's engine): the live-update stories of the
Playwright page tests, driven through Selenium (see support/webkit.py for how)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.browser_drills import ServerProcess
from support.dashboard import OBSERVE_LIST, running_job
from support.webkit import WebKitPage, wait_until

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LIVE = '#connection-status[data-state="live"]'


def open_dashboard(driver: Any, server: Any, query: str = "") -> WebKitPage:
    return WebKitPage(driver, server, api_prefix="/api/jobs").open(f"index.html{query}", shown=LIVE)


def row_ids(dash: WebKitPage) -> list[str]:
    return dash.js("return [...document.querySelectorAll('#jobs-body tr')].map((tr) => tr.dataset.jobId)")


def cell(job_id: str, field: str) -> str:
    return f'tr[data-job-id="{job_id}"] [data-field="{field}"]'


def test_a_changed_job_updates_its_row_in_place_and_a_new_job_is_inserted(driver: Any, server: Any) -> None:
    store = server.store
    older = store.create("/media/older", "scan")["id"]
    job_id = running_job(store, "/media/Shows", processed=10, total=100)
    dash = open_dashboard(driver, server)
    assert sorted(row_ids(dash)) == sorted([older, job_id])  # (created in the same millisecond, maybe)
    dash.js(
        "window.__row = document.querySelector(arguments[0]); window.__loads = performance.now();",
        f'tr[data-job-id="{job_id}"]',
    )

    store.progress(job_id, 25, 100)
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    bar = cell(job_id, "progress_percent") + ' [role="progressbar"]'
    wait_until(lambda: dash.attribute(bar, "aria-valuenow") == "25", "the bar at 25")
    assert "25 of 100" in dash.text(cell(job_id, "progress_percent"))

    newer = store.create("/media/new arrival", "move")["id"]
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    wait_until(lambda: row_ids(dash)[:1] == [newer] and len(row_ids(dash)) == 3, "the new job on top")
    assert dash.text(cell(newer, "file_path")) == "/media/new arrival"

    store.finish(job_id, "completed", summary={"files_found": 100})
    dash.run_for(INTERVAL_MS)
    wait_until(
        lambda: dash.attribute(f'tr[data-job-id="{job_id}"] [data-status]', "data-status") == "completed", "completed"
    )
    assert dash.js("return window.__row === document.querySelector(arguments[0])", f'tr[data-job-id="{job_id}"]'), (
        "the row must be updated in place, not rebuilt"
    )
    assert dash.js("return window.__loads !== undefined"), "the page reloaded"
    assert dash.errors() == []


def test_a_poll_that_changes_nothing_touches_nothing(driver: Any, server: Any) -> None:
    store = server.store
    done = running_job(store, "/media/done", processed=5, total=5)
    store.finish(done, "completed", summary={})
    waiting = store.create("/media/waiting", "scan")["id"]
    dash = open_dashboard(driver, server)
    dash.js(OBSERVE_LIST)
    dash.run_for(INTERVAL_MS)
    dash.run_for(INTERVAL_MS)
    assert dash.js("return window.__responses") == [304, 304]
    assert dash.js("return window.__mutations") == []

    # The same observers see a real change (so the silence above means something).
    assert store.cancel(waiting) is not None
    dash.run_for(INTERVAL_MS)
    assert dash.js("return window.__responses") == [304, 304, 200]
    assert dash.js("return window.__mutations") != []
    assert dash.errors() == []


def test_a_hidden_window_polls_nothing_and_showing_it_polls_at_once(driver: Any, server: Any) -> None:
    server.store.create("/media/a", "scan")
    dash = open_dashboard(driver, server)
    before = len(dash.fetches())
    driver.minimize_window()  # really hides the page: WebKit fires visibilitychange
    wait_until(lambda: dash.js("return document.visibilityState") == "hidden", "the page hidden")
    wait_until(lambda: dash.state() == "paused", "the indicator paused")
    assert dash.run_for(60_000) == []
    assert len(dash.fetches()) == before

    driver.set_window_size(1280, 900)  # shown again
    wait_until(lambda: dash.js("return document.visibilityState") == "visible", "the page visible")
    dash.settle()
    assert len(dash.fetches()) == before + 1, "showing the page must fetch at once"
    wait_until(lambda: dash.state() == "live", "live again")
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    assert dash.errors() == []


def test_the_server_going_away_backs_off_and_the_page_recovers_by_itself(
    driver: Any, server: Any, tmp_path: Path
) -> None:
    # A server of its own, to stop and start again on the same port.
    api = ServerProcess(tmp_path / "data", tmp_path / "api.log", dist=server.dist).start()
    try:
        job_id = api.store.create("/media/steady", "scan")["id"]
        dash = open_dashboard(driver, api)
        api.stop()
        seen = []
        # Step the clock a second at a time and note when each attempt went out and what
        # the indicator said after it: the interval after the 1st and 2nd failures, then
        # 10, 20, 40 s.
        start = dash.now()
        for _ in range(5 + 5 + 5 + 10 + 20 + 40):
            for at in dash.run_for(1000):
                seen.append((dash.now() - 1000 + at - start, dash.state()))
        times = [at for at, _ in seen]
        gaps = [b - a for a, b in zip([0, *times], times, strict=False)]
        assert gaps == [5000, 5000, 5000, 10_000, 20_000, 40_000], seen
        assert [state for _, state in seen] == ["reconnecting", "reconnecting"] + ["offline"] * 4
        assert "Offline — retrying in 1 min 20 s" in dash.text("#connection-status")

        api.start()
        assert api.store.cancel(job_id) is not None
        assert dash.run_for(80_000) == [80_000]
        wait_until(lambda: dash.state() == "live", "live again")
        wait_until(
            lambda: dash.attribute(f'tr[data-job-id="{job_id}"] [data-status]', "data-status") == "cancelled",
            "cancelled",
        )
        assert dash.errors() == []
    finally:
        api.close()


def test_hostile_file_names_are_text_and_no_script_runs(driver: Any, server: Any) -> None:
    path = "/media/<img src=x onerror=window.__xss=1>/<script>window.__xss=2</script>"
    job_id = server.store.create(path, "scan")["id"]
    dash = open_dashboard(driver, server)
    assert dash.text(cell(job_id, "file_path")) == path
    assert dash.js("return document.querySelectorAll('#jobs-body img, #jobs-body script').length") == 0
    assert dash.js("return window.__xss === undefined")
    assert dash.errors() == []


def test_the_strict_csp_holds(driver: Any, server: Any) -> None:
    """The page runs under its CSP <meta> without unsafe-inline (modules, import map by
    hash), and WebKit enforces it: an inline script added later does not run."""
    server.store.create("/media/a", "scan")
    dash = open_dashboard(driver, server)
    dash.assert_strict_csp()
