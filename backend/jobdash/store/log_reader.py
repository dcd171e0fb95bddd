"""Reading job logs by line offset at the cost of the lines returned.

A job log is append-only text with one ``\\n``-terminated record per line. Answering
"lines from N" must not read or count the whole file on every poll, so each log gets a
:class:`LogIndex`: checkpoints ``(line number, byte offset)`` taken at the last newline
of every 64 KiB read. A request brings the index up to date by reading only the bytes
appended since the last request, finds the checkpoint at or before the wanted line with a
binary search, and reads forward from there: at most one chunk plus the lines returned.
A file that shrank or was replaced (rotation, truncation) is indexed afresh.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 16
READ_BYTES = 1 << 20
MAX_INDEXES = 256


def file_mark(path: Path | None) -> tuple[int, int] | None:
    """Given a log file's path, return (size, modification time in ns), None when there
    is no such file: a token that changes whenever the file grows or is replaced."""
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


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


class LogIndex:
    """Where lines start in one log file, extended as the file grows.

    Only complete lines count: bytes after the last newline (a line still being written)
    are left for a later refresh, so no client ever gets half a line.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._reset(None)

    def _reset(self, identity: tuple[int, int] | None) -> None:
        self.identity = identity
        self.total_lines = 0
        self.indexed_bytes = 0  # just after the last complete line seen
        self.cp_lines = [0]  # checkpoint k: line cp_lines[k] starts at byte cp_bytes[k]
        self.cp_bytes = [0]

    def refresh(self, handle: BinaryIO, stat: os.stat_result) -> None:
        """Index the bytes appended since the last refresh (all of them for a new file)."""
        identity = (stat.st_dev, stat.st_ino)
        if identity != self.identity or stat.st_size < self.indexed_bytes:
            self._reset(identity)
        position = self.indexed_bytes
        handle.seek(position)
        while position < stat.st_size:
            # Big reads: each read releases and retakes the GIL, and many small ones in a
            # row starve the event loop while a huge log is indexed for the first time.
            chunk = handle.read(min(READ_BYTES, stat.st_size - position))
            if not chunk:
                break
            consumed = 0  # bytes of chunk up to the last newline counted
            for start in range(0, len(chunk), CHUNK):
                # A checkpoint per CHUNK keeps a later forward scan within one CHUNK.
                newline = chunk.rfind(b"\n", start, start + CHUNK)
                if newline < consumed:
                    continue
                self.total_lines += chunk.count(b"\n", consumed, newline + 1)
                consumed = newline + 1
                self.indexed_bytes = position + consumed
                self.cp_lines.append(self.total_lines)
                self.cp_bytes.append(self.indexed_bytes)
            if consumed == 0:
                if len(chunk) < READ_BYTES:
                    break  # the rest is a partial line
                position += len(chunk)  # a very long line: keep reading
                continue
            position += consumed
            handle.seek(position)

    def byte_offset(self, handle: BinaryIO, line: int) -> int:
        """Given a line number (at most total_lines), return the byte where it starts."""
        assert 0 <= line <= self.total_lines
        k = bisect.bisect_right(self.cp_lines, line) - 1
        skip, position = line - self.cp_lines[k], self.cp_bytes[k]
        handle.seek(position)
        while skip > 0:
            chunk = handle.read(CHUNK)
            assert chunk, "the index promised more lines"
            start = 0
            while skip > 0:
                newline = chunk.find(b"\n", start)
                if newline < 0:
                    break
                start, skip = newline + 1, skip - 1
            position += start if skip == 0 else len(chunk)
        return position

    def read_lines(self, handle: BinaryIO, first: int, count: int) -> list[bytes]:
        """Given a first line and a count within the indexed lines, return those lines."""
        count = max(0, min(count, self.total_lines - first))
        if count == 0:
            return []
        handle.seek(self.byte_offset(handle, first))
        found: list[bytes] = []
        pending = b""
        while len(found) < count:
            chunk = handle.read(CHUNK)
            assert chunk, "the index promised more lines"
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            found.extend(parts[: count - len(found)])
        return found


class LogReader:
    """Keeps a LogIndex per log file (the most recently used few hundred)."""

    def __init__(self, max_indexes: int = MAX_INDEXES) -> None:
        self._indexes: OrderedDict[str, LogIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_indexes

    def _index(self, path: Path) -> LogIndex:
        key = str(path)
        with self._lock:
            index = self._indexes.pop(key, None) or LogIndex()
            self._indexes[key] = index
            while len(self._indexes) > self._max:
                self._indexes.popitem(last=False)
            return index

    def read(self, path: Path, offset: int | None, lines: int) -> LogSlice:
        """Given a log file, return ``lines`` lines from line ``offset`` (0-based).

        ``offset=None`` means "the last ``lines`` lines". Bytes that are not UTF-8 show
        as U+FFFD. A missing file is an empty log.
        """
        assert lines >= 0 and (offset is None or offset >= 0)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return LogSlice([], 0, 0 if offset is None else offset)
        index = self._index(path)
        with handle, index.lock:
            index.refresh(handle, os.fstat(handle.fileno()))
            total = index.total_lines
            first = max(0, total - lines) if offset is None else offset
            raw = index.read_lines(handle, first, lines) if first < total else []
        return LogSlice([line.decode("utf-8", errors="replace") for line in raw], total, first)


_default_reader = LogReader()


def read_log(path: Path, offset: int | None, lines: int) -> LogSlice:
    """Given a log file, return ``lines`` lines from line ``offset`` (None: the tail).

    Uses the process-wide :class:`LogReader`, so repeated reads of a growing log cost
    only the new bytes.
    """
    return _default_reader.read(path, offset, lines)


def log_has_content(path: Path) -> bool:
    """Given a log file's path, return True if it exists and is not empty."""
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


@functools.lru_cache(maxsize=32)
def _gzip_lines(path: Path, identity: tuple[int, int, int]) -> list[str]:
    """Given a gzipped log and its (inode, size, mtime), return its lines (kept while the
    file stays the same: an archived log does not change)."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    # Bytes after the last newline are a line cut short when the log was archived: dropped,
    # as read_log drops a line still being written.
    return [line.decode("utf-8", errors="replace") for line in data.split(b"\n")[:-1]]


def read_gzip_log(path: Path, offset: int | None, lines: int) -> LogSlice:
    """Like :func:`read_log` for a gzip-compressed log (only complete lines count)."""
    try:
        stat = os.stat(path)
        every = _gzip_lines(path, (stat.st_ino, stat.st_size, stat.st_mtime_ns))
    except (OSError, EOFError, gzip.BadGzipFile):
        return LogSlice([], 0, 0 if offset is None else offset)
    total = len(every)
    first = max(0, total - lines) if offset is None else offset
    return LogSlice(every[first : first + lines], total, first)
