"""The job page in WebKit (WebKitGTK, Safari's engine): its log, its end, a deleted job,
hostile names and the CSP, driven through Selenium (see support/webkit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from support.dashboard import running_job
from support.job_page import append_log, delete_job, kind, log_offset
from support.webkit import WebKitPage, wait_until

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LOG_INTERVAL_MS = 15000
SHOWN = "#job-view:not([hidden]), #job-missing:not([hidden]), #page-error:not([hidden])"


def open_job(driver: Any, server: Any, job_id: str) -> WebKitPage:
    return WebKitPage(driver, server).open(f"job.html?id={job_id}", shown=SHOWN)


def log_texts(page: WebKitPage) -> list[str]:
    """The messages of the log lines shown (each line reads "<time> INFO <message>")."""
    texts = page.js("return [...document.querySelectorAll('#job-log > li')].map((li) => li.textContent)")
    return [text.split(" INFO ", 1)[-1] for text in texts]


def steps(page: WebKitPage, ms: int) -> list[tuple[str, int | None]]:
    """Advance ``ms``; return (kind, log offset) of each request the step made."""
    before = len(page.fetches())
    page.run_for(ms)
    return [(kind(f["url"]), log_offset(f["url"])) for f in page.fetches()[before:]]


def test_the_log_appends_only_new_lines_and_polling_stops_at_the_end(driver: Any, server: Any) -> None:
    store = server.store
    job = running_job(store, "/media/Logged", processed=1, total=3)
    append_log(store, job, "first line", "second line")
    page = open_job(driver, server, job)
    wait_until(lambda: log_texts(page) == ["first line", "second line"], "the first two lines")
    page.js("window.__lines = [...document.querySelectorAll('#job-log > li')];")

    append_log(store, job, "third line")
    made = steps(page, LOG_INTERVAL_MS)
    assert ("log", 2) in made, made  # only the lines after the two it holds
    wait_until(lambda: log_texts(page) == ["first line", "second line", "third line"], "the third line")
    assert page.js("return window.__lines.every((li, i) => document.querySelector('#job-log').children[i] === li)"), (
        "lines already shown must stay the same elements"
    )

    append_log(store, job, "last line")
    store.progress(job, 3, 3)
    store.finish(job, "completed", summary={"files_found": 3})
    steps(page, INTERVAL_MS)
    wait_until(lambda: page.attribute('#job-view [data-field="status"]', "data-status") == "completed", "done")
    wait_until(lambda: log_texts(page)[-1:] == ["last line"], "the last line, fetched once at the end")
    wait_until(lambda: page.state() == "paused", "paused at the end")
    assert steps(page, 10 * LOG_INTERVAL_MS) == [], "no request after the end"
    assert page.errors() == []


def test_a_deleted_job_says_so_and_polling_stops(driver: Any, server: Any) -> None:
    job = running_job(server.store, "/media/Soon gone", processed=1, total=10)
    page = open_job(driver, server, job)
    delete_job(server, job)
    steps(page, INTERVAL_MS)
    wait_until(lambda: page.js("return !document.getElementById('job-missing').hidden"), "#job-missing shown")
    assert "This job no longer exists" in page.text("#job-missing")
    assert page.js("return document.querySelector('#job-missing a[href]') !== null"), "a link back to the list"
    assert steps(page, 10 * LOG_INTERVAL_MS) == []
    assert page.errors() == []


def test_hostile_names_and_log_lines_are_text_and_no_script_runs(driver: Any, server: Any) -> None:
    evil = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"
    store = server.store
    job = running_job(store, f"/media/{evil}", processed=1, total=2)
    append_log(store, job, f"scanning {evil}")
    page = open_job(driver, server, job)
    wait_until(lambda: log_texts(page) == [f"scanning {evil}"], "the hostile log line")
    assert page.text('#job-view [data-field="file_path"]') == f"/media/{evil}"
    assert page.js("return document.querySelectorAll('#job-view img, #job-view script').length") == 0
    assert page.js("return window.__xss === undefined")
    assert page.errors() == []


def test_the_strict_csp_holds(driver: Any, server: Any) -> None:
    """As on the dashboard: no unsafe-inline needed, and an inline script added later is blocked."""
    job = running_job(server.store, "/media/a", processed=1, total=2)
    page = open_job(driver, server, job)
    page.assert_strict_csp()
