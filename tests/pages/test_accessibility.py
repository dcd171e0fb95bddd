"""Accessibility beyond the audits in every screenshot state (tests/support/screens.py):
the audit itself catches what it should, every control is reached and operated by
keyboard with a visible focus ring, and a status change is announced once through the
live region, not on every poll."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from support.accessibility import assert_accessible
from support.dashboard import running_job
from support.job_page import append_log

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000

# What the focused element looks like: its hook, and whether a focus ring shows (an
# outline at least 2 px wide, or a box shadow).
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== "none";
  const name = el.id || el.dataset.sort || el.getAttribute("data-role") || el.closest("tr")?.dataset.jobId
    || el.className || el.tagName;
  return { name, ring, tag: el.tagName };
}"""


def tab_through(page: Any, stop: set[str], limit: int = 30) -> list[dict[str, Any]]:
    """Press Tab until an element named in ``stop`` is focused (or ``limit`` presses)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        seen.append(focused)
        if focused["name"] in stop:
            break
    return seen


def test_the_audit_finds_a_serious_violation(dash: Any) -> None:
    """The audit is not vacuous: an unnamed button and unreadable text fail it, by name."""
    dash.open()
    assert_accessible(dash.page, "the dashboard as built")
    dash.page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.append(document.createElement("button"));
          const faint = document.createElement("p");
          faint.textContent = "faint";
          // Through the CSSOM, which the page's CSP allows (a style attribute it would not).
          faint.style.color = "#eeeeee";
          faint.style.background = "#ffffff";
          main.append(faint);
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(dash.page, "broken on purpose")
    assert "button-name (critical)" in str(failure.value)
    assert "color-contrast (serious)" in str(failure.value)


def test_every_dashboard_control_shows_a_focus_ring(dash: Any) -> None:
    job = running_job(dash.store, "/media/k", processed=1, total=4)
    dash.open()
    seen = tab_through(dash.page, {job})
    assert seen[-1]["name"] == job, seen
    assert [s["name"] for s in seen if not s["ring"]] == [], "every focused control shows a ring"


def test_the_job_page_works_by_keyboard(detail: Any) -> None:
    """Back link, the notify toggle (Space turns it on, asking for permission once), the
    log (scrollable by keyboard), each with a visible focus ring."""
    detail.page.add_init_script(
        """window.Notification = class { static permission = "default";
             static async requestPermission() { window.__asked = (window.__asked ?? 0) + 1; this.permission = "granted"; return "granted"; } };"""
    )
    job = running_job(detail.store, "/media/kb", processed=2, total=9)
    append_log(detail.store, job, "first", "second")
    detail.open(job)
    page = detail.page
    seen = tab_through(page, {"job-log"})
    names = [s["name"] for s in seen]
    assert names.index("notify-toggle") < names.index("job-log"), names
    assert [s["name"] for s in seen if not s["ring"]] == [], seen
    page.locator("#notify-toggle").focus()
    page.keyboard.press("Space")
    expect(page.locator("#notify-toggle")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__asked") == 1
    page.keyboard.press("Enter")
    expect(page.locator("#notify-toggle")).to_have_attribute("aria-pressed", "false")


# Records each change of the live regions' text (what a screen reader would announce):
# the job status region and the connection indicator (without its aria-hidden "updated
# N s ago", which ticks by design and is not announced).
RECORD_ANNOUNCEMENTS = """() => {
  window.__announced = [];
  const spoken = (region) => [...region.childNodes]
    .filter((node) => !(node.nodeType === 1 && node.getAttribute("aria-hidden") === "true"))
    .map((node) => node.textContent).join("").trim();
  for (const region of document.querySelectorAll('[aria-live="polite"], [role="status"]')) {
    let last = spoken(region);
    new MutationObserver(() => {
      const now = spoken(region);
      if (now !== last) window.__announced.push(now);
      last = now;
    }).observe(region, { subtree: true, childList: true, characterData: true });
  }
}"""


def test_a_status_change_is_announced_once_not_on_every_poll(detail: Any) -> None:
    job = running_job(detail.store, "/media/live", processed=1, total=4)
    detail.open(job)
    detail.page.evaluate(RECORD_ANNOUNCEMENTS)
    for _ in range(4):
        detail.run_for(INTERVAL_MS)
    assert detail.page.evaluate("window.__announced") == [], "unchanged polls announce nothing"
    detail.store.progress(job, 2, 4)
    detail.run_for(INTERVAL_MS)
    assert detail.page.evaluate("window.__announced") == [], "progress is not a status change"
    detail.store.finish(job, "completed", summary={})
    for _ in range(3):
        detail.run_for(INTERVAL_MS)
    announced = detail.page.evaluate("window.__announced")
    assert announced.count("Status: Completed") == 1, announced
    assert sorted(announced) == ["Paused — job finished", "Status: Completed"], announced
