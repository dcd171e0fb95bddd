"""Per-job log files: one line per event, appended by the worker, read by offset.

Lines are written as UTF-8 with control characters escaped, so a line is exactly one
``\\n``-terminated record whatever the data (file names with newlines included).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from backend.textsafe import one_line
from backend.timeutil import now_iso

log = logging.getLogger("jobdash.joblog")


class JobLog:
    """Appends timestamped lines to one job's log file (opened lazily, line-buffered).

    The log is advisory: a line that cannot be written (disk full, bad ``log_path``) is
    reported to the process log and dropped, and never stops the job from ending.
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: TextIO | None = None
        self._failed = False

    def __enter__(self) -> JobLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, message: str, *, level: str = "INFO") -> None:
        """Append ``<timestamp> <LEVEL> <message>`` as one line."""
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8", buffering=1, newline="\n")
            self._file.write(f"{now_iso()} {level} {one_line(message)}\n")
        except OSError as error:
            if not self._failed:  # once per log, not once per line
                log.warning("cannot write job log %s: %s", self.path, error)
            self._failed = True

    def close(self) -> None:
        """Close the file. Idempotent."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError as error:
                log.warning("cannot close job log %s: %s", self.path, error)
            self._file = None


@dataclass(frozen=True)
class LogSlice:
    """Lines ``offset .. offset+len(lines)-1`` of a log with ``total_lines`` lines."""

    lines: list[str]
    total_lines: int
    offset: int

    @property
    def has_more(self) -> bool:
        """True when lines after this slice exist."""
        return self.offset + len(self.lines) < self.total_lines


_CHUNK = 1 << 16


def read_log(path: Path, offset: int | None, lines: int) -> LogSlice:
    """Given a log file, return ``lines`` lines starting at line ``offset`` (0-based).

    ``offset=None`` means "the last ``lines`` lines". A final line without its newline
    (still being written) is not counted yet, so a client never receives half a line.
    Bytes that are not UTF-8 are shown as U+FFFD. A missing file is an empty log.
    """
    assert lines >= 0 and (offset is None or offset >= 0)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return LogSlice([], 0, 0 if offset is None else offset)
    with handle:
        # One streaming pass: count complete lines, keep only the wanted window.
        total = 0
        window: list[bytes] = []
        tail: deque[bytes] = deque(maxlen=lines)
        pending = b""
        while chunk := handle.read(_CHUNK):
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            for part in parts:
                if offset is None:
                    tail.append(part)
                elif offset <= total < offset + lines:
                    window.append(part)
                total += 1
    if offset is None:
        window, start = list(tail), total - len(tail)
    else:
        start = offset
    return LogSlice([b.decode("utf-8", errors="replace") for b in window], total, start)
