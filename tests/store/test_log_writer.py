"""Per-job log files: writing one line per event (jobdash.store.log_writer); read back with read_log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdash.store.log_reader import read_log
from jobdash.store.log_writer import JobLog

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) (?P<message>.*)$")


@pytest.fixture
def job_log(tmp_path: Path) -> Iterator[JobLog]:
    """A JobLog in a not-yet-existing subdirectory, closed afterwards."""
    log = JobLog(tmp_path / "logs" / "job.log")
    yield log
    log.close()


def test_write_appends_timestamped_lines(job_log: JobLog) -> None:
    """Each write is one `<timestamp> <LEVEL> <message>` line; the directory is created."""
    job_log.write("first")
    job_log.write("second", level="WARN")
    lines = job_log.path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    parsed = [LINE.match(line) for line in lines[:-1]]
    assert [(m["level"], m["message"]) for m in parsed if m] == [("INFO", "first"), ("WARN", "second")]


def test_write_escapes_control_characters(job_log: JobLog) -> None:
    """A message with newlines, escapes and bidi overrides is still exactly one line."""
    job_log.write("a\nb\r\x1b[31mred\u202eevil\x00")
    text = job_log.path.read_text(encoding="utf-8")
    assert text.count("\n") == 1
    match = LINE.match(text.rstrip("\n"))
    assert match is not None
    assert match["message"] == "a\\nb\\r\\x1b[31mred\\u202eevil\\x00"


def test_write_keeps_unicode_and_markup(job_log: JobLog) -> None:
    """Accents, CJK and HTML-looking text are stored as UTF-8 text, unchanged."""
    job_log.write("Amélie 日本 <img src=x onerror=alert(1)>")
    assert "Amélie 日本 <img src=x onerror=alert(1)>" in job_log.path.read_text(encoding="utf-8")


def test_lines_are_readable_while_the_log_is_open(job_log: JobLog) -> None:
    """Lines reach the file as they are written (a page can follow a running job)."""
    job_log.write("one")
    assert len(read_log(job_log.path, None, 10).lines) == 1
    job_log.write("two")
    assert read_log(job_log.path, None, 10).total_lines == 2


def test_close_is_idempotent_and_writing_again_appends(job_log: JobLog) -> None:
    """After close() a new write reopens the file in append mode."""
    job_log.write("one")
    job_log.close()
    job_log.close()
    job_log.write("two")
    job_log.close()
    assert read_log(job_log.path, 0, 10).total_lines == 2


def test_written_log_reads_back_line_for_line(job_log: JobLog) -> None:
    """What JobLog writes, read_log returns as the same number of lines, in order."""
    for i in range(25):
        job_log.write(f"file {i}\nwith newline")
    piece = read_log(job_log.path, 20, 10)
    assert piece.total_lines == 25 and len(piece.lines) == 5
    assert piece.lines[0].endswith("file 20\\nwith newline")
