"""How the dashboard polls: a hidden tab makes no requests, failures back off on the
documented schedule and recover, and the build's polling settings reach the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.dashboard import Dashboard, expected_network_errors
from support.live_server import live_server

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000


def test_a_hidden_tab_makes_no_request_and_fetches_at_once_on_return(dash: Dashboard) -> None:
    job = dash.store.create("/media/a", "scan")["id"]
    dash.open()
    dash.set_visibility("hidden")
    expect(dash.status).to_have_attribute("data-state", "paused")
    expect(dash.status).to_contain_text("tab hidden")
    requests = len(dash.network)
    assert dash.run_for(INTERVAL_MS * 6) == []
    dash.store.cancel(job)

    dash.set_visibility("visible")  # no clock step: the request goes out on return
    dash.settle()
    assert len(dash.fetches()) == 2
    expect(dash.cell(job, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
    expect(dash.status).to_have_attribute("data-state", "live")
    # Then the normal interval again.
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    assert len(dash.network) == requests + 2, "the network saw exactly the requests the page made"


def test_a_server_that_does_not_hold_gets_polls_at_the_interval(dash: Dashboard) -> None:
    """The page asks for held polls (Prefer: wait=25); a server that does not apply it
    (no Preference-Applied: here --max-wait 0, as an older server or a proxy that strips
    the header) gets the revalidation every interval, exactly as before."""
    prefer: list[str | None] = []
    dash.page.on("request", lambda r: prefer.append(r.headers.get("prefer")) if "/api/jobs" in r.url else None)
    dash.open()
    for _ in range(3):
        assert dash.run_for(INTERVAL_MS - 1) == []
        assert dash.run_for(1) == [1]
    assert prefer == ["wait=25"] * 4
    expect(dash.status).to_have_attribute("data-held", "false")
    expect(dash.status).to_have_attribute("data-state", "live")


def test_failures_back_off_on_schedule_then_recover(dash: Dashboard) -> None:
    job = dash.store.create("/media/a", "scan")["id"]
    dash.open()
    page = dash.page
    page.route("**/api/jobs**", lambda route: route.abort())
    # Gap before each retry, after the 1st, 2nd, 3rd, ... failure: the interval twice,
    # then 10 s, 20 s, 40 s. Each is checked to the millisecond: nothing 1 ms before,
    # one request when the last millisecond of the gap has passed.
    states = []
    for gap in (INTERVAL_MS, INTERVAL_MS, INTERVAL_MS, 10_000, 20_000, 40_000):
        assert dash.run_for(gap - 1) == []
        assert dash.run_for(1) == [1]
        states.append(dash.status.get_attribute("data-state"))
    # The first request failed after a success: 1 and 2 failures reconnect, then offline.
    assert states == ["reconnecting", "reconnecting", "offline", "offline", "offline", "offline"]
    expect(dash.status).to_contain_text("Offline — retrying in")
    expect(dash.row(job)).to_be_visible()  # the last data stays on screen

    dash.store.cancel(job)
    page.unroute("**/api/jobs**")
    assert dash.run_for(80_000) == [80_000]
    expect(dash.status).to_have_attribute("data-state", "live")
    expect(dash.cell(job, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]  # a success resets the schedule
    expected_network_errors(page)


def test_a_failing_api_with_retry_after_waits_at_least_that_long(dash: Dashboard) -> None:
    dash.store.create("/media/a", "scan")
    dash.open()
    page = dash.page
    page.route(
        "**/api/jobs**",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "30", "Content-Type": "application/json"},
            body='{"error": "the job store is unavailable"}',
        ),
    )
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    assert dash.run_for(29_999) == []
    assert dash.run_for(1) == [1]
    expect(dash.page.locator("#page-error")).to_be_hidden()  # a 5xx is the indicator's business
    page.unroute("**/api/jobs**")
    expected_network_errors(page)


def test_the_path_of_a_job_is_text_never_markup(dash: Dashboard) -> None:
    path = "/media/<img src=x onerror=window.__xss=1>/<script>window.__xss=2</script>"
    job = dash.store.create(path, "scan")["id"]
    dash.open()
    cell = dash.cell(job, "file_path")
    expect(cell).to_have_text(path)
    expect(cell).to_have_attribute("title", path)
    assert dash.page.locator("#jobs-table img, #jobs-table script").count() == 0
    dash.page.clock.run_for(2000)
    assert dash.page.evaluate("typeof window.__xss") == "undefined"


def test_the_page_runs_under_its_csp_with_every_module_preloaded(dash: Dashboard) -> None:
    dash.store.create("/media/a", "scan")
    scripts: list[str] = []
    dash.page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    dash.open()
    dash.assert_strict_csp(scripts)


# --- build-time polling settings -----------------------------------------------------------


def open_built(page: Any, tmp_path: Path, *flags: str, edit: tuple[str, str] | None = None) -> Iterator[Dashboard]:
    with live_server(tmp_path, *flags) as server:
        server.store.create("/media/a", "scan")
        if edit is not None:
            html = server.dist / "index.html"
            text = html.read_text()
            assert edit[0] in text
            html.write_text(text.replace(edit[0], edit[1]))
            # The server prefers the build's precompressed copy: it is stale now.
            (server.dist / "index.html.gz").unlink()
        yield Dashboard(page, server).open()


@pytest.mark.parametrize(
    ("flags", "interval", "warning"),
    [
        (("--poll-interval-ms", "2000"), 2000, False),
        (("--poll-interval-ms", "500"), 2000, True),
        (("--poll-interval-ms", "999999"), 60000, True),
    ],
)
def test_the_build_sets_the_interval_clamped_to_the_valid_range(
    page: Any, tmp_path: Path, flags: tuple[str, ...], interval: int, warning: bool
) -> None:
    for dash in open_built(page, tmp_path, *flags):
        assert dash.page.locator("body").get_attribute("data-polling-interval") == str(interval)
        assert ("poll_interval_ms" in dash.server.build.stderr) is warning, dash.server.build.stderr
        assert dash.run_for(interval - 1) == []
        assert dash.run_for(1) == [1]
        assert dash.run_for(interval) == [interval]


def test_a_hand_edited_unparsable_interval_falls_back_to_5000(page: Any, tmp_path: Path) -> None:
    edit = ('data-polling-interval="5000"', 'data-polling-interval="abc"')
    for dash in open_built(page, tmp_path, edit=edit):
        assert dash.page.locator("body").get_attribute("data-polling-interval") == "abc"
        assert dash.run_for(4999) == []
        assert dash.run_for(1) == [1]


def test_polling_disabled_loads_once_then_stays_paused(page: Any, tmp_path: Path) -> None:
    for dash in open_built(page, tmp_path, "--polling-enabled", "false"):
        expect(dash.status).to_have_attribute("data-state", "paused")
        expect(dash.status).to_contain_text("polling disabled")
        assert len(dash.row_ids()) == 1
        assert dash.run_for(600_000) == []
        assert len(dash.fetches()) == 1
        # A change of view still loads its data (once).
        dash.page.select_option("#filter-status", "failed")
        dash.settle()
        assert len(dash.fetches()) == 2
        expect(dash.page.locator('[data-empty="filtered"]')).to_be_visible()
        assert dash.run_for(600_000) == []


def test_a_client_error_is_shown_on_the_page_until_requests_succeed_again(dash: Dashboard) -> None:
    dash.store.create("/media/a", "scan")
    dash.open()
    page = dash.page
    message = "status must be one of queued, running (<b>not markup</b>)"
    page.route(
        "**/api/jobs**",
        lambda route: route.fulfill(
            status=400,
            headers={"Content-Type": "application/json"},
            body=json.dumps({"error": message}),
        ),
    )
    dash.run_for(INTERVAL_MS)
    error = page.locator("#page-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(message)
    assert page.locator("#page-error b").count() == 0
    page.unroute("**/api/jobs**")
    dash.run_for(INTERVAL_MS)
    expect(error).to_be_hidden()
    expected_network_errors(page)


def test_a_first_load_that_fails_says_it_is_waiting(dash: Dashboard) -> None:
    dash.store.create("/media/a", "scan")
    dash.page.route("**/api/jobs**", lambda route: route.abort())
    dash.open()
    expect(dash.status).to_have_attribute("data-state", "reconnecting")
    expect(dash.page.locator("#jobs-loading")).to_have_text("Waiting for the jobs API…")
    dash.page.unroute("**/api/jobs**")
    dash.run_for(INTERVAL_MS)
    expect(dash.page.locator("#jobs-loading")).to_be_hidden()
    assert len(dash.row_ids()) == 1
    expected_network_errors(dash.page)
