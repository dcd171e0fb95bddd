"""Per-job log files: writing one line per event, reading by line offset (backend.joblog)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.joblog import JobLog, LogSlice, read_log

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) (?P<message>.*)$")


@pytest.fixture
def ten(tmp_path: Path) -> Path:
    """A log file with the ten complete lines line0 .. line9."""
    path = tmp_path / "ten.log"
    path.write_bytes(b"".join(f"line{i}\n".encode() for i in range(10)))
    return path


@pytest.fixture
def job_log(tmp_path: Path) -> Iterator[JobLog]:
    """A JobLog in a not-yet-existing subdirectory, closed afterwards."""
    log = JobLog(tmp_path / "logs" / "job.log")
    yield log
    log.close()


def numbers(piece: LogSlice) -> list[int]:
    """Return the line numbers of a slice of the `ten` log."""
    return [int(line.removeprefix("line")) for line in piece.lines]


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


def test_first_page(ten: Path) -> None:
    """offset 0 gives the first lines and says more follow."""
    piece = read_log(ten, 0, 3)
    assert numbers(piece) == [0, 1, 2]
    assert (piece.offset, piece.total_lines, piece.has_more) == (0, 10, True)


def test_middle_page(ten: Path) -> None:
    """An offset in the middle starts at that absolute line index."""
    piece = read_log(ten, 4, 3)
    assert numbers(piece) == [4, 5, 6]
    assert (piece.offset, piece.total_lines, piece.has_more) == (4, 10, True)


def test_last_partial_page(ten: Path) -> None:
    """A page that runs past the end returns what exists and no more."""
    piece = read_log(ten, 8, 5)
    assert numbers(piece) == [8, 9]
    assert (piece.offset, piece.has_more) == (8, False)


def test_page_ending_exactly_at_the_end(ten: Path) -> None:
    """A page whose last line is the log's last line has nothing more."""
    piece = read_log(ten, 7, 3)
    assert numbers(piece) == [7, 8, 9] and piece.has_more is False


def test_offset_exactly_at_end(ten: Path) -> None:
    """A client holding every line asks at offset=total and gets nothing new."""
    piece = read_log(ten, 10, 5)
    assert piece == LogSlice([], 10, 10)
    assert piece.has_more is False


def test_offset_past_end(ten: Path) -> None:
    """An offset beyond the log is empty (the log may have been replaced), keeping the offset."""
    piece = read_log(ten, 15, 5)
    assert piece == LogSlice([], 10, 15)
    assert piece.has_more is False


def test_tail(ten: Path) -> None:
    """offset=None gives the last lines with their absolute offset."""
    piece = read_log(ten, None, 3)
    assert numbers(piece) == [7, 8, 9]
    assert (piece.offset, piece.total_lines, piece.has_more) == (7, 10, False)


def test_tail_longer_than_the_log(ten: Path) -> None:
    """Asking for more lines than exist returns them all from offset 0."""
    piece = read_log(ten, None, 100)
    assert numbers(piece) == list(range(10)) and piece.offset == 0


def test_tail_then_follow_gets_only_new_lines(ten: Path) -> None:
    """After a tail load, asking at offset = last index + 1 returns only lines added since."""
    first = read_log(ten, None, 3)
    with open(ten, "a", encoding="utf-8") as handle:
        handle.write("line10\nline11\n")
    follow = read_log(ten, first.offset + len(first.lines), 100)
    assert numbers(follow) == [10, 11]
    assert follow.offset == 10 and follow.total_lines == 12


def test_lines_limit(ten: Path) -> None:
    """`lines` caps the slice size; lines=0 returns nothing but still counts the log."""
    assert len(read_log(ten, 0, 1).lines) == 1
    empty = read_log(ten, 2, 0)
    assert empty == LogSlice([], 10, 2) and empty.has_more is True
    assert read_log(ten, None, 0) == LogSlice([], 10, 10)


def test_partial_last_line_is_not_returned(tmp_path: Path) -> None:
    """A final line without its newline (still being written) is neither counted nor returned."""
    path = tmp_path / "partial.log"
    path.write_bytes(b"a\nb\nhalf a li")
    assert read_log(path, None, 10) == LogSlice(["a", "b"], 2, 0)
    assert read_log(path, 2, 10) == LogSlice([], 2, 2)
    with open(path, "ab") as handle:
        handle.write(b"ne\n")
    assert read_log(path, 2, 10) == LogSlice(["half a line"], 3, 2)


def test_non_utf8_bytes_are_replaced(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 show as U+FFFD instead of failing the read."""
    path = tmp_path / "bad.log"
    path.write_bytes(b"ok \xff\xfe end\n\xc3\n")
    assert read_log(path, 0, 10).lines == ["ok \ufffd\ufffd end", "\ufffd"]


def test_missing_file_is_an_empty_log(tmp_path: Path) -> None:
    """A job that has not logged yet has an empty log, not an error."""
    assert read_log(tmp_path / "none.log", None, 10) == LogSlice([], 0, 0)
    piece = read_log(tmp_path / "none.log", 5, 10)
    assert piece == LogSlice([], 0, 5) and piece.has_more is False


def test_empty_file(tmp_path: Path) -> None:
    """An empty file has no lines."""
    path = tmp_path / "empty.log"
    path.touch()
    assert read_log(path, 0, 10) == LogSlice([], 0, 0)


def test_blank_lines_count(tmp_path: Path) -> None:
    """Empty lines are lines: offsets stay aligned with the file."""
    path = tmp_path / "blank.log"
    path.write_bytes(b"a\n\nb\n")
    assert read_log(path, 0, 10).lines == ["a", "", "b"]


def test_lines_across_read_chunks(tmp_path: Path) -> None:
    """Long lines spanning read chunks (and a multi-byte character on a chunk edge) stay whole."""
    path = tmp_path / "long.log"
    long_line = "x" * 65535 + "é" + "y" * 70000
    path.write_bytes(b"short\n" + long_line.encode("utf-8") + b"\nlast\n")
    piece = read_log(path, 0, 10)
    assert piece.lines == ["short", long_line, "last"]
    assert read_log(path, None, 1).lines == ["last"]
    assert read_log(path, None, 1).offset == 2


def test_written_log_reads_back_line_for_line(job_log: JobLog) -> None:
    """What JobLog writes, read_log returns as the same number of lines, in order."""
    for i in range(25):
        job_log.write(f"file {i}\nwith newline")
    piece = read_log(job_log.path, 20, 10)
    assert piece.total_lines == 25 and len(piece.lines) == 5
    assert piece.lines[0].endswith("file 20\\nwith newline")
