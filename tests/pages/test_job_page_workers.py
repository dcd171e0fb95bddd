"""The job page and the open vocabulary: a job's params as key/value text (hostile keys and
values included), hidden when there are none; "Waiting for a worker that runs <type>" for
a queued job no live worker can run, gone when one appears; progress in the job's unit.

Real server and build; jobs and workers change through the store. Time is Playwright's
fake clock.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.dashboard import register_worker, running_job
from support.job_page import DetailPage

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LOG_INTERVAL_MS = 15000
EVIL = "<img src=x onerror=window.__xss=1>"


def params_rows(detail: DetailPage) -> list[list[str]]:
    return detail.page.eval_on_selector_all(
        '[data-field="params"] > div',
        "rows => rows.map((r) => [r.querySelector('dt').textContent, r.querySelector('dd').textContent])",
    )


def test_params_are_shown_one_row_per_key_as_text(detail: DetailPage) -> None:
    params = {
        "preset": "h264-720p",
        "crf": 23,
        "audio": {"codec": "aac", "bitrate": "128k"},
        "two_pass": False,
        EVIL: "<script>window.__xss=2</script>",
    }
    job = running_job(detail.store, "/media/Film.mkv", job_type="transcode", params=params)
    detail.open(job)
    section = detail.page.locator('[data-role="params-section"]')
    expect(section).to_be_visible()
    expect(section.get_by_role("heading")).to_have_text("Parameters")
    # One row per key (the store keeps them sorted by key); strings as they are, the rest
    # as JSON (on one line, spaced so that it wraps).
    assert params_rows(detail) == [
        [EVIL, "<script>window.__xss=2</script>"],
        ["audio", '{ "bitrate": "128k", "codec": "aac" }'],
        ["crf", "23"],
        ["preset", "h264-720p"],
        ["two_pass", "false"],
    ]
    page = detail.page
    assert page.locator("#job-view img, #job-view script").count() == 0
    page.clock.run_for(2000)
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_no_params_no_section_and_unchanged_params_are_not_rewritten(detail: DetailPage) -> None:
    plain = running_job(detail.store, "/media/Library", processed=1, total=4)
    detail.open(plain)
    expect(detail.page.locator('[data-role="params-section"]')).to_be_hidden()
    assert params_rows(detail) == []

    detail.server.reset()
    job = running_job(detail.store, "/media/Film.mkv", job_type="transcode", params={"preset": "h264-720p"})
    detail.open(job)
    detail.page.evaluate(
        """() => {
          window.__params = [];
          new MutationObserver((r) => window.__params.push(...r)).observe(
            document.querySelector('[data-field="params"]'), { subtree: true, childList: true, characterData: true });
        }"""
    )
    detail.store.progress(job, 5, 60, "seconds")  # the job changes (a 200), its params do not
    detail.run_for(INTERVAL_MS)
    expect(detail.page.locator("[data-role=progress-text]")).to_have_text("Processing 0:05 of 1:00")
    assert detail.page.evaluate("window.__params.length") == 0


@pytest.mark.parametrize(
    ("job_type", "processed", "total", "unit", "sentence", "valuetext"),
    [
        ("transcode", 23, 60, "seconds", "Processing 0:23 of 1:00", "0:23 of 1:00 (38.3%)"),
        ("transcode", 4000, 5400, "seconds", "Processing 1:06:40 of 1:30:00", "1:06:40 of 1:30:00 (74%)"),
        ("checksum", 1_258_291, 4 * 1024**2, "bytes", "Processing 1.2 MiB of 4.0 MiB", "1.2 MiB of 4.0 MiB (30%)"),
        ("scan", 1417, 3000, "files", "Processing 1,417 of 3,000 files", "1,417 of 3,000 files (47.2%)"),
        ("archive", 5, 9, "items", "Processing 5 of 9 items", "5 of 9 items (55.5%)"),
    ],
)
def test_progress_reads_in_the_jobs_unit(
    detail: DetailPage, job_type: str, processed: int, total: int, unit: str, sentence: str, valuetext: str
) -> None:
    job = running_job(detail.store, "/media/x", job_type=job_type, processed=processed, total=total, unit=unit)
    detail.open(job)
    expect(detail.page.locator("[data-role=progress-text]")).to_have_text(sentence)
    expect(detail.bar).to_have_attribute("aria-valuetext", valuetext)


def test_a_queued_job_says_it_waits_for_a_worker_until_one_appears(detail: DetailPage) -> None:
    store = detail.store
    job = store.create("/media/Film.mkv", "transcode", params={"preset": "h264-720p"})["id"]
    register_worker(store, "media-01", ("scan",))  # a live worker, but not for transcode
    detail.open(job)
    note = detail.page.locator('#job-view [data-role="waiting"]')
    expect(note).to_be_visible()
    expect(note).to_have_text("Waiting for a worker that runs transcode")
    expect(detail.field("status")).to_have_text("Queued")

    register_worker(store, "media-02", ("transcode", "scan"))
    # The job types are asked for at the log interval while the job is queued.
    steps = [sorted(kind for _, kind in detail.run_for(INTERVAL_MS)) for _ in range(3)]
    assert steps == [["job"], ["job"], ["job", "types"]]
    expect(note).to_be_hidden()

    # Claimed: the page stops asking for the job types.
    assert store.claim(4242, ("transcode",))["id"] == job
    detail.run_for(INTERVAL_MS)
    expect(detail.field("status")).to_have_attribute("data-status", "running")
    later = [kind for _ in range(4) for _, kind in detail.run_for(INTERVAL_MS)]
    assert "types" not in later
    expect(note).to_be_hidden()


def test_a_queued_job_with_a_worker_for_its_type_says_nothing(detail: DetailPage) -> None:
    store = detail.store
    job = store.create("/media/Library", "scan")["id"]
    register_worker(store, "media-01", ("scan",))
    detail.open(job)
    expect(detail.field("status")).to_have_attribute("data-status", "queued")
    expect(detail.page.locator("[data-role=progress-text]")).to_have_text("Waiting to start")
    expect(detail.page.locator('#job-view [data-role="waiting"]')).to_be_hidden()
