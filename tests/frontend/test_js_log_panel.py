"""frontend/js/log_panel.js in the browser: one <li> per line written as text, appends
that keep the old elements, the cap on lines held, and the empty states."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

SETUP = """async (maxLines) => {
  const { LogPanel } = await import("/js/log_panel.js");
  document.body.innerHTML = `<section id="panel"><span data-role="log-count"></span>
    <button id="log-jump" hidden></button><p id="job-log-note" hidden></p>
    <ol id="job-log" hidden style="max-height: 100px; overflow: auto"></ol><p id="job-log-empty" hidden></p></section>`;
  window.panel = new LogPanel(document.getElementById("panel"), { maxLines });
  window.part = (offset, lines, total) => ({ lines, offset, total_lines: total, has_more: false });
  window.show = () => ({
    lines: [...document.querySelectorAll("#job-log > li")].map((li) => [li.dataset.line, li.textContent]),
    note: document.getElementById("job-log-note").hidden ? "" : document.getElementById("job-log-note").textContent,
    empty: document.getElementById("job-log-empty").hidden ? "" : document.getElementById("job-log-empty").textContent,
    count: document.querySelector("[data-role=log-count]").textContent,
    held: window.panel.held,
  });
}"""


@pytest.fixture
def panel(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)
    page.evaluate(SETUP, 5)
    return page


def test_lines_are_text_one_element_each_numbered_absolutely(panel: Any) -> None:
    lines = ["2025-01-01T00:00:00.000Z INFO <img src=x onerror=window.__xss=1>.mkv", "no level here"]
    shown = panel.evaluate("(lines) => { panel.apply(part(7, lines, 9)); return show(); }", lines)
    assert shown["lines"] == [["8", lines[0]], ["9", lines[1]]]
    assert shown["held"] == {"start": 7, "end": 9}
    assert shown["note"] == "Showing lines 8–9; earlier lines are not shown."
    assert shown["count"] == "9 lines"
    assert panel.evaluate("document.querySelectorAll('#job-log img').length") == 0
    assert panel.evaluate("document.querySelector('#job-log li').dataset.level") == "info"


def test_vpo_lines_show_as_time_and_text_without_a_level(panel: Any) -> None:
    lines = [
        "[2026-12-06T13:20:03.324014Z] Transcoding video track: h264 -> hevc",
        "[2026-12-06T13:19:55.462217Z]   Operations: <img src=x onerror=window.__xss=1>",
        "[not a time] stays as it is",
    ]
    shown = panel.evaluate(
        """(lines) => {
          panel.apply(part(0, lines, 3));
          return [...document.querySelectorAll("#job-log > li")].map((li) => ({
            text: li.textContent,
            time: li.querySelector(".log-time")?.textContent ?? null,
            date: li.querySelector(".log-date")?.textContent ?? null,
            fine: li.querySelector(".log-fine")?.textContent ?? null,
            level: li.querySelector(".log-level")?.textContent ?? null,
            dataLevel: li.dataset.level ?? null,
          }));
        }""",
        lines,
    )
    assert shown[0] == {
        "text": "2026-12-06T13:20:03.324014Z Transcoding video track: h264 -> hevc",
        "time": "2026-12-06T13:20:03.324014Z",
        "date": "2026-12-06T",
        "fine": "014",  # past the millisecond: left out on a phone
        "level": None,
        "dataLevel": None,
    }
    assert shown[1]["text"] == "2026-12-06T13:19:55.462217Z   Operations: <img src=x onerror=window.__xss=1>"
    assert shown[2] == {"text": lines[2], "time": None, "date": None, "fine": None, "level": None, "dataLevel": None}
    assert panel.evaluate("document.querySelectorAll('#job-log img').length") == 0


def test_appends_keep_the_old_elements_and_the_cap_drops_the_oldest(panel: Any) -> None:
    result = panel.evaluate("""() => {
      panel.apply(part(0, ["a", "b", "c"], 3));
      const before = [...document.querySelectorAll("#job-log > li")];
      panel.apply(part(3, ["d", "e", "f", "g"], 7));
      const after = [...document.querySelectorAll("#job-log > li")];
      return { same: before.slice(2).every((li, i) => after[i] === li), removed: !before[0].isConnected, ...show() };
    }""")
    assert result["lines"] == [["3", "c"], ["4", "d"], ["5", "e"], ["6", "f"], ["7", "g"]]
    assert result["same"] and result["removed"]
    assert result["held"] == {"start": 2, "end": 7}


def test_a_log_that_shrank_is_reloaded_from_its_tail(panel: Any) -> None:
    result = panel.evaluate("""() => {
      panel.apply(part(0, ["a", "b", "c"], 3));
      const first = panel.apply(part(3, [], 1));
      const heldDuring = panel.held;
      panel.apply(part(0, ["new"], 1));
      return { first, heldDuring, ...show() };
    }""")
    assert result["first"] == {"more": True} and result["heldDuring"] is None
    assert result["lines"] == [["1", "new"]] and result["held"] == {"start": 0, "end": 1}


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("queued", "The log starts when the job runs."),
        ("running", "No log lines yet."),
        ("unknown", "No log lines yet."),  # not terminal: lines may still come
        ("completed", "This job has no log."),
    ],
)
def test_an_empty_log_says_so(panel: Any, status: str, text: str) -> None:
    shown = panel.evaluate(
        "(status) => { panel.setStatus(status); panel.apply(part(0, [], 0)); return show(); }", status
    )
    assert shown["empty"] == text and shown["lines"] == [] and shown["count"] == ""
