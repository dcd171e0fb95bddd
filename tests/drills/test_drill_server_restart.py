"""Drill: the server is restarted while a dashboard and a detail page are open.

The real build is served by a real ``jobdash serve`` on a fixed port; the dashboard
(index.html) and the detail page of a running job (job.html?id=...) are open in two
browser contexts, each under its own paused fake clock. The server is stopped with
SIGTERM, and while it is down the jobs change through the store (a running job makes
progress and logs two more lines, a queued job is cancelled, a new job is queued).

The clocks are then stepped through the documented schedule, and each step is checked
to the millisecond: the pages go ``reconnecting`` after the 1st and 2nd failed poll
(retried at the normal interval, 5 s), ``offline`` from the 3rd (retrying after 10, 20,
40 s: "Offline — retrying in 40 s"); the detail page's log poller (15 s) follows its own
schedule. The server is started again on the same port and data directory, and at the
next attempt — with no reload and no user action — both pages are ``live`` again (the
log poller, still backing off on its own schedule, retries with the first status poll
that succeeds) with fresh data: the cancelled job's badge, the new job inserted in order, the
running job's new progress and its new log lines, each row and each log line exactly
once, in order. The only console errors are Chromium's "connection refused", one per
failed request (counted); any other fails the drill.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.model.list_query import ListQuery
from support.browser import failed_request_text
from support.browser_drills import (
    ServerProcess,
    drop_console_errors,
    extra_page,
)
from support.dashboard import Dashboard, running_job
from support.job_page import DetailPage, append_log
from support.live_server import build_frontend

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INTERVAL_MS = 5000
LOG_INTERVAL_MS = 15000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    dist = tmp_path / "dist"
    build_frontend(dist)  # the defaults: poll every 5 s, logs every 15 s
    process = ServerProcess(tmp_path / "data", tmp_path / "server.log", dist=dist)
    try:
        yield process.start()
    finally:
        process.close()


def schedule(interval_ms: int, failures: int) -> list[int]:
    """The documented gaps before attempts 2..failures+1 after ``failures`` failures in
    a row: the interval after the 1st and 2nd, then 10, 20, 40, 80, 120, 120 ... s."""
    backoff = [10_000, 20_000, 40_000, 80_000, 120_000]
    return [interval_ms if n <= 2 else backoff[min(n - 3, len(backoff) - 1)] for n in range(1, failures + 1)]


def attempts(start_ms: int, interval_ms: int, failures: int, until_ms: int) -> list[int]:
    """Times (fake ms) of a poller's attempts in (start_ms, until_ms], its last success
    at start_ms and every attempt failing."""
    times, at = [], start_ms + interval_ms
    for gap in schedule(interval_ms, failures + 1):
        if at > until_ms:
            break
        times.append(at)
        at += gap
    return times


def step(detail: DetailPage, total_ms: int) -> list[tuple[int, str]]:
    """Advance the detail page's clock by ``total_ms`` one poll interval at a time (so
    that each request is answered before the clock moves on); return its requests."""
    seen, done = [], 0
    while done < total_ms:
        ms = min(INTERVAL_MS, total_ms - done)
        seen += [(done + at, what) for at, what in detail.run_for(ms)]
        done += ms
    return sorted(seen)


def api_order(store: Any) -> list[str]:
    """The job ids of the dashboard's default view, in the API's order (jobs created in
    the same millisecond are ordered by id)."""
    return [row["id"] for row in store.list(ListQuery())[0]]


def text_of(shown: Any) -> str:
    return shown.status.locator('[data-role="connection-text"]').text_content()


def test_pages_ride_out_a_server_restart(page: Any, browser: Any, server: ServerProcess) -> None:
    started = time.monotonic()
    store = server.store
    running = running_job(store, "/media/Running", processed=5, total=50)
    append_log(store, running, "scanning /media/Running/a.mkv", "scanning /media/Running/b.mkv")
    queued = store.create("/media/Queued", "scan")["id"]

    dash = Dashboard(page, server).open()
    assert dash.row_ids() == api_order(store) and sorted(dash.row_ids()) == sorted([queued, running])
    with extra_page(browser) as job_page:
        detail = DetailPage(job_page, server).open(running)
        expect(detail.log.locator("li")).to_have_count(2)
        expect(detail.status).to_have_attribute("data-state", "live")
        expect(detail.log_panel).to_have_attribute("data-state", "live")

        # --- the server goes away; the jobs change meanwhile --------------------------------
        # Uvicorn shuts down gracefully, then re-raises the signal: exit "killed by SIGTERM".
        assert server.stop() in (0, -signal.SIGTERM), server.output()
        assert server.output().count("Application shutdown complete.") == 1, server.output()
        store.progress(running, 30, 50)
        append_log(store, running, "scanning /media/Running/c.mkv", "scanning /media/Running/d.mkv")
        store.cancel(queued)
        new = store.create("/media/New", "scan")["id"]

        # Every attempt fails until t = 84 999 ms (fake time since the pages opened).
        down_until = 84_999
        expected_status = attempts(0, INTERVAL_MS, 5, down_until)
        expected_log = attempts(0, LOG_INTERVAL_MS, 5, down_until)
        assert expected_status == [5000, 10_000, 15_000, 25_000, 45_000]
        assert expected_log == [15_000, 30_000, 45_000, 55_000, 75_000]

        # Step both clocks from attempt to attempt (a step that jumped past an attempt and
        # 10 s more would time out its request before the network could answer it).
        dash_seen: list[int] = []
        job_seen: list[int] = []
        log_seen: list[int] = []
        states: dict[int, tuple[str, str, str]] = {}
        texts: dict[int, tuple[str, str]] = {}
        now = 0
        for at in sorted({*expected_status, *expected_log, down_until}):
            dash_seen += [now + ms for ms in dash.run_for(at - now)]
            for ms, what in detail.run_for(at - now):
                (job_seen if what == "job" else log_seen).append(now + ms)
            now = at
            states[at] = (
                dash.status.get_attribute("data-state"),
                detail.status.get_attribute("data-state"),
                detail.log_panel.get_attribute("data-state"),
            )
            texts[at] = (text_of(dash), text_of(detail))
        assert dash_seen == job_seen == expected_status, "the dashboard and the detail page: one schedule"
        assert log_seen == expected_log
        header = [states[at][:2] for at in expected_status]
        assert header == [("reconnecting",) * 2] * 2 + [("offline",) * 2] * 3
        assert [states[at][2] for at in expected_log] == ["reconnecting"] * 2 + ["offline"] * 3
        retrying = [f"Offline — retrying in {s} s" for s in (10, 20, 40)]
        assert [texts[at] for at in expected_status] == [
            (text, text) for text in ["Reconnecting…", "Reconnecting…", *retrying]
        ]
        # At the end of the outage (t = 84 999): the 40 s backoff ends in 1 ms.
        for shown in (dash, detail):
            expect(shown.status).to_have_attribute("data-reason", "backoff")
            expect(shown.status.locator('[data-role="connection-text"]')).to_have_text("Offline — retrying in 1 s")
        # The last data stays on screen while offline.
        assert sorted(dash.row_ids()) == sorted([queued, running])
        expect(detail.log.locator("li")).to_have_count(2)

        logged = failed_request_text(page, "refused")
        refused = {
            "dashboard": len(drop_console_errors(page, logged)) if logged else 0,
            "detail": len(drop_console_errors(job_page, logged)) if logged else 0,
        }
        # The dashboard's three pollers (jobs, job types, workers) keep one schedule (an
        # engine that logs refused requests shows each attempt once).
        expected_refused = {"dashboard": 5 * 3, "detail": 5 + 5} if logged else {"dashboard": 0, "detail": 0}
        assert refused == expected_refused, refused
        assert page.console_errors == [] and job_page.console_errors == []

        # --- the server comes back on the same port and data directory ----------------------
        server.start()
        assert dash.run_for(1) == [1]  # t = 85 000: the attempt after the 40 s backoff
        # The log poller was backing off until t = 115 000: it retries with the first status
        # poll that succeeds, so the whole page is fresh at once.
        assert sorted(detail.run_for(1)) == [(1, "job"), (1, "log")]
        now += 1
        for shown in (dash, detail):
            expect(shown.status).to_have_attribute("data-state", "live")
            expect(shown.status.locator('[data-role="connection-text"]')).to_have_text("Live")
        expect(detail.log_panel).to_have_attribute("data-state", "live")

        # Fresh data on the dashboard: every job once, in the API's order (newest first: the
        # new job on top), changes applied.
        assert dash.row_ids() == api_order(store) and dash.row_ids()[0] == new
        assert dash.page.locator("#jobs-body tr").count() == 3
        expect(dash.cell(queued, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
        expect(dash.cell(running, "progress_percent").locator('[role="progressbar"]')).to_have_attribute(
            "aria-valuenow", "60"
        )
        # Fresh data on the detail page, its log included.
        expect(detail.field("processed_count")).to_have_text("30")
        expect(detail.bar).to_have_attribute("aria-valuenow", "60")
        lines = [f"scanning /media/Running/{name}.mkv" for name in "abcd"]

        def shown_lines() -> list[str]:
            return [text.split(" INFO ", 1)[1] for text in detail.log_texts()]

        assert shown_lines() == lines, "each log line exactly once, in order"
        numbers = job_page.eval_on_selector_all("#job-log > li", "items => items.map((li) => li.dataset.line)")
        assert numbers == ["1", "2", "3", "4"]

        # And the pages keep polling on the normal schedule: nothing is fetched twice or
        # re-appended.
        append_log(store, running, "scanning /media/Running/e.mkv")
        store.progress(running, 31, 50)
        assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
        assert step(detail, LOG_INTERVAL_MS) == [(5000, "job"), (10_000, "job"), (15_000, "job"), (15_000, "log")]
        assert shown_lines() == [*lines, "scanning /media/Running/e.mkv"]
        assert dash.row_ids() == api_order(store)
        expect(detail.field("processed_count")).to_have_text("31")

        assert page.console_errors == [] and job_page.console_errors == []
        print(
            f"\nserver restart drill: {sum(refused.values())} refused requests "
            f"(dashboard {refused['dashboard']}, detail {refused['detail']}), "
            f"server started {server.starts} times, {time.monotonic() - started:.1f} s"
        )


# --- the same with held polls ------------------------------------------------------------------

MIN_GAP_MS = 1000  # min_update_gap_ms, the build's default


@pytest.fixture
def held_server(tmp_path: Path) -> Iterator[ServerProcess]:
    dist = tmp_path / "dist"
    build_frontend(dist)
    process = ServerProcess(tmp_path / "data", tmp_path / "server.log", dist=dist, max_wait=30)
    try:
        yield process.start()
    finally:
        process.close()


def test_held_polls_ride_out_a_server_restart(page: Any, browser: Any, held_server: ServerProcess) -> None:
    """With held polls on: shutdown answers the pages' held requests, the pages then follow
    the documented backoff from the first refused request, and once the server is back
    they are live and held again, showing a change the moment it is committed."""
    server = held_server
    store = server.store
    running = running_job(store, "/media/Running", processed=5, total=50)
    append_log(store, running, "scanning /media/Running/a.mkv")

    dash = Dashboard(page, server).open()
    with extra_page(browser) as job_page:
        detail = DetailPage(job_page, server).open(running)
        for shown in (dash, detail):
            expect(shown.status).to_have_attribute("data-held", "true")
            expect(shown.status).to_have_attribute("data-state", "live")
        # The next polls go out after the minimum gap, and wait at the server for a change.
        page.clock.run_for(MIN_GAP_MS)
        job_page.clock.run_for(MIN_GAP_MS)
        new = store.create("/media/Committed", "scan")["id"]
        expect(dash.row(new)).to_be_visible()  # no clock step: the held poll answered
        store.progress(running, 10, 50)
        expect(detail.bar).to_have_attribute("aria-valuenow", "20")
        append_log(store, running, "scanning /media/Running/b.mkv")
        expect(detail.log.locator("li")).to_have_count(2)
        for shown in (dash, detail):
            expect(shown.status).to_have_attribute("data-state", "live")
        # A minimum gap after those answers: the job's status is held again; the jobs list
        # (changed again by the progress) and the log (its first ask from a new offset has
        # nothing to revalidate) are answered at once.
        page.clock.run_for(MIN_GAP_MS)
        job_page.clock.run_for(MIN_GAP_MS)
        server.await_holds(1)
        dash.settle()
        expect(job_page.locator("html")).to_have_attribute("data-test-inflight", "1")  # the held status
        # The jobs list is held a minimum gap later. The server has every request the pages
        # have out, so none is refused when it stops (one still on its way would be).
        page.clock.run_for(MIN_GAP_MS)
        server.await_holds(2)

        # --- the server goes away: it answers every held request (304) before it exits ----
        assert server.stop() in (0, -signal.SIGTERM), server.output()
        for shown in (dash, detail):
            shown.settle()  # every held request answered: nothing left in flight
            expect(shown.status).to_have_attribute("data-state", "live")
        store.cancel(new)

        # The next attempt a minimum gap later is refused; then the documented backoff.
        expected = [MIN_GAP_MS, MIN_GAP_MS + 5000, MIN_GAP_MS + 10_000, MIN_GAP_MS + 20_000]
        seen: list[int] = []
        states = []
        now = 0
        for at in expected:
            seen += [now + ms for ms in dash.run_for(at - now)]
            detail.run_for(at - now)
            now = at
            states.append((dash.status.get_attribute("data-state"), detail.status.get_attribute("data-state")))
        assert seen == expected, "the backoff schedule holds with held polls"
        assert states == [("reconnecting",) * 2] * 2 + [("offline",) * 2] * 2
        for shown in (dash, detail):
            expect(shown.status).to_have_attribute("data-held", "false")

        # --- back: the next attempt brings the pages live, then held again -----------------
        server.start()
        # The 20 s backoff step. (No settling here: the answers that did not change are
        # held at once, as the server is back.)
        before = len(dash.fetches())
        page.clock.run_for(20_000)
        job_page.clock.run_for(20_000)
        assert len(dash.fetches()) == before + 1
        for shown in (dash, detail):
            expect(shown.status).to_have_attribute("data-state", "live")
            expect(shown.status).to_have_attribute("data-held", "true")
        expect(dash.cell(new, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
        page.clock.run_for(MIN_GAP_MS)
        job_page.clock.run_for(MIN_GAP_MS)
        store.finish(running, "completed", summary={"files_found": 50})
        expect(dash.cell(running, "status").locator(".badge")).to_have_attribute("data-status", "completed")
        expect(detail.status).to_have_attribute("data-reason", "finished")
        detail.settle()  # its last fetches answered
        page.clock.run_for(MIN_GAP_MS)
        server.await_holds(1)
        # Stopped while the dashboard's poll is held: it is answered, the next one refused.
        assert server.stop() in (0, -signal.SIGTERM), server.output()
        dash.settle()
        expect(dash.status).to_have_attribute("data-state", "live")
        assert dash.run_for(MIN_GAP_MS) == [MIN_GAP_MS]
        expect(dash.status).to_have_attribute("data-state", "reconnecting")
        logged = failed_request_text(page, "refused")
        if logged:  # the engine logs each refused request: those, and nothing else
            drop_console_errors(page, logged)
            drop_console_errors(job_page, logged)
        assert page.console_errors == [] and job_page.console_errors == []
