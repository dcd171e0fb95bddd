"""Per-job log files: one line per event, appended by the worker.

Lines are written as UTF-8 with control characters escaped, so a line is exactly one
``\\n``-terminated record whatever the data (file names with newlines included).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

from jobdash.util.textsafe import one_line
from jobdash.util.timestamps import now_iso

log = logging.getLogger("jobdash.joblog")


def format_line(message: str, level: str) -> str:
    """Given a message and its level, return the log line (without its newline).

    >>> format_line("two\\nlines", "WARN")[24:]
    ' WARN two\\\\nlines'
    """
    return f"{now_iso()} {level} {one_line(message)}"


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
            self._file.write(format_line(message, level) + "\n")
        except OSError as error:
            if not self._failed:  # once per log, not once per line
                log.warning("cannot write job log %s: %s", self.path, error)
            self._failed = True

    def flush(self) -> None:
        """Nothing to do: lines reach the file as they are written (line-buffered)."""

    def close(self) -> None:
        """Close the file. Idempotent."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError as error:
                log.warning("cannot close job log %s: %s", self.path, error)
            self._file = None
