"""progress_bar.js in the browser: determinate, indeterminate and empty bars, accessible
values, and no DOM writes when nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

RENDER = """async (jobs) => {
  const { createProgressBar, updateProgressBar } = await import("/js/progress_bar.js");
  const bar = createProgressBar(document);
  document.body.replaceChildren(bar);
  const track = bar.querySelector(".progress-track");
  return jobs.map((job) => {
    const view = updateProgressBar(bar, job);
    return {
      mode: bar.dataset.mode, status: bar.dataset.status, view,
      role: track.getAttribute("role"), hidden: track.hidden,
      now: track.getAttribute("aria-valuenow"), min: track.getAttribute("aria-valuemin"),
      max: track.getAttribute("aria-valuemax"), text: track.getAttribute("aria-valuetext"),
      width: bar.querySelector(".progress-fill").style.width,
      styleAttr: bar.querySelector(".progress-fill").getAttribute("style"),
      label: bar.querySelector(".progress-label").textContent,
      detail: bar.querySelector(".progress-detail").textContent,
    };
  });
}"""


@pytest.fixture
def harness(page: Any, module_base: str) -> Any:
    page.goto(f"{module_base}/")
    return page


def job(
    status: str, percent: float = 0, processed: int | None = None, total: int | None = None, unit: str | None = None
) -> dict[str, Any]:
    shown = {"status": status, "progress_percent": percent, "processed_count": processed, "total_count": total}
    return {**shown, "progress_unit": unit} if unit is not None else shown


def test_running_with_counts_is_determinate_and_says_how_far(harness: Any) -> None:
    [shown] = harness.evaluate(RENDER, [job("running", 25, 25, 100)])
    assert shown["role"] == "progressbar" and shown["hidden"] is False
    assert (shown["now"], shown["min"], shown["max"]) == ("25", "0", "100")
    assert shown["text"] == "25 of 100 files (25%)"
    assert shown["mode"] == "determinate" and shown["status"] == "running"
    assert shown["width"] == "25%"
    assert shown["label"] == "25%" and shown["detail"] == "25 of 100 files"


def test_the_counts_are_written_in_the_jobs_progress_unit(harness: Any) -> None:
    seconds, size, items, files = harness.evaluate(
        RENDER,
        [
            job("running", 38.33, 23, 60, "seconds"),
            job("running", 30, 1_258_291, 4 * 1024**2, "bytes"),
            job("running", 55.56, 5, 9, "items"),
            job("running", 47.23, 1417, 3000, "files"),
        ],
    )
    assert seconds["detail"] == "0:23 of 1:00" and seconds["text"] == "0:23 of 1:00 (38.3%)"
    assert size["detail"] == "1.2 MiB of 4.0 MiB"
    assert items["detail"] == "5 of 9 items"
    assert files["detail"] == "1,417 of 3,000 files"


def test_running_without_progress_data_is_indeterminate(harness: Any) -> None:
    [shown] = harness.evaluate(RENDER, [job("running")])
    assert shown["mode"] == "indeterminate" and shown["hidden"] is False
    assert shown["now"] is None, "an indeterminate progressbar has no aria-valuenow"
    assert shown["text"] == "Running, no progress reported yet"
    assert shown["width"] == "" and shown["label"] == "Starting"


def test_queued_and_never_started_jobs_show_no_bar(harness: Any) -> None:
    for shown in harness.evaluate(RENDER, [job("queued"), job("cancelled")]):
        assert shown["mode"] == "none" and shown["hidden"] is True
        assert shown["now"] is None and shown["text"] is None
        assert shown["label"] == "—"


def test_percent_without_counts_and_large_counts(harness: Any) -> None:
    pct, big, failed = harness.evaluate(
        RENDER, [job("running", 42.5), job("running", 66.67, 2000, 3000), job("failed", 10, 1, 10)]
    )
    assert pct["now"] == "42.5" and pct["text"] == "42.5%" and pct["detail"] == ""
    assert big["text"] == "2,000 of 3,000 files (66.6%)" and big["width"] == "66.67%"
    assert failed["mode"] == "determinate" and failed["status"] == "failed" and failed["now"] == "10"


def test_values_are_clamped(harness: Any) -> None:
    over, under = harness.evaluate(RENDER, [job("running", 250, 5, 2), job("running", -5, 0, 10)])
    assert over["now"] == "100" and over["width"] == "100%"
    assert under["now"] == "0" and under["width"] == "0%"


def test_switching_modes_leaves_no_stale_value(harness: Any) -> None:
    determinate, indeterminate, done = harness.evaluate(
        RENDER, [job("running", 50, 5, 10), job("running"), job("completed", 100, 10, 10)]
    )
    assert determinate["now"] == "50"
    assert indeterminate["now"] is None and indeterminate["width"] == ""
    assert indeterminate["detail"] == "" and indeterminate["text"] == "Running, no progress reported yet"
    assert done["now"] == "100" and done["status"] == "completed"


def test_width_goes_through_the_cssom_not_a_style_string(harness: Any) -> None:
    [shown] = harness.evaluate(RENDER, [job("running", 30, 3, 10)])
    # The style attribute is the CSSOM's serialisation, which CSP allows without
    # 'unsafe-inline' (a style string set by markup would be blocked).
    assert shown["styleAttr"] == "width: 30%;"


def test_an_unchanged_update_writes_nothing(harness: Any) -> None:
    count = harness.evaluate(
        """async () => {
          const { createProgressBar, updateProgressBar } = await import("/js/progress_bar.js");
          const bar = createProgressBar(document);
          document.body.replaceChildren(bar);
          const job = { status: "running", progress_percent: 12.5, processed_count: 1, total_count: 8 };
          updateProgressBar(bar, job);
          const records = [];
          const observer = new MutationObserver((r) => records.push(...r));
          observer.observe(bar, { subtree: true, childList: true, attributes: true, characterData: true });
          updateProgressBar(bar, { ...job });
          await Promise.resolve();
          const unchanged = records.length + observer.takeRecords().length;
          updateProgressBar(bar, { ...job, processed_count: 2, progress_percent: 25 });
          return [unchanged, observer.takeRecords().length];
        }"""
    )
    assert count[0] == 0 and count[1] > 0
