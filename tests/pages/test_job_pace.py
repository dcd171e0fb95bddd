"""A running job's pace on both pages: the time left while it moves, "No progress for
2 min" in warning colours when it stands still, nothing once it ends (fake clock, real
server: the job's progress is written through the store, as a worker writes it)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.store.sqlite.store import DB_FILENAME
from support.dashboard import running_job

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000


def advance(driver: Any, store: Any, job: str, start: int, steps: int, *, per_step: int = 1) -> int:
    """Move the job ``per_step`` files of 100 per poll interval for ``steps`` intervals."""
    done = start
    for _ in range(steps):
        done += per_step
        store.progress(job, done, 100, "files")
        driver.run_for(INTERVAL_MS)
    return done


def set_progress_moved(server: Any, job: str, minutes_ago: int) -> None:
    """Say (as the store would) that the job's progress last moved ``minutes_ago``."""
    moved = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    conn = sqlite3.connect(server.data_dir / DB_FILENAME, isolation_level=None)
    try:
        conn.execute("UPDATE jobs SET progress_updated_at = ? WHERE id = ?", (moved, job))
    finally:
        conn.close()


def test_a_row_shows_time_left_then_a_stall_then_time_left_again(dash: Any) -> None:
    job = running_job(dash.store, "/media/pace", processed=0, total=100)
    dash.open()
    pace = dash.cell(job, "progress_percent").locator("[data-role=pace]")
    expect(pace).to_be_hidden()
    done = advance(dash, dash.store, job, 0, 8)  # 8% in 40 s: 1% per 5 s
    expect(pace).to_have_attribute("data-pace", "time-left")
    expect(pace).to_have_text("~8 min left")

    dash.run_for(120_000)  # nothing moves for two minutes
    expect(pace).to_have_attribute("data-pace", "stalled")
    expect(pace).to_have_text("No progress for 2 min")
    assert dash.page.evaluate(
        "(el) => getComputedStyle(el).backgroundColor !== getComputedStyle(el.parentElement).backgroundColor",
        pace.element_handle(),
    ), "a stall shows in warning colours"

    advance(dash, dash.store, job, done, 1)
    expect(pace).not_to_have_attribute("data-pace", "stalled")

    dash.store.finish(job, "completed", summary={})
    dash.run_for(INTERVAL_MS)
    expect(pace).to_be_hidden()


def test_the_job_page_shows_time_left_and_a_stall(detail: Any) -> None:
    job = running_job(detail.store, "/media/pace", processed=0, total=100)
    detail.open(job)
    pace = detail.page.locator("[data-role=pace]")
    expect(pace).to_be_hidden()
    done = advance(detail, detail.store, job, 0, 10, per_step=2)  # 20% in 50 s
    expect(pace).to_have_text("about 3 min left")
    detail.run_for(121_000)
    expect(pace).to_have_text("No progress for 2 min")
    expect(pace).to_have_attribute("data-pace", "stalled")
    advance(detail, detail.store, job, done, 1)
    expect(pace).not_to_have_attribute("data-pace", "stalled")
    detail.store.finish(job, "completed", summary={})
    detail.run_for(INTERVAL_MS)
    expect(pace).to_be_hidden()


def test_after_a_reload_a_stall_shows_at_once(server: Any, dash: Any) -> None:
    """The API says when progress last moved: a page opened on a job stuck for 10 min
    says so at once, on the row and on the job page."""
    job = running_job(server.store, "/media/stuck", processed=40, total=100)
    set_progress_moved(server, job, 10)
    dash.open()
    pace = dash.cell(job, "progress_percent").locator("[data-role=pace]")
    expect(pace).to_have_text("No progress for 10 min")
    dash.page.goto(server.url(f"job.html?id={job}"))
    expect(dash.page.locator("[data-role=pace]")).to_have_text("No progress for 10 min")
