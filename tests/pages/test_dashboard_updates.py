"""The dashboard follows jobs live: in-place cell updates, rows inserted and removed in
sort order, no DOM change for a poll that changes nothing, focus and selection kept.

Real server, real build; jobs are changed through the store from the test process, as
another worker would change them. Time is Playwright's fake clock.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from support.dashboard import OBSERVE_LIST, Dashboard, running_job

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000  # the build's default poll interval
WITHIN_MS = INTERVAL_MS + 1000  # every change must show within the interval + 1 s


def test_a_job_moves_through_its_states_in_the_same_row(dash: Dashboard) -> None:
    store = dash.store
    job_id = store.create("/media/Movies", "scan", priority=0)["id"]
    navigations: list[str] = []
    dash.page.on("framenavigated", lambda frame: navigations.append(frame.url))
    dash.open()
    navigations.clear()
    badge = dash.cell(job_id, "status").locator(".badge")
    bar = dash.cell(job_id, "progress_percent").locator('[role="progressbar"]')
    expect(badge).to_have_attribute("data-status", "queued")
    expect(badge).to_have_text("Queued")
    expect(bar).to_be_hidden()  # a queued job has no progress to show
    expect(dash.cell(job_id, "duration_seconds")).to_have_text("—")
    dash.tag_rows()

    # queued -> running, with no progress data yet: an indeterminate bar.
    assert store.claim(os.getpid(), ("scan",))["id"] == job_id
    # The change is made just after a poll settled: the next one comes one interval later
    # (a step of exactly one interval: with a longer one, whether the answer lands before
    # the step ends, and so when the next poll is due, would depend on the engine's speed).
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    expect(badge).to_have_attribute("data-status", "running")
    expect(badge).to_have_text("Running")
    expect(bar).to_be_visible()
    expect(bar).not_to_have_attribute("aria-valuenow", r".*")
    expect(dash.cell(job_id, "progress_percent").locator(".progress")).to_have_attribute("data-mode", "indeterminate")

    # progress: a determinate bar that says how far, in words too.
    store.progress(job_id, 25, 100)
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    expect(bar).to_have_attribute("aria-valuenow", "25")
    expect(bar).to_have_attribute("aria-valuemin", "0")
    expect(bar).to_have_attribute("aria-valuemax", "100")
    expect(bar).to_have_attribute("aria-valuetext", "25 of 100 files (25%)")
    expect(dash.cell(job_id, "progress_percent")).to_contain_text("25%")
    width = dash.page.evaluate("(el) => el.style.width", bar.locator(".progress-fill").element_handle())
    assert width == "25%"

    # running -> completed: the total duration replaces the elapsed time.
    store.progress(job_id, 100, 100)
    store.finish(job_id, "completed", summary={"files_found": 100})
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
    expect(badge).to_have_attribute("data-status", "completed")
    expect(badge).to_have_text("Completed")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(dash.cell(job_id, "duration_seconds")).not_to_have_text("—")

    assert dash.same_rows() == {job_id: True}, "the row must be updated in place, not rebuilt"
    assert navigations == [], "the page must not reload or navigate"
    assert len(dash.fetches()) == 4, "the first load and one poll per step, nothing more"


def test_running_time_ticks_every_second_and_nothing_else_changes(dash: Dashboard) -> None:
    store = dash.store
    job_id = running_job(store, "/media/Shows", processed=3, total=10)
    store.create("/media/queued", "scan")
    dash.open()
    duration = dash.cell(job_id, "duration_seconds")
    start = duration.inner_text()
    dash.page.evaluate(
        """() => {
          window.__mutations = [];
          new MutationObserver((records) => {
            for (const r of records) window.__mutations.push(
              (r.target.nodeType === 1 ? r.target : r.target.parentElement).closest("[data-field]")?.dataset.field ?? "table");
          }).observe(document.getElementById("jobs-table"), { subtree: true, childList: true, attributes: true, characterData: true });
        }"""
    )
    dash.page.clock.run_for(3000)  # three ticks, no poll
    assert len(dash.fetches()) == 1
    assert duration.inner_text() != start
    assert set(dash.page.evaluate("window.__mutations")) == {"duration_seconds"}


def test_new_jobs_are_inserted_in_sort_order_and_rows_that_leave_are_removed(dash: Dashboard) -> None:
    store = dash.store
    transcode = store.create("/media/b", "transcode")["id"]
    scan = store.create("/media/a", "scan")["id"]
    prune = store.create("/media/c", "prune")["id"]
    dash.open("?status=queued&sort=job_type")
    assert dash.row_ids() == [prune, scan, transcode]
    dash.tag_rows()
    dash.page.locator(f'tr[data-job-id="{scan}"] a').focus()

    # Another process creates a job: it appears where the sort puts it.
    move = store.create("/media/new", "move")["id"]
    dash.run_for(WITHIN_MS)
    expect(dash.row(move)).to_be_visible()
    assert dash.row_ids() == [move, prune, scan, transcode]
    assert dash.same_rows() == {prune: True, scan: True, transcode: True}
    assert dash.page.evaluate("document.activeElement.closest('tr')?.dataset.jobId") == scan
    expect(dash.page.locator("#jobs-range")).to_have_text("1–4 of 4")

    # A job that no longer matches the filter leaves the page.
    store.cancel(prune)
    dash.run_for(WITHIN_MS)
    expect(dash.row(prune)).to_have_count(0)
    assert dash.row_ids() == [move, scan, transcode]
    expect(dash.page.locator("#jobs-range")).to_have_text("1–3 of 3")
    assert dash.same_rows() == {scan: True, transcode: True}


def test_a_poll_that_changes_nothing_touches_nothing(dash: Dashboard) -> None:
    store = dash.store
    done = running_job(store, "/media/done", processed=5, total=5)
    store.finish(done, "completed", summary={})
    failed = running_job(store, "/media/broken", processed=1, total=4)
    store.finish(failed, "failed", error_message="disk unreadable")
    waiting = store.create("/media/waiting", "scan")["id"]
    dash.open()
    polls = dash.poll_count()
    dash.page.evaluate(f"() => {{ {OBSERVE_LIST} }}")
    dash.run_for(INTERVAL_MS)
    dash.run_for(INTERVAL_MS)
    assert dash.page.evaluate("window.__responses") == [304, 304]
    assert dash.page.evaluate("window.__mutations") == []
    assert dash.poll_count() == polls
    assert len(dash.fetches()) == 3

    # The same observers do see a real change (so the silence above means something).
    assert store.cancel(waiting) is not None
    dash.run_for(INTERVAL_MS)
    assert dash.page.evaluate("window.__responses") == [304, 304, 200]
    assert dash.page.evaluate("window.__mutations") != []
    assert dash.poll_count() == polls + 1


def test_focus_selection_and_scroll_survive_updates(dash: Dashboard) -> None:
    store = dash.store
    ids = [store.create(f"/media/library/folder {n:02d}", "scan")["id"] for n in range(40)]
    running = running_job(store, "/media/running", processed=1, total=50)
    dash.page.set_viewport_size({"width": 1280, "height": 600})
    dash.open("?limit=50")
    target = ids[20]
    dash.page.locator(f'tr[data-job-id="{target}"] a').focus()
    dash.page.evaluate(
        """(id) => {
          const cell = document.querySelector(`tr[data-job-id="${id}"] [data-field="file_path"]`);
          getSelection().selectAllChildren(cell);
          window.scrollTo(0, 400);
        }""",
        ids[10],
    )
    scroll = dash.page.evaluate("scrollY")
    store.progress(running, 30, 50)
    store.cancel(ids[5])
    dash.run_for(WITHIN_MS)
    expect(dash.cell(running, "progress_percent").locator('[role="progressbar"]')).to_have_attribute(
        "aria-valuenow", "60"
    )
    expect(dash.cell(ids[5], "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
    assert dash.page.evaluate("document.activeElement.closest('tr')?.dataset.jobId") == target
    assert dash.page.evaluate("getSelection().toString()") == "/media/library/folder 10"
    assert dash.page.evaluate("scrollY") == scroll
