"""A real scan, watched on the detail page: a generated library, scanned by a real
``jobdash worker`` process whose rate cap makes the scan last a few seconds. The page
shows progress rising and "N of M files" without a reload, then the completed job with
its duration and summary, and then makes no request at all.

The page's fake clock runs at real speed while the worker scans (``clock.resume()``:
polls happen in real time, every 2 s with this build) and is paused again to step through
the time after the end. Tests wait on DOM attributes only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jobdash.jobs.sample_library import make_library
from jobdash.worker.loop import Worker
from support.job_page import DetailPage, kind, log_offset, worker_process
from support.live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INTERVAL_MS = 2000
FILES = 80
FILES_PER_SECOND = 10  # the worker's rate cap: the scan takes about 8 s (4 polls)
SCAN_TIMEOUT_MS = 30_000

# Records every value the bar and the sentence take, as they change.
WATCH = """() => {
  window.__seen = { values: [], sentences: [] };
  const bar = document.querySelector('[data-field="progress_percent"] [role="progressbar"]');
  const text = document.querySelector('[data-role="progress-text"]');
  const record = () => {
    const value = bar.getAttribute("aria-valuenow");
    if (value !== null && window.__seen.values.at(-1) !== value) window.__seen.values.push(value);
    const sentence = text.hidden ? "" : text.textContent;
    if (sentence && window.__seen.sentences.at(-1) !== sentence) window.__seen.sentences.push(sentence);
  };
  new MutationObserver(record).observe(document.getElementById("job-view"),
    { subtree: true, childList: true, characterData: true, attributes: true });
  record();
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    flags = ("--poll-interval-ms", str(INTERVAL_MS), "--log-poll-interval-ms", str(INTERVAL_MS))
    with live_server(tmp_path_factory.mktemp("job-scan"), *flags) as running:
        yield running


def test_a_real_scan_is_followed_to_its_end_then_polling_stops(detail: DetailPage, tmp_path: Path) -> None:
    library = tmp_path / "library"
    made = make_library(library, files=FILES, seed=7)
    assert made["media_files"] == FILES
    job = detail.store.create(str(library), "scan")["id"]
    page = detail.page
    navigations: list[str] = []
    detail.open(job)
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(detail.field("status")).to_have_attribute("data-status", "queued")
    expect(page.locator("[data-role=progress-text]")).to_have_text("Waiting to start")
    page.evaluate(WATCH)

    page.clock.resume()
    with worker_process(detail.server.data_dir, FILES_PER_SECOND, tmp_path / "worker.log"):
        # Running, part of the way: a determinate bar and the counts in words.
        expect(detail.bar).to_have_attribute(
            "aria-valuenow", re.compile(r"^[1-9]\d?(\.\d+)?$"), timeout=SCAN_TIMEOUT_MS
        )
        expect(detail.field("status")).to_have_attribute("data-status", "running")
        expect(page.locator("[data-role=duration-label]")).to_have_text("Elapsed")
        expect(detail.log.locator("li").first).to_contain_text(f"job {job} (scan")
        first = detail.bar.get_attribute("aria-valuenow")
        # ... rising (a scan's progress only goes up) ...
        expect(detail.bar).not_to_have_attribute("aria-valuenow", first, timeout=SCAN_TIMEOUT_MS)
        # ... to the end.
        expect(detail.field("status")).to_have_attribute("data-status", "completed", timeout=SCAN_TIMEOUT_MS)
        page.clock.pause_at((detail.now() + 1000) / 1000)
        detail.settle()

    seen = page.evaluate("window.__seen")
    values = [float(value) for value in seen["values"]]
    assert values == sorted(values) and len(set(values)) == len(values), f"progress went back: {values}"
    assert values[-1] == 100
    assert len([v for v in values if 0 < v < 100]) >= 2, f"progress did not rise on screen: {values}"
    running = [s for s in seen["sentences"] if s.startswith("Processing ")]
    assert running and all(re.fullmatch(rf"Processing \d+ of {FILES} files", s) for s in running), seen["sentences"]
    assert seen["sentences"][-1] == f"Processed {FILES} of {FILES} files"
    assert navigations == [], "the page reloaded"

    expect(detail.bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("[data-role=duration-label]")).to_have_text("Duration")
    expect(detail.field("duration_seconds")).to_have_text(re.compile(r"^\d+ s$"))
    expect(detail.field("completed_at")).to_have_attribute("datetime", re.compile(r"Z$"))
    expect(detail.field("summary")).to_contain_text(f"Scanned {FILES} of {FILES} files")
    expect(detail.status).to_have_attribute("data-state", "paused")
    expect(detail.status).to_contain_text("job finished")

    # The whole log is on the page, line for line, from the tail and the appends.
    log_file = detail.store.log_path(detail.store.get(job))
    lines = log_file.read_text().splitlines()
    assert detail.log_texts() == lines
    log_fetches = [f["url"] for f in detail.fetches() if kind(f["url"]) == "log"]
    assert log_offset(log_fetches[0]) is None and log_offset(log_fetches[-1]) is not None
    offsets = [log_offset(url) for url in log_fetches[1:]]
    assert offsets == sorted(offsets) and offsets[-1] <= len(lines)

    # After the end: a few intervals of (fake) time, and not one request.
    requests = len(detail.network)
    for _ in range(5):
        assert detail.run_for(INTERVAL_MS) == []
    assert len(detail.network) == requests


def test_file_names_in_the_log_and_path_are_text_never_markup(detail: DetailPage, tmp_path: Path) -> None:
    library = tmp_path / "lib <img src=x onerror=window.__xss=2>"
    make_library(library, files=3, seed=1)
    evil = "<img src=x onerror=window.__xss=1>.mkv"
    (library / evil).write_bytes(b"\x1a\x45\xdf\xa3" + bytes(4096))
    job = detail.store.create(str(library), "scan")["id"]
    assert Worker(detail.store).run_once()
    detail.open(job)
    expect(detail.field("status")).to_have_attribute("data-status", "completed")
    expect(detail.field("file_path")).to_have_text(str(library))
    lines = [text for text in detail.log_texts() if evil in text]
    assert lines, "the file's log line is missing"
    page = detail.page
    assert page.locator("#job-view img, #job-view script").count() == 0
    page.clock.run_for(5000)
    assert page.evaluate("typeof window.__xss") == "undefined"
