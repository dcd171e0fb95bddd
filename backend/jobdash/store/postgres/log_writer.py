"""Job log lines written to the database, in small batches.

A worker logs a line per file; one transaction per line would cost more than the work.
Lines are buffered and written together when the buffer is a batch long, when the last
write is older than ``FLUSH_EVERY_S``, on :meth:`flush` (the worker's heartbeat calls it)
and on close. The log is advisory, as the file log is: lines that cannot be written while
the database is away are kept (up to a bound) and written later, never failing the job.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from jobdash.store.interface import StoreUnavailable
from jobdash.store.log_writer import format_line

log = logging.getLogger("jobdash.joblog")

FLUSH_EVERY_S = 0.25
BATCH_LINES = 500
# Lines kept while the database is unreachable; older ones are dropped past this.
MAX_PENDING = 50_000


class DatabaseJobLog:
    """Appends timestamped lines to one job's log through ``append(lines)``.

    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, append: Callable[[list[str]], int], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._append = append
        self._clock = clock
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._last_flush = -math.inf  # a log's first line is readable at once
        self._warned = False
        self._dropped = 0

    def __enter__(self) -> DatabaseJobLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, message: str, *, level: str = "INFO") -> None:
        """Queue ``<timestamp> <LEVEL> <message>`` as one line; write the batch if due."""
        with self._lock:
            self._pending.append(format_line(message, level))
            if len(self._pending) > MAX_PENDING:
                self._dropped += len(self._pending) - MAX_PENDING
                del self._pending[: len(self._pending) - MAX_PENDING]
            due = len(self._pending) >= BATCH_LINES or self._clock() - self._last_flush >= FLUSH_EVERY_S
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines now (kept for later if the database is away)."""
        with self._lock:
            self._last_flush = self._clock()
            if not self._pending:
                return
            lines, self._pending = self._pending, []
            try:
                self._append(lines)
                self._warned = False
            except StoreUnavailable as error:
                self._pending = lines + self._pending
                if not self._warned:
                    log.warning("job log lines not written yet (%s); kept to write later", error)
                self._warned = True

    def close(self) -> None:
        """Write what is buffered. Idempotent."""
        self.flush()
        if self._pending or self._dropped:
            log.warning(
                "job log: %d lines could not be written and %d were dropped",
                len(self._pending),
                self._dropped,
            )
            self._pending = []
            self._dropped = 0
