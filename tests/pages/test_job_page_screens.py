"""The detail page's look at 1280 px (light and dark) and on a 390 px phone: running
(progress and log), completed, failed, a running transcode with params and progress in
media time, a queued transcode waiting for a worker, missing (deleted while open) and a
bogus id. No
horizontal scrolling, text beside every status colour, dark colours in dark mode.
Screenshots go to $JOBDASH_SCREENSHOTS (when set) as detail-<state>-<layout>.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.store.log_writer import JobLog
from support.browser import watched_page
from support.dashboard import expected_network_errors, register_worker, running_job
from support.job_page import DetailPage, append_log, delete_job
from support.live_server import LiveServer
from support.screens import check_layout

pytestmark = pytest.mark.browser

LAYOUTS = {
    "1280-light": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "1280-dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
    "390-phone": {
        "viewport": {"width": 390, "height": 844},
        "color_scheme": "light",
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
LIBRARY = "/srv/media/TV/Northern Signal"
SUMMARY = {
    "root": LIBRARY,
    "files_found": 412,
    "files_scanned": 410,
    "errors": 2,
    "bytes": 88_123_456,
    "containers": {"matroska": 300, "mp4": 90, "avi": 20},
    "mismatched": 1,
    "elapsed_seconds": 41.2,
    "error_samples": ["Season 02/E07.mkv: cannot read: Permission denied"],
}


CLIP = "/srv/media/Movies/Golden Harbor (1987)/Golden Harbor (1987) - Trailer.mkv"
TRANSCODE_PARAMS = {
    "preset": "h264-720p",
    "output": "/srv/media/Transcoded/Golden Harbor (1987) - Trailer.mp4",
    "crf": 23,
    "audio": {"codec": "aac", "bitrate": "128k"},
}


def write_log(server: LiveServer, job: str, count: int) -> None:
    store = server.store
    append_log(store, job, f"job {job} (scan {LIBRARY}) started by worker 4242")
    append_log(store, job, f"found 412 media files in {LIBRARY} (37 other files ignored)")
    with JobLog(store.log_path(store.get(job))) as log:
        for n in range(1, count + 1):
            name = f"Season {1 + n // 24:02}/Northern Signal S{1 + n // 24:02}E{n % 24 + 1:02}.mkv"
            if n % 17 == 0:
                log.write(f"{name}: cannot read: Permission denied", level="ERROR")
            elif n % 11 == 0:
                log.write(f"{name} mp4 734003200 5e0c6b0f2c1f4b7e (extension .mkv but content is mp4)", level="WARN")
            else:
                log.write(f"{name} matroska 734003200 5e0c6b0f2c1f4b7e")


def seed(server: LiveServer, state: str) -> str:
    store = server.store
    if state == "running":
        job = running_job(store, LIBRARY, processed=137, total=412)
        write_log(server, job, 137)
    elif state == "completed":
        job = running_job(store, LIBRARY, processed=412, total=412)
        write_log(server, job, 60)
        store.finish(job, "completed", summary=SUMMARY)
    elif state == "failed":
        job = running_job(store, "/srv/media/Movies/<img src=x onerror=alert(1)> Archive", processed=37, total=120)
        write_log(server, job, 37)
        store.finish(
            job,
            "failed",
            error_message="scan root /srv/media/Movies/<img src=x onerror=alert(1)> Archive "
            "cannot be listed: Input/output error",
        )
    elif state == "transcode":
        job = running_job(
            store, CLIP, job_type="transcode", processed=23, total=60, unit="seconds", params=TRANSCODE_PARAMS
        )
        append_log(store, job, f"job {job} (transcode {CLIP}) started by worker 4242", "ffmpeg: frame=  552 fps=24")
        register_worker(store, "media-01", ("transcode",), running=job)
    elif state == "waiting":
        job = store.create(CLIP, "transcode", params=TRANSCODE_PARAMS)["id"]
        register_worker(store, "media-01", ("scan",))
    else:
        job = running_job(store, LIBRARY, processed=5, total=412)
    return job


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("state", ["running", "completed", "failed", "transcode", "waiting", "missing", "bogus"])
def test_detail_layout(browser: Any, server: LiveServer, tmp_path: Path, layout: str, state: str) -> None:
    shots = Path(os.environ.get("JOBDASH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    options = LAYOUTS[layout]
    with watched_page(browser, **options) as page:
        server.reset()
        detail = DetailPage(page, server)
        if state == "bogus":
            detail.open(query="id=not-a-job-id")
            expect(page.locator("#page-error")).to_be_visible()
        else:
            job = seed(server, state)
            detail.open(job)
            if state == "missing":
                delete_job(server, job)
                detail.run_for(5000)
                expect(page.locator("#job-missing")).to_be_visible()
                expected_network_errors(page)
            else:
                status = {"transcode": "running", "waiting": "queued"}.get(state, state)
                expect(detail.field("status")).to_have_attribute("data-status", status)
                if state == "transcode":
                    expect(page.locator("[data-role=progress-text]")).to_have_text("Processing 0:23 of 1:00")
                    expect(page.locator('[data-field="params"] > div')).to_have_count(4)
                if state == "waiting":
                    expect(page.locator('#job-view [data-role="waiting"]')).to_be_visible()
                detail.run_for(3000)  # the elapsed time has ticked; the log is at its end
        check_layout(page, shots, f"detail-{state}-{layout}.png", options["color_scheme"], ".badge:visible")
