"""The pages against a server that holds their polls (``Prefer: wait``): a change shows at
once, not an interval later; the indicator stays "Live" while a request waits for a change;
an idle page asks again only when a hold runs out; a finished job stops everything.

Real server (held polls on) and a build whose interval is a minute, so that only held
polls can show a change within seconds. Real time: a hold lasts real seconds, which
Playwright's fake clock cannot shorten. Chromium only: what is tested here is the pages'
logic, which the unit tests (tests/frontend/test_js_polling.py) cover in every engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from support.browser import engine_of
from support.dashboard import running_job
from support.job_page import append_log
from support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

INTERVAL_MS = 60_000  # without held polls, a change would take up to a minute to show
SOON_S = 5.0  # a held poll shows a change within this (typically ~0.1 s; the machine may be busy)

# Records every value the connection indicator's data-state takes, and when.
WATCH_INDICATOR = """() => {
  window.__states = [];
  const element = document.getElementById("connection-status");
  new MutationObserver(() => window.__states.push(element.dataset.state))
    .observe(element, { attributes: true, attributeFilter: ["data-state"] });
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("held"), "--poll-interval-ms", str(INTERVAL_MS), serve_flags=("--max-wait", "30")
    ) as running:
        yield running


@pytest.fixture
def chromium_page(page: Any) -> Any:
    if engine_of(page) != "chromium":
        pytest.skip("the pages' held polls are covered in Chromium; the Poller's rules in every engine")
    return page


def api_requests(page: Any) -> list[tuple[float, str, str | None]]:
    """(monotonic time, API path and query, Prefer header) of every API request from now on."""
    seen: list[tuple[float, str, str | None]] = []
    page.on(
        "request",
        lambda r: (
            seen.append((time.monotonic(), r.url.split("/api/", 1)[1], r.headers.get("prefer")))
            if "/api/" in r.url
            else None
        ),
    )
    return seen


def shown_within(page: Any, selector: str) -> float:
    """Wait for ``selector``; return how long it took (s)."""
    start = time.monotonic()
    page.wait_for_selector(selector, timeout=SOON_S * 1000)
    return time.monotonic() - start


def test_the_dashboard_shows_changes_at_once_and_stays_live(chromium_page: Any, server: LiveServer) -> None:
    page = chromium_page
    server.reset()
    requests = api_requests(page)
    page.goto(server.url("index.html"))
    page.wait_for_selector("#connection-status[data-state=live]")
    # Only the jobs list is held (a held request takes one of the browser's connections).
    assert {prefer for _, path, prefer in requests if path.startswith("jobs")} == {"wait=25"}, requests
    assert {prefer for _, path, prefer in requests if not path.startswith("jobs")} == {None}, requests
    server.await_holds(1)  # the jobs list, a minimum gap after its first answer
    page.evaluate(WATCH_INDICATOR)

    job = server.store.create("/media/Held", "scan", priority=100)["id"]
    shown_within(page, f"tr[data-job-id='{job}']")
    claimed = server.store.claim(4242, ("scan",))
    assert claimed is not None and claimed["id"] == job
    shown_within(page, f"tr[data-job-id='{job}'] [data-field=status] [data-status=running]")

    # Idle: the held requests wait for a change; nothing is asked meanwhile.
    server.await_holds(1)
    page.evaluate("0")  # a round trip to the page: its request events so far are delivered
    before = len(requests)
    page.wait_for_timeout(4000)
    assert requests[before:] == [], "an idle page asks again only when a hold runs out"
    assert "updating" not in page.evaluate("window.__states"), "no flicker while a request is held"
    assert page.locator("#connection-status").get_attribute("data-state") == "live"
    assert "as soon as they happen" in (page.locator("#connection-status").get_attribute("title") or "")


def test_the_job_page_follows_status_and_log_at_once_until_the_job_ends(chromium_page: Any, server: LiveServer) -> None:
    page = chromium_page
    server.reset()
    store = server.store
    job = running_job(store, "/media/Running", processed=1, total=10)
    append_log(store, job, "line 1", "line 2")
    requests = api_requests(page)
    page.goto(server.url(f"job.html?id={job}"))
    page.wait_for_selector("#job-log li[data-line='2']")
    server.await_holds(2)  # the status and the log, a minimum gap after their first answers
    log_requests = [(path, prefer) for _, path, prefer in requests if "/logs" in path]
    assert log_requests[0] == ("jobs/" + job + "/logs", None), "the tail load asks for no hold"
    assert all(prefer == "wait=25" for path, prefer in log_requests[1:] if "offset=2" in path)
    assert any("offset=2" in path for path, _ in log_requests), "the incremental request follows at once"

    append_log(store, job, "line 3")
    shown_within(page, "#job-log li[data-line='3']")
    store.progress(job, 5, 10, "files")
    shown_within(page, "[role=progressbar][aria-valuenow='50']")

    append_log(store, job, "the last line")
    store.finish(job, "completed", summary={"files_found": 10})
    shown_within(page, "#connection-status[data-reason=finished]")
    page.wait_for_selector("#job-log li[data-line='4']", timeout=SOON_S * 1000)
    page.wait_for_timeout(500)
    before = len(requests)
    page.wait_for_timeout(2000)
    assert requests[before:] == [], "nothing polls after the job ended"
