"""Tabs of one browser showing the same view share one request stream (shared_poller.js).

Real server, real tabs of one browser context (shared Web Locks and BroadcastChannel),
one fake clock for them all (tests/support/tabs.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from support.dashboard import SET_VISIBILITY, Dashboard, running_job
from support.job_page import DetailPage, append_log
from support.tabs import FOLLOWER, LEADER, Tabs

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
MINUTE_MS = 60_000
#: The dashboard's three streams.
JOBS, TYPES, WORKERS = "/api/jobs", "/api/job-types", "/api/workers"


@pytest.fixture
def tabs(page: Any, server: Any) -> Tabs:
    server.reset()
    return Tabs(page, server, Dashboard)


def per_stream(tabs: Tabs) -> dict[str, int]:
    return {name: tabs.count(name) for name in (JOBS, TYPES, WORKERS)}


def test_five_tabs_poll_like_one(tabs: Tabs, server: Any) -> None:
    """Five tabs on one view for 60 s: the server sees one tab's requests (±1 per stream),
    and every tab shows each change, with a live indicator."""
    job = running_job(server.store, "/media/a", processed=1, total=10)
    tabs.open("index.html", 5)
    assert tabs.roles().count(LEADER) == 1 and tabs.roles().count(FOLLOWER) == 4
    start = per_stream(tabs)
    assert start == {JOBS: 1, TYPES: 1, WORKERS: 1}, "the followers loaded from the leader, not the server"

    tabs.run_for(MINUTE_MS // 2)
    server.store.progress(job, 7, 10, "files")
    tabs.run_for(MINUTE_MS // 2)

    one_tab = MINUTE_MS // INTERVAL_MS  # one tab: a request per interval and stream
    for name, count in per_stream(tabs).items():
        assert abs((count - start[name]) - one_tab) <= 1, (name, count, start[name])
    for tab in tabs.tabs:
        expect(tab.cell(job, "progress_percent")).to_contain_text("7 of 10 files")
        expect(tab.status).to_have_attribute("data-state", "live")
        expect(tab.status.locator("[data-role=connection-updated]")).to_have_text("updated just now")


def test_without_sharing_every_tab_polls(tabs: Tabs) -> None:
    """?shared=0: each tab polls on its own, as before."""
    tabs.open("index.html?shared=0", 3)
    assert tabs.roles() == ["own"] * 3
    before = tabs.count(JOBS)
    tabs.run_for(INTERVAL_MS)
    assert tabs.count(JOBS) - before == 3


def test_leader_closed_hands_off_within_one_interval(tabs: Tabs, server: Any) -> None:
    """The leader closes: another tab takes over on the old schedule, with no burst."""
    tabs.open("index.html", 3)
    tabs.run_for(2000)  # mid-interval: the next request is due in 3 s
    old = tabs.leader()
    before = tabs.count(JOBS)
    tabs.close(old)
    new = tabs.wait_for_leader()
    assert new is not old
    assert tabs.count(JOBS) == before, "the new leader waits for the old schedule"
    tabs.run_for(INTERVAL_MS)
    assert tabs.count(JOBS) - before == 1, "one request in the interval after the hand-off"
    job = running_job(server.store, "/media/b")
    tabs.run_for(INTERVAL_MS)
    for tab in tabs.tabs:
        if not tab.page.is_closed():
            expect(tab.row(job)).to_have_count(1)


def test_hidden_tabs_stop_the_stream(tabs: Tabs) -> None:
    """All tabs hidden: nothing is polled. The stream runs while one tab is visible, led by
    a visible tab; a tab that becomes visible again asks at once."""
    first, second = tabs.open("index.html", 2)
    for tab in (first, second):
        tab.page.evaluate(SET_VISIBILITY, "hidden")
    for tab in (first, second):
        expect(tab.status).to_have_attribute("data-reason", "hidden")
    before = tabs.count(JOBS)
    tabs.run_for(MINUTE_MS)
    assert tabs.count(JOBS) == before, "no tab visible: no request"

    second.page.evaluate(SET_VISIBILITY, "visible")
    expect(second.status).to_have_attribute("data-stream", LEADER)
    tabs.settle()
    assert tabs.count(JOBS) == before + 1, "back in view: a request at once"
    tabs.run_for(INTERVAL_MS)
    assert tabs.count(JOBS) == before + 2

    # The visible leader hides, the other tab shows: it leads, from its own fetch at once.
    second.page.evaluate(SET_VISIBILITY, "hidden")
    first.page.evaluate(SET_VISIBILITY, "visible")
    expect(first.status).to_have_attribute("data-stream", LEADER)
    expect(second.status).to_have_attribute("data-reason", "hidden")
    tabs.run_for(INTERVAL_MS * 2)
    # Two polls an interval apart; a third when `first` polled at once on coming back (it
    # did unless a late message from `second`, which led until a moment ago, made its
    # lock grant a hand-off: then it keeps `second`'s schedule). Never a burst.
    assert before + 4 <= tabs.count(JOBS) <= before + 5


def test_a_visible_follower_keeps_the_stream_alive_when_the_leader_hides(tabs: Tabs) -> None:
    """The leader is hidden, a follower is still visible: it takes over on schedule."""
    tabs.open("index.html", 2)
    leader = tabs.leader()
    follower = next(t for t in tabs.tabs if t is not leader)
    tabs.run_for(1000)
    before = tabs.count(JOBS)
    leader.page.evaluate(SET_VISIBILITY, "hidden")
    expect(follower.status).to_have_attribute("data-stream", LEADER)
    tabs.run_for(INTERVAL_MS)
    assert tabs.count(JOBS) - before == 1


def test_other_views_are_other_streams(tabs: Tabs) -> None:
    """Tabs on different views each have their own stream; a tab that changes its view
    joins that view's stream (following it when another tab leads it)."""
    failed, all_jobs = tabs.open("index.html?status=failed", 1)[0], tabs.open("index.html", 1)[0]
    assert tabs.roles() == [LEADER, LEADER]
    before = tabs.count(JOBS)
    tabs.run_for(INTERVAL_MS)
    assert tabs.count(JOBS) - before == 2
    all_jobs.page.select_option("#filter-status", "failed")
    expect(all_jobs.status).to_have_attribute("data-stream", FOLLOWER)
    expect(failed.status).to_have_attribute("data-stream", LEADER)
    before = tabs.count(JOBS)
    tabs.run_for(INTERVAL_MS)
    assert tabs.count(JOBS) - before == 1


def test_detail_page_tabs_share_status_and_log(page: Any, server: Any) -> None:
    """Three tabs on one running job: status and log polled once for all; new log lines
    appear in every tab; the end reaches every tab and all stop."""
    server.reset()
    job = running_job(server.store, "/media/c", processed=1, total=4)
    append_log(server.store, job, "first line")
    tabs = Tabs(page, server, DetailPage)
    tabs.open(f"job.html?id={job}", 3)
    for tab in tabs.tabs:
        expect(tab.log.locator("> *")).to_have_count(1)
    status_url, log_url = f"/api/jobs/{job}", f"/api/jobs/{job}/logs"
    status_before = tabs.count(status_url) - tabs.count(log_url)
    log_before = tabs.count(log_url)

    append_log(server.store, job, "second line")
    tabs.run_for(15_000)
    assert tabs.count(status_url) - tabs.count(log_url) - status_before == 3
    assert tabs.count(log_url) - log_before == 1
    for tab in tabs.tabs:
        expect(tab.log.locator("> *")).to_have_count(2)

    server.store.finish(job, "completed", summary={"files": 4})
    tabs.run_for(INTERVAL_MS)
    for tab in tabs.tabs:
        expect(tab.field("status")).to_have_text("Completed")
        expect(tab.status).to_have_attribute("data-reason", "finished")
    after = len(tabs.requests)
    tabs.run_for(MINUTE_MS)
    assert len(tabs.requests) == after, "a finished job: nothing polls"
