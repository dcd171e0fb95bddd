"""The job page's "Notify me when this job ends" and the tab titles (fake clock, real
server).

The browser's Notification API is replaced, before the page loads, by a recorder whose
permission answer the test scripts ("granted" or "denied"): what the page asks and shows
is what is checked, not a desktop's notification centre.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from support.dashboard import SET_VISIBILITY, running_job
from support.job_page import kind

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LOG_INTERVAL_MS = 15_000

# A stand-in for window.Notification: records permission requests and notifications.
# window.__permissionAnswer is what requestPermission() resolves to.
NOTIFICATION_RECORDER = """
window.__notifications = [];
window.__permissionRequests = 0;
window.__permissionAnswer = "granted";
class RecordedNotification {
  static permission = "default";
  static async requestPermission() {
    window.__permissionRequests += 1;
    RecordedNotification.permission = window.__permissionAnswer;
    return window.__permissionAnswer;
  }
  constructor(title, options = {}) {
    window.__notifications.push({ title, body: options.body ?? "", tag: options.tag ?? "", hidden: document.hidden });
  }
}
Object.defineProperty(window, "Notification", { configurable: true, writable: true, value: RecordedNotification });
"""


@pytest.fixture
def notify_page(detail: Any) -> Any:
    detail.page.add_init_script(NOTIFICATION_RECORDER)
    return detail


def toggle(page: Any) -> Any:
    return page.locator("#notify-toggle")


def test_granted_a_hidden_tab_is_notified_once_when_the_job_ends(notify_page: Any) -> None:
    detail = notify_page
    job = running_job(detail.store, "/media/n", processed=47, total=100)
    detail.open(job)
    page = detail.page
    assert page.title() == f"● Running 47% — scan {job[:8]}"
    assert page.evaluate("window.__permissionRequests") == 0, "never asked on load"
    expect(toggle(page)).to_have_attribute("aria-pressed", "false")

    toggle(page).click()
    expect(toggle(page)).to_have_attribute("aria-pressed", "true")
    expect(toggle(page)).to_have_attribute("data-notify", "on")
    assert page.evaluate("window.__permissionRequests") == 1

    page.evaluate(SET_VISIBILITY, "hidden")
    expect(detail.status).to_have_attribute("data-reason", "hidden")
    detail.settle()  # the watch's first request answered: its next is on the clock
    before = len(detail.fetches())
    detail.run_for(LOG_INTERVAL_MS)
    assert len(detail.fetches()) - before == 1, "hidden: one slow status poll per log interval"

    detail.store.finish(job, "completed", summary={"files": 100})
    detail.run_for(LOG_INTERVAL_MS)
    notes = page.evaluate("window.__notifications")
    assert len(notes) == 1, notes
    assert notes[0]["title"] == f"scan {job[:8]}"
    assert notes[0]["body"].startswith("Completed after ")
    assert notes[0]["tag"] == f"jobdash-{job}" and notes[0]["hidden"] is True
    assert page.title() == f"✓ Completed — scan {job[:8]}"
    expect(page.locator(".job-notify")).to_be_hidden()

    after = len(detail.fetches())
    detail.run_for(60_000)
    assert len(detail.fetches()) == after, "an ended job: nothing polls while hidden"
    page.evaluate(SET_VISIBILITY, "visible")
    detail.run_for(60_000)
    assert page.evaluate("window.__notifications.length") == 1, "once"
    # Back in view: the log's last fetch (it holds the job's last lines), then nothing.
    assert [kind(f["url"]) for f in detail.fetches()[after:]] == ["log"]


def test_denied_the_toggle_says_so_and_stays_off(notify_page: Any) -> None:
    detail = notify_page
    job = running_job(detail.store, "/media/d", processed=1, total=10)
    detail.page.add_init_script('window.__permissionAnswer = "denied";')
    detail.open(job)
    page = detail.page
    toggle(page).click()
    expect(toggle(page)).to_have_attribute("data-notify", "denied")
    expect(toggle(page)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#notify-note")).to_contain_text("blocked")

    page.evaluate(SET_VISIBILITY, "hidden")
    before = len(detail.fetches())
    detail.run_for(60_000)
    assert len(detail.fetches()) == before, "off: a hidden tab polls nothing"
    detail.store.finish(job, "failed", error_message="disk full")
    page.evaluate(SET_VISIBILITY, "visible")
    detail.settle()
    expect(detail.field("status")).to_have_text("Failed")
    assert page.evaluate("window.__notifications") == []
    assert page.title() == f"✗ Failed — scan {job[:8]}"


def test_turned_off_again_no_notification(notify_page: Any) -> None:
    detail = notify_page
    job = running_job(detail.store, "/media/o", processed=1, total=10)
    detail.open(job)
    page = detail.page
    toggle(page).click()
    expect(toggle(page)).to_have_attribute("aria-pressed", "true")
    toggle(page).click()
    expect(toggle(page)).to_have_attribute("aria-pressed", "false")
    detail.store.finish(job, "completed", summary={})
    detail.run_for(INTERVAL_MS)
    expect(detail.field("status")).to_have_text("Completed")
    assert page.evaluate("window.__notifications") == []


def test_a_job_already_ended_offers_no_toggle(notify_page: Any) -> None:
    detail = notify_page
    job = running_job(detail.store, "/media/e")
    detail.store.finish(job, "cancelled")
    detail.open(job)
    expect(detail.field("status")).to_have_text("Cancelled")
    expect(detail.page.locator(".job-notify")).to_be_hidden()
    assert detail.page.title() == f"⊘ Cancelled — scan {job[:8]}"


def test_the_dashboard_title_counts_running_jobs(dash: Any) -> None:
    """Every running job counts, whatever the view shows."""
    dash.open("?status=failed")
    assert dash.page.title() == "Jobs — jobdash"
    jobs = [running_job(dash.store, f"/media/{n}") for n in range(3)]
    dash.run_for(INTERVAL_MS)
    assert dash.page.title() == "(3 running) Jobs — jobdash"
    dash.store.finish(jobs[0], "completed", summary={})
    dash.run_for(INTERVAL_MS)
    assert dash.page.title() == "(2 running) Jobs — jobdash"
