"""The detail page's log panel: the tail first, then only the lines after those held, at
the log interval, appended without touching the lines already shown; it follows the
tail only while the reader is at the bottom.

Real server and build; lines are appended with the worker's own log writer (JobLog), so
each step adds exactly the lines a test expects. Time is Playwright's fake clock.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.dashboard import running_job
from support.job_page import DetailPage, append_log, log_offset

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000  # the build's defaults
LOG_INTERVAL_MS = 15000


def log_urls(detail: DetailPage) -> list[str]:
    return [f["url"] for f in detail.fetches() if f["url"].split("?")[0].endswith("/logs")]


def at_bottom(detail: DetailPage) -> bool:
    return detail.log.evaluate("(el) => el.scrollHeight - el.scrollTop - el.clientHeight <= 2")


def test_new_lines_arrive_at_the_log_interval_after_the_lines_held(detail: DetailPage) -> None:
    store = detail.store
    job = running_job(store, "/media/Movies", processed=3, total=10)
    append_log(store, job, *(f"line {n}" for n in range(1, 6)))
    detail.open(job)
    texts = detail.log_texts()
    assert [text.split(" ", 1)[1] for text in texts] == [f"INFO line {n}" for n in range(1, 6)]
    [first] = log_urls(detail)
    assert log_offset(first) is None, "the first load asks for the tail"
    expect(detail.page.locator("[data-role=log-count]")).to_have_text("5 lines")
    detail.tag_log_lines()

    append_log(store, job, "line 6", "line 7")
    # Status at the polling interval; the log only at the log interval.
    assert detail.run_for(INTERVAL_MS) == [(INTERVAL_MS, "job")]
    assert detail.run_for(INTERVAL_MS) == [(INTERVAL_MS, "job")]
    expect(detail.log.locator("li")).to_have_count(5)
    assert sorted(detail.run_for(INTERVAL_MS)) == [(INTERVAL_MS, "job"), (INTERVAL_MS, "log")]
    assert log_offset(log_urls(detail)[-1]) == 5, "the offset is the number of lines held"
    expect(detail.log.locator("li")).to_have_count(7)
    assert [text.split(" ", 1)[1] for text in detail.log_texts()[5:]] == ["INFO line 6", "INFO line 7"]
    assert detail.same_log_lines(), "the old line elements were replaced"
    expect(detail.log.locator("li").last).to_have_attribute("data-line", "7")

    # Nothing new: the same offset again, revalidated (a 304) and nothing changes.
    detail.tag_log_lines()
    detail.run_for(LOG_INTERVAL_MS - 2 * INTERVAL_MS)
    detail.run_for(INTERVAL_MS)
    detail.run_for(INTERVAL_MS)
    assert log_offset(log_urls(detail)[-1]) == 7
    expect(detail.log.locator("li")).to_have_count(7)
    assert detail.same_log_lines()


def test_the_panel_follows_the_tail_only_while_the_reader_is_at_the_bottom(detail: DetailPage) -> None:
    store = detail.store
    job = running_job(store, "/media/TV", processed=1, total=400)
    append_log(store, job, *(f"file {n:03}.mkv matroska 1024 abcdef" for n in range(1, 301)))
    detail.open(job)
    # The first load holds the tail: the last 200 of 300 lines, numbered absolutely.
    expect(detail.log.locator("li")).to_have_count(200)
    expect(detail.log.locator("li").first).to_have_attribute("data-line", "101")
    expect(detail.page.locator("#job-log-note")).to_contain_text("Showing lines 101–300")
    expect(detail.log).to_have_attribute("data-following", "true")
    assert at_bottom(detail)

    detail.log.evaluate("(el) => { el.scrollTop = 0; }")
    expect(detail.log).to_have_attribute("data-following", "false")
    detail.tag_log_lines()
    append_log(store, job, *(f"new {n}" for n in range(1, 11)))
    detail.run_for(INTERVAL_MS)
    detail.run_for(INTERVAL_MS)
    detail.run_for(INTERVAL_MS)
    assert log_offset(log_urls(detail)[-1]) == 300, "offset: the index after the last line held"
    expect(detail.log.locator("li")).to_have_count(210)
    assert detail.log.evaluate("(el) => el.scrollTop") == 0, "the reader's place moved"
    assert detail.same_log_lines()
    jump = detail.page.locator("#log-jump")
    expect(jump).to_be_visible()
    expect(jump).to_have_text("Jump to latest (10 new lines)")

    jump.click()
    expect(detail.log).to_have_attribute("data-following", "true")
    expect(jump).to_be_hidden()
    assert at_bottom(detail)
    append_log(store, job, "after the jump")
    for _ in range(3):
        detail.run_for(INTERVAL_MS)
    expect(detail.log.locator("li").last).to_contain_text("after the jump")
    assert at_bottom(detail), "following again: the newest line is in view"


def test_a_job_without_a_log_says_so(detail: DetailPage) -> None:
    store = detail.store
    queued = store.create("/media/Queued", "scan", priority=900)["id"]
    detail.open(queued)
    expect(detail.page.locator("#job-log-empty")).to_have_text("The log starts when the job runs.")
    assert {kind for _, kind in detail.run_for(INTERVAL_MS)} == {"job"}, "no log polling while queued"

    job = running_job(store, "/media/Silent")
    store.finish(job, "completed", summary={"files_found": 0})
    detail.page.goto(detail.server.url(f"job.html?id={job}"))
    detail.settle()
    expect(detail.page.locator("#job-log-empty")).to_have_text("This job has no log.")
    expect(detail.log).to_be_hidden()
    expect(detail.field("has_logs")).to_have_text("No")
