"""Drill: hostile data — file names and log lines that try to be markup or terminal codes.

A real tree is built whose folder and file names carry HTML and JavaScript payloads
(``<img src=x onerror=window.__pwned=1>``, ``<script>alert(1)</script>`` spread over two
folder levels), double and single quotes and backticks, a newline, a U+202E
right-to-left override, an ANSI escape and bytes that are not UTF-8; one of them is a
dangling symbolic link (an unreadable file: an error with its name in the log and the
summary). ``jobdash scan DIR --wait`` queues it and the real worker (the child of ``jobdash
serve``) scans it, so the worker's own log lines and summary carry the names. A second
scan of a hostile path that does not exist fails with the name in its error message; a
third job is written by "another process" (plain SQL, as the orchestrator would) with
invalid UTF-8 bytes in its path and markup and an escape in its error and summary. Lines
with ANSI escapes, HTML and a newline are appended to the scan's log through the worker's
log writer (jobdash.store.log_writer.JobLog), which escapes control characters.

The dashboard and each job's detail page are opened with an init script that replaces
window.alert/confirm/prompt with recorders and listens for `securitypolicyviolation`;
the onerror payloads would set window.__pwned. Each page must show every name as text
(textContent holds the literal ``<img``, quotes and escapes; no element was injected)
and the traps must see nothing. Finally ``jobdash jobs`` prints one row per job, with
no escape, carriage return, newline or bidi override inside a row, at a wide and at a
narrow terminal width.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.store.sqlite.store import DB_FILENAME
from jobdash.util.textsafe import display_path
from jobdash.util.timestamps import now_iso
from support.browser_drills import READ_TRAPS, SECURITY_TRAPS, ServerProcess, extra_page
from support.dashboard import Dashboard
from support.job_page import DetailPage, append_log
from support.live_server import ROOT, _clean_env, build_frontend

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCAN_TIMEOUT_S = 60.0
IMG = "<img src=x onerror=window.__pwned=1>"
QUOTES = "\"quotes' and `backticks`"
RLO = "\u202e"
ESC = "\x1b"
MKV = b"\x1a\x45\xdf\xa3\x84\x42\x82\x81\x00" + b"\x00" * 200
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200

# The scanned root itself carries markup, quotes, a newline and a bidi override: it is
# the job's file_path, shown on every page and in the CLI.
ROOT_NAME = f"lib {IMG} {QUOTES} {RLO}evil\nline"
# Relative paths (bytes: some are not UTF-8) -> content; None makes a dangling link.
TREE: dict[bytes, bytes | None] = {
    os.fsencode(f"{IMG}.mkv"): MKV,
    os.fsencode(f"{QUOTES}.mp4"): MP4,
    os.fsencode("<script>alert(1)</script>.mkv"): MKV,  # folder "<script>alert(1)<", file "script>.mkv"
    os.fsencode("new\nline.mkv"): MKV,
    os.fsencode(f"{RLO}vkm.exe.mkv"): MKV,
    os.fsencode(f"ansi {ESC}[31mred{ESC}[0m.mkv"): MKV,
    b"bad \xff\xfe bytes.mkv": MKV,
    os.fsencode(f"{IMG} dangling.mkv"): None,
}
LOG_PAYLOADS = [
    f"{ESC}[31mred alert{ESC}[0m and {ESC}]0;title{ESC}\\ an OSC",
    "<script>alert(2)</script><img src=x onerror=window.__pwned=2>",
    "</li><li>a fake line</li>",
    "two\nlines\rand a carriage return",
    f"{RLO}desrever",
]
FAILED_ROOT = f"/nonexistent/{IMG.replace('=1', '=3')}\n{QUOTES}"
FOREIGN_ERROR = f"<b>bold</b> {ESC}[1mloud{ESC}[0m <img src=x onerror=window.__pwned=4>"


def make_tree(root: Path) -> list[str]:
    """Write TREE under root; return how the scan shows each file (display_path)."""
    base = os.fsencode(root)
    os.makedirs(base)
    for rel, content in TREE.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if content is None:
            os.symlink(os.path.join(base, b"missing target"), path)
        else:
            with open(path, "wb") as handle:
                handle.write(content)
    return [display_path(rel) for rel in TREE]


def foreign_job(data_dir: Path) -> str:
    """A failed job written by another process with plain SQL: a path that is not UTF-8,
    markup and escapes in its error and summary. Returns its id."""
    job_id = str(uuid.uuid4())
    conn = sqlite3.connect(data_dir / DB_FILENAME, timeout=5, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO jobs (id, file_path, job_type, status, created_at, started_at, completed_at,"
            " error_message, summary_json) VALUES (?, CAST(? AS TEXT), 'move', 'failed', ?, ?, ?, ?, ?)",
            (
                job_id,
                b"/media/\xff\xfe <i>moved</i>.mkv",
                now_iso(),
                now_iso(),
                now_iso(),
                FOREIGN_ERROR,
                '{"note": "<img src=x onerror=window.__pwned=5>"}',
            ),
        )
    finally:
        conn.close()
    return job_id


def cli(data_dir: Path, *args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**_clean_env(), "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "jobdash", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        timeout=SCAN_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    dist = tmp_path / "dist"
    build_frontend(dist)
    process = ServerProcess(tmp_path / "data", tmp_path / "server.log", dist=dist, worker=True)
    try:
        yield process.start()
    finally:
        process.close()


def text_of(page: Any, selector: str) -> str:
    return page.eval_on_selector(selector, "element => element.textContent")


def assert_no_injection(page: Any, where: str) -> None:
    traps = page.evaluate(READ_TRAPS)
    assert traps == {"dialogs": [], "violations": [], "pwned": None}, f"{where}: {traps}"
    injected = page.evaluate("document.querySelectorAll('main img, main script, main iframe, main b, main i').length")
    assert injected == 0, f"{where}: {injected} elements made from data"


def test_hostile_names_and_log_lines_are_text_everywhere(
    page: Any, browser: Any, server: ServerProcess, tmp_path: Path
) -> None:
    started = time.monotonic()
    root = tmp_path / ROOT_NAME
    shown_names = make_tree(root)
    store = server.store

    # --- the real worker scans the tree; a second scan fails on a hostile path -------------
    failed = store.create(FAILED_ROOT, "scan")["id"]
    scan = cli(server.data_dir, "scan", str(root), "--wait")
    assert scan.returncode == 0, scan.stdout + scan.stderr
    scan_id = scan.stdout.strip()
    deadline = time.monotonic() + SCAN_TIMEOUT_S
    while store.get(failed)["status"] != "failed":
        assert time.monotonic() < deadline, store.get(failed)
        time.sleep(0.1)
    foreign = foreign_job(server.data_dir)
    append_log(store, scan_id, *LOG_PAYLOADS)

    job = store.get(scan_id)
    assert job["file_path"] == str(root)
    log_lines = store.log_path(job).read_text(encoding="utf-8").splitlines()
    assert not any(ESC in line or "\r" in line or RLO in line for line in log_lines), "the writer escapes"
    for name in shown_names:
        assert any(name in line for line in log_lines), f"no log line names {name!r}"

    # --- the dashboard ------------------------------------------------------------------------
    dash = Dashboard(page, server)
    page.add_init_script(SECURITY_TRAPS)
    dash.open()
    assert sorted(dash.row_ids()) == sorted([scan_id, failed, foreign])
    paths = {scan_id: str(root), failed: FAILED_ROOT, foreign: "/media/\ufffd\ufffd <i>moved</i>.mkv"}
    for job_id, path in paths.items():
        cell = f'tr[data-job-id="{job_id}"] [data-field="file_path"]'
        assert text_of(page, cell) == path
        assert page.get_attribute(cell, "title") == path
    dash.run_for(5000)
    assert_no_injection(page, "dashboard")

    # --- each job's detail page ---------------------------------------------------------------
    payloads = 0
    with extra_page(browser) as job_page:
        detail = DetailPage(job_page, server)
        job_page.add_init_script(SECURITY_TRAPS)
        detail.open(scan_id)
        expect(detail.status).to_have_attribute("data-reason", "finished")
        assert text_of(job_page, '#job-view [data-field="file_path"]') == str(root)
        expect(detail.log.locator("li")).to_have_count(len(log_lines))  # no element made from a line
        texts = detail.log_texts()
        assert texts == log_lines, "each line exactly as the API returned it, as text"
        for name in shown_names:
            assert any(name in text for text in texts), name
            payloads += 1
        for payload in LOG_PAYLOADS:
            escaped = payload.replace(ESC, "\\x1b").replace("\n", "\\n").replace("\r", "\\r").replace(RLO, "\\u202e")
            assert any(text.endswith(escaped) for text in texts), escaped
            payloads += 1
        summary = text_of(job_page, '#job-view [data-field="summary_raw"]')
        assert display_path(f"{IMG} dangling.mkv") in summary  # the unreadable file's error sample
        assert detail.page.evaluate("window.__fetches.length") == 2  # the job and its log, once
        assert_no_injection(job_page, "detail page of the scan")

    with extra_page(browser) as job_page:
        detail = DetailPage(job_page, server)
        job_page.add_init_script(SECURITY_TRAPS)
        detail.open(failed)
        error = text_of(job_page, '#job-view [data-field="error_message"]')
        assert error == f"scan root {display_path(FAILED_ROOT)} does not exist"
        assert text_of(job_page, '#job-view [data-field="file_path"]') == FAILED_ROOT
        assert_no_injection(job_page, "detail page of the failed scan")

    with extra_page(browser) as job_page:
        detail = DetailPage(job_page, server)
        job_page.add_init_script(SECURITY_TRAPS)
        detail.open(foreign)
        assert text_of(job_page, '#job-view [data-field="error_message"]') == FOREIGN_ERROR
        assert text_of(job_page, '#job-view [data-field="file_path"]') == paths[foreign]
        assert "<img src=x onerror=window.__pwned=5>" in text_of(job_page, '#job-view [data-field="summary_raw"]')
        assert_no_injection(job_page, "detail page of the foreign job")

    # --- the CLI table --------------------------------------------------------------------------
    for columns in (400, 80):
        result = cli(server.data_dir, "jobs", columns=columns)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]", out), repr(out)
        rows = out.rstrip("\n").split("\n")
        assert len(rows) == 1 + 3, rows  # the header and one line per job
        assert rows[0].split() == ["ID", "TYPE", "STATUS", "PROGRESS", "PATH", "CREATED"]
        assert sorted(row[:8] for row in rows[1:]) == sorted(j[:8] for j in (scan_id, failed, foreign))
        by_id = {row[:8]: row for row in rows[1:]}
        assert by_id[scan_id[:8]].split()[1:3] == ["scan", "completed"]
        assert by_id[failed[:8]].split()[1:3] == ["scan", "failed"]
        assert by_id[foreign[:8]].split()[1:3] == ["move", "failed"]
        if columns == 400:
            assert display_path(str(root)) in by_id[scan_id[:8]]  # "...\\u202eevil\\nline"
            assert display_path(FAILED_ROOT) in by_id[failed[:8]]
        else:  # the path is cut at its start to fit the terminal
            assert all(len(row) <= columns for row in rows), rows
            assert display_path(ROOT_NAME)[-20:] in by_id[scan_id[:8]]
    print(
        f"\nhostile data drill: {len(TREE)} hostile names + root, {len(LOG_PAYLOADS)} log payloads, "
        f"{payloads} checks of text on the detail page, {len(log_lines)} log lines, 4 pages, "
        f"0 dialogs / CSP violations / injected elements, {time.monotonic() - started:.1f} s"
    )
