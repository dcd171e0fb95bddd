"""The `jobdash jobs` table: one line per job, hostile data escaped (jobdash.cli.table)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from jobdash.cli.table import HEADERS, created_cell, format_jobs_table, progress_cell


def job(path: str = "/media/Movies", **overrides: Any) -> dict[str, Any]:
    """Return a jobs row with a fresh UUID and the given path."""
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "file_path": path,
        "job_type": "scan",
        "status": "queued",
        "created_at": "2026-11-29T00:24:02.652Z",
        "progress_percent": 0,
        "progress_json": None,
    }
    base.update(overrides)
    return base


HOSTILE = {
    "newline": ("/m/a\nb.mkv", "/m/a\\nb.mkv"),
    "carriage return": ("/m/ok.mkv\rFAKE", "/m/ok.mkv\\rFAKE"),
    "ansi": ("/m/\x1b[2J\x1b[31mred.mkv", "/m/\\x1b[2J\\x1b[31mred.mkv"),
    "rtl override": ("/m/evil\u202evkm.exe", "/m/evil\\u202evkm.exe"),
    "html": ("/m/<img src=x onerror=alert(1)>.mkv", "/m/<img src=x onerror=alert(1)>.mkv"),
    "tab": ("/m/a\tb.mkv", "/m/a\\tb.mkv"),
}


def test_header_and_one_line_per_job() -> None:
    """The table is a header line plus exactly one line per job."""
    rows = [job(f"/m/{i}") for i in range(3)]
    lines = format_jobs_table(rows).split("\n")
    assert len(lines) == 4
    assert lines[0].split() == list(HEADERS)
    for line, row in zip(lines[1:], rows, strict=True):
        assert line.startswith(row["id"][:8] + "  ")
        assert row["file_path"] in line


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_paths_are_escaped_and_stay_on_their_row(case: str) -> None:
    """Newlines, ANSI escapes, RTL overrides and HTML in paths print as inert text on one row."""
    raw, shown = HOSTILE[case]
    table = format_jobs_table([job(raw), job("/m/next.mkv")], width=200)
    lines = table.split("\n")
    assert len(lines) == 3
    assert shown in lines[1]
    for char in "\r\x1b\u202e\t":
        assert char not in table
    assert "/m/next.mkv" in lines[2]


def test_all_hostile_rows_together_keep_one_line_each() -> None:
    """Many hostile rows still give one line per row and no control characters."""
    rows = [job(raw) for raw, _ in HOSTILE.values()]
    table = format_jobs_table(rows, width=200)
    assert len(table.splitlines()) == len(rows) + 1
    assert all(c == "\n" or c.isprintable() for c in table)


def test_hostile_type_and_status_are_escaped() -> None:
    """Rows written by another process may hold anything in type and status too."""
    table = format_jobs_table([job(job_type="scan\n\x1b[31m", status="queued\u202e")])
    assert len(table.split("\n")) == 2
    assert "scan\\n\\x1b[31m" in table and "queued\\u202e" in table


def test_long_path_keeps_its_end_within_width() -> None:
    """A path too long for the terminal is cut at the front, keeping the file name."""
    path = "/media/" + "very-long-folder/" * 20 + "The File (2020).mkv"
    line = format_jobs_table([job(path)], width=100).split("\n")[1]
    assert "…" in line
    assert "The File (2020).mkv" in line
    assert len(line) <= 100


def test_columns_line_up() -> None:
    """Every column starts at the same position on each line."""
    rows = [job("/a", status="running"), job("/much/longer/path", status="cancelled", job_type="transcode")]
    lines = format_jobs_table(rows).split("\n")
    col = lines[0].index("PATH")
    assert lines[1][col:].startswith("/a")
    assert lines[2][col:].startswith("/much/longer/path")


def test_empty_table_is_just_the_header() -> None:
    """No rows gives the header line only."""
    assert format_jobs_table([]) == "  ".join(HEADERS)


@pytest.mark.parametrize(
    ("row", "cell"),
    [
        ({"progress_json": json.dumps({"processed": 25, "total": 100}), "progress_percent": 25}, "25/100 25%"),
        ({"progress_json": json.dumps({"processed": 0, "total": 0}), "progress_percent": 0}, "0/0 0%"),
        ({"status": "completed", "progress_percent": 100}, "100%"),
        ({"status": "running", "progress_percent": None}, "-"),
        ({"status": "queued", "progress_json": "junk"}, "-"),
    ],
)
def test_progress_cell(row: dict[str, Any], cell: str) -> None:
    """Progress shows counts and percent when known, else 100% for completed or a dash."""
    assert progress_cell(row) == cell


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ("2026-11-29T00:24:02.652Z", "2026-11-29 00:24:02Z"),
        ("2026-11-29T00:24:02.652+00:00", "2026-11-29 00:24:02Z"),
        ("2026-11-29T00:24:02", "2026-11-29 00:24:02Z"),
        (None, "-"),
        ("", "-"),
        ("yesterday\n\x1b[31m", "yesterday\\n\\x1b[31m"),
    ],
)
def test_created_cell(stored: str | None, cell: str) -> None:
    """Created shows UTC to the second for Z and +00:00; junk is escaped, missing is a dash."""
    assert created_cell(stored) == cell
