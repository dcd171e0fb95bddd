"""How the detail page polls: ETag revalidation (a 304 changes nothing on the page), a
hidden tab pauses both pollers and an immediate fetch of both follows its return, the
log poller runs only while the job runs; the dashboard row and the detail page draw the
same progress; the back link keeps the list's view.

Real server and build; jobs change through the store. Time is Playwright's fake clock.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import expect

from support.dashboard import Dashboard, running_job
from support.job_page import DetailPage, append_log, kind, log_offset
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LOG_INTERVAL_MS = 15000

# Records every DOM mutation inside the job view, except the ticking elapsed time and the
# log panel's request state (data-state, aria-busy: like the header's indicator, it says
# that a request is in flight).
OBSERVE = """() => {
  window.__mutations = [];
  // What changes with the clock, not with the data: the elapsed time and the pace.
  const ticking = [...document.querySelectorAll('[data-field="duration_seconds"], [data-role="pace"]')];
  const panel = document.getElementById("job-log-panel");
  const skip = (r) => ticking.some((el) => el.contains(r.target)) || (r.target === panel && r.type === "attributes");
  new MutationObserver((records) => {
    for (const r of records) {
      if (skip(r)) continue;
      const element = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const part = element.closest("[data-field], [data-role]");
      window.__mutations.push(part ? part.dataset.field ?? part.dataset.role : element.nodeName);
    }
  }).observe(document.getElementById("job-view"), { subtree: true, childList: true, characterData: true, attributes: true });
}"""


def record_responses(page: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    page.on(
        "response",
        lambda r: (
            seen.append(
                {
                    "url": r.url,
                    "status": r.status,
                    "inm": r.request.headers.get("if-none-match"),
                }
            )
            if "/api/" in r.url
            else None
        ),
    )
    return seen


def test_unchanged_answers_are_304s_and_change_nothing_on_the_page(detail: DetailPage) -> None:
    store = detail.store
    job = running_job(store, "/media/Quiet", processed=5, total=50)
    append_log(store, job, "one", "two")
    responses = record_responses(detail.page)
    detail.open(job)
    detail.page.evaluate(OBSERVE)
    for _ in range(3):  # three status polls and one log poll; nothing changed meanwhile
        detail.run_for(INTERVAL_MS)
    status = [r for r in responses if kind(r["url"]) == "job"]
    assert [r["status"] for r in status] == [200, 304, 304, 304]
    assert all(r["inm"] for r in status[1:]), "the ETag was not sent back"
    logs = [r for r in responses if kind(r["url"]) == "log"]
    # The tail, then the lines after it: nothing new (an empty 200: a URL not asked before).
    assert [(r["status"], log_offset(r["url"])) for r in logs] == [(200, None), (200, 2)]
    detail.run_for(INTERVAL_MS)
    detail.run_for(INTERVAL_MS)
    detail.run_for(INTERVAL_MS)
    logs = [r for r in responses if kind(r["url"]) == "log"]
    assert (logs[-1]["status"], log_offset(logs[-1]["url"]), bool(logs[-1]["inm"])) == (304, 2, True)
    assert detail.page.evaluate("window.__mutations") == [], "an unchanged poll changed the page"

    store.progress(job, 6, 50)
    detail.run_for(INTERVAL_MS)
    expect(detail.field("processed_count")).to_have_text("6")
    # Only the elements that show the changed fields: the bar (and its label) and the count.
    assert set(detail.page.evaluate("window.__mutations")) == {"progress_percent", "processed_count"}


def test_a_hidden_tab_pauses_both_pollers_and_returns_with_an_immediate_fetch(detail: DetailPage) -> None:
    store = detail.store
    job = running_job(store, "/media/Hidden", processed=1, total=20)
    append_log(store, job, "before")
    detail.open(job)
    detail.set_visibility("hidden")
    expect(detail.status).to_have_attribute("data-state", "paused")
    expect(detail.status).to_contain_text("tab hidden")
    expect(detail.log_panel).to_have_attribute("data-state", "paused")
    requests = len(detail.network)
    assert detail.run_for(LOG_INTERVAL_MS * 4) == []
    elapsed = detail.field("duration_seconds").text_content()

    store.progress(job, 9, 20)
    append_log(store, job, "while hidden")
    detail.set_visibility("visible")  # no clock step: both requests go out on return
    detail.settle()
    assert sorted(kind(f["url"]) for f in detail.fetches()[-2:]) == ["job", "log"]
    assert len(detail.network) == requests + 2
    expect(detail.field("processed_count")).to_have_text("9")
    expect(detail.log.locator("li").last).to_contain_text("while hidden")
    expect(detail.status).to_have_attribute("data-state", "live")
    expect(detail.field("duration_seconds")).not_to_have_text(elapsed)  # ticking again
    # Then the normal intervals again: status every 5 s, the log every 15 s.
    assert detail.run_for(INTERVAL_MS) == [(INTERVAL_MS, "job")]


def test_the_elapsed_time_ticks_every_second_without_a_request(detail: DetailPage) -> None:
    job = running_job(detail.store, "/media/Ticking", processed=1, total=20)
    detail.open(job)
    elapsed = detail.field("duration_seconds")
    before = elapsed.text_content()
    assert detail.run_for(1000) == []
    expect(elapsed).not_to_have_text(before)


def test_the_log_is_polled_only_once_the_job_runs(detail: DetailPage) -> None:
    store = detail.store
    job = store.create("/media/Later", "scan", priority=0)["id"]
    detail.open(job)
    # Queued: the status at the interval; the job types (does a live worker run scan?)
    # only at the slower log interval; no log.
    steps = [sorted(detail.run_for(INTERVAL_MS)) for _ in range(3)]
    assert steps == [[(INTERVAL_MS, "job")], [(INTERVAL_MS, "job")], [(INTERVAL_MS, "job"), (INTERVAL_MS, "types")]]
    assert store.claim(os.getpid(), ("scan",))["id"] == job
    append_log(store, job, "started")
    # The status poll sees "running": the log's first load (the tail) follows at once.
    assert sorted(detail.run_for(INTERVAL_MS)) == [(INTERVAL_MS, "job"), (INTERVAL_MS, "log")]
    expect(detail.log.locator("li")).to_have_count(1)
    expect(detail.bar).not_to_have_attribute("aria-valuenow", r".*")
    expect(detail.field("progress_percent").locator(".progress")).to_have_attribute("data-mode", "indeterminate")
    expect(detail.page.locator("[data-role=progress-text]")).to_have_text("Starting — no progress reported yet")
    # Running: the job types are not asked for any more.
    steps = [sorted(detail.run_for(INTERVAL_MS)) for _ in range(3)]
    assert steps == [[(INTERVAL_MS, "job")], [(INTERVAL_MS, "job")], [(INTERVAL_MS, "job"), (INTERVAL_MS, "log")]]


def test_the_dashboard_row_and_the_detail_page_show_the_same_progress(page: Any, server: LiveServer) -> None:
    server.reset()
    job = running_job(server.store, "/media/Same", processed=1234, total=3000)
    dash = Dashboard(page, server).open()
    row_bar = dash.cell(job, "progress_percent")
    expect(row_bar.locator('[role="progressbar"]')).to_have_attribute("aria-valuenow", "41.13")
    read = """(root) => {
      const track = root.querySelector('[role="progressbar"]');
      return { now: track.getAttribute("aria-valuenow"), text: track.getAttribute("aria-valuetext"),
               label: root.querySelector(".progress-label").textContent,
               width: root.querySelector(".progress-fill").style.width,
               mode: root.querySelector(".progress").dataset.mode };
    }"""
    on_row = row_bar.evaluate(read)
    link = dash.cell(job, "id").locator("a")
    link.click()
    page.wait_for_url(f"**/job.html?id={job}")
    detail = DetailPage.__new__(DetailPage)  # the page is already open under its clock
    detail.page, detail.server, detail.network = page, server, []
    expect(page.locator("#job-view")).to_be_visible()
    detail.settle()
    on_detail = detail.field("progress_percent").evaluate(read)
    assert (
        on_detail
        == on_row
        == {
            "now": "41.13",
            "text": "1,234 of 3,000 files (41.1%)",
            "label": "41.1%",
            "width": "41.13%",
            "mode": "determinate",
        }
    )
    expect(page.locator("[data-role=progress-text]")).to_have_text("Processing 1,234 of 3,000 files")
    expect(page.locator("#back-link")).to_have_attribute("href", "./")


def test_the_back_link_keeps_the_lists_view(detail: DetailPage) -> None:
    job = detail.store.create("/media/Back", "scan")["id"]
    detail.open(job, query=f"id={job}&from=status%3Dqueued%26sort%3Dpriority%26bogus%3D1")
    back = detail.page.locator("#back-link")
    expect(back).to_have_attribute("href", "./?status=queued&sort=priority")
    back.click()
    detail.page.wait_for_url("**/?status=queued&sort=priority")
    expect(detail.page.locator("#filter-status")).to_have_value("queued")
    expect(detail.page.locator(f'tr[data-job-id="{job}"]')).to_be_visible()


def test_the_log_catches_up_as_soon_as_the_api_answers_again(detail: DetailPage) -> None:
    """After an outage the log poller, backing off on its own longer schedule, retries
    with the first status poll that succeeds (not up to 120 s later)."""
    from support.dashboard import expected_network_errors

    job = running_job(detail.store, "/media/Outage", processed=1, total=10)
    append_log(detail.store, job, "one")
    detail.open(job)
    detail.page.route("**/api/**", lambda route: route.abort())
    steps = [sorted(detail.run_for(INTERVAL_MS)) for _ in range(3)]
    assert steps == [[(INTERVAL_MS, "job")], [(INTERVAL_MS, "job")], [(INTERVAL_MS, "job"), (INTERVAL_MS, "log")]]
    expect(detail.status).to_have_attribute("data-state", "offline")  # the 3rd failure: 10 s
    expect(detail.log_panel).to_have_attribute("data-state", "reconnecting")  # its 1st: 15 s
    detail.page.unroute("**/api/**")
    append_log(detail.store, job, "two")
    assert sorted(detail.run_for(10_000)) == [(10_000, "job"), (10_000, "log")]
    expect(detail.status).to_have_attribute("data-state", "live")
    expect(detail.log_panel).to_have_attribute("data-state", "live")
    assert [text.split(" INFO ", 1)[1] for text in detail.log_texts()] == ["one", "two"]
    expected_network_errors(detail.page)
