"""Reading logs by line offset (jobdash.store.log_reader): the API's semantics, and the index
that makes a poll cost the lines returned rather than the file's size."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from jobdash.store.log_reader import CHUNK, LogIndex, LogReader, LogSlice, read_log


@pytest.fixture
def ten(tmp_path: Path) -> Path:
    """A log file with the ten complete lines line0 .. line9."""
    path = tmp_path / "ten.log"
    path.write_bytes(b"".join(f"line{i}\n".encode() for i in range(10)))
    return path


def numbers(piece: LogSlice) -> list[int]:
    """Return the line numbers of a slice of the `ten` log."""
    return [int(line.removeprefix("line")) for line in piece.lines]


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


# --- the index ------------------------------------------------------------------------


class CountingFile:
    """A binary file that counts the bytes read through it."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 (closed by close())
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.bytes_read += len(data)
        return data

    def seek(self, position: int) -> int:
        return self._file.seek(position)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


def naive(data: bytes, offset: int | None, lines: int) -> tuple[list[str], int, int]:
    """What read_log must return, computed the obvious way over the whole file."""
    complete = data[: data.rfind(b"\n") + 1].split(b"\n")[:-1] if b"\n" in data else []
    first = max(0, len(complete) - lines) if offset is None else offset
    chosen = complete[first : first + lines]
    return [c.decode("utf-8", errors="replace") for c in chosen], len(complete), first


def test_a_poll_for_new_lines_reads_only_the_new_bytes(tmp_path: Path) -> None:
    """After the first refresh, a refresh plus a read of 100 new lines costs the new bytes."""
    path = tmp_path / "big.log"
    path.write_bytes(b"".join(b"%08d some log text that fills the line\n" % i for i in range(200_000)))
    index = LogIndex()
    handle = CountingFile(path)
    try:
        index.refresh(handle, os.fstat(handle.fileno()))
        assert index.total_lines == 200_000
        with open(path, "ab") as log:
            log.write(b"".join(b"%08d new\n" % i for i in range(100)))
        new_bytes = 100 * len(b"00000000 new\n")
        handle.bytes_read = 0
        index.refresh(handle, os.fstat(handle.fileno()))
        lines = index.read_lines(handle, 200_000, 100)
        assert index.total_lines == 200_100 and len(lines) == 100
        assert lines[0] == b"00000000 new" and lines[-1] == b"00000099 new"
        # The new bytes once to index them, once to read them, plus at most a chunk of
        # look-ahead: nowhere near the file's 9 MB.
        assert handle.bytes_read <= 2 * new_bytes + CHUNK
    finally:
        handle.close()


def test_a_line_deep_in_a_big_file_is_found_from_the_nearest_checkpoint(tmp_path: Path) -> None:
    """Reading lines in the middle of an indexed file reads about one chunk, not the prefix."""
    path = tmp_path / "big.log"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(300_000)))
    index = LogIndex()
    handle = CountingFile(path)
    try:
        index.refresh(handle, os.fstat(handle.fileno()))
        handle.bytes_read = 0
        assert index.read_lines(handle, 250_000, 3) == [b"line 250000", b"line 250001", b"line 250002"]
        assert handle.bytes_read <= 3 * CHUNK
    finally:
        handle.close()


def test_truncation_and_rotation_are_indexed_afresh(tmp_path: Path) -> None:
    """A log that shrank, or was replaced by a new file, is read from its new content."""
    path = tmp_path / "job.log"
    reader = LogReader()
    path.write_bytes(b"a\nb\nc\n")
    assert reader.read(path, 0, 10).lines == ["a", "b", "c"]
    path.write_bytes(b"x\n")  # truncated and rewritten in place
    assert reader.read(path, 0, 10) == LogSlice(["x"], 1, 0)
    rotated = tmp_path / "new.log"
    rotated.write_bytes(b"one\ntwo\nthree\nfour\n")
    os.replace(rotated, path)  # a new inode at the same path, larger than before
    assert reader.read(path, None, 2) == LogSlice(["three", "four"], 4, 2)


def test_a_partial_line_is_counted_once_it_is_complete(tmp_path: Path) -> None:
    """The half-written last line appears on a later read, whole, exactly once."""
    path = tmp_path / "job.log"
    reader = LogReader()
    path.write_bytes(b"first\nsec")
    assert reader.read(path, 0, 10) == LogSlice(["first"], 1, 0)
    with open(path, "ab") as log:
        log.write(b"ond\nthird\n")
    assert reader.read(path, 1, 10) == LogSlice(["second", "third"], 3, 1)


def test_lines_longer_than_a_chunk(tmp_path: Path) -> None:
    """Lines longer than the read chunk are indexed and returned whole."""
    path = tmp_path / "job.log"
    long_line = b"x" * (CHUNK * 2 + 17)
    path.write_bytes(b"short\n" + long_line + b"\nend\n")
    piece = LogReader().read(path, 0, 10)
    assert piece.total_lines == 3
    assert piece.lines == ["short", long_line.decode(), "end"]


@pytest.mark.parametrize("seed", range(5))
def test_matches_a_whole_file_read_while_the_log_grows(tmp_path: Path, seed: int) -> None:
    """Random appends (lines of random length, partial writes) and random requests give
    exactly what splitting the whole file would."""
    rng = random.Random(seed)
    path = tmp_path / "job.log"
    path.write_bytes(b"")
    reader = LogReader()
    data = b""
    for _ in range(60):
        piece = b"".join(
            bytes(rng.choice(b"abc\xff\n") for _ in range(rng.choice([0, 1, 5, 200, 3000])))
            for _ in range(rng.randint(1, 40))
        )
        data += piece
        with open(path, "ab") as log:
            log.write(piece)
        total = data.count(b"\n")
        offset = rng.choice([None, 0, total, max(0, total - 3), rng.randint(0, total + 5)])
        lines = rng.choice([1, 2, 10, 1000])
        got = reader.read(path, offset, lines)
        assert (got.lines, got.total_lines, got.offset) == naive(data, offset, lines)


def test_a_line_longer_than_one_read(tmp_path: Path) -> None:
    """A line longer than the indexer's read size is counted once and returned whole."""
    from jobdash.store.log_reader import READ_BYTES

    path = tmp_path / "job.log"
    huge = b"y" * (READ_BYTES * 2 + 5)
    path.write_bytes(b"a\n" + huge + b"\nb\n" + b"partial")
    piece = LogReader().read(path, 1, 5)
    assert piece.total_lines == 3 and piece.offset == 1
    assert piece.lines == [huge.decode(), "b"]
