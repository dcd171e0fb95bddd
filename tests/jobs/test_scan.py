"""The scan job handler against real trees, a real SqliteStore and real job logs."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.jobs.containers import is_media_file, sniff_container
from jobdash.jobs.sample_library import main as sample_library_main
from jobdash.jobs.sample_library import make_library
from jobdash.jobs.scan import HEAD_BYTES, fingerprint, run_scan
from jobdash.store.log_reader import read_log
from jobdash.store.log_writer import JobLog
from jobdash.store.sqlite.store import SqliteStore
from jobdash.worker.context import JobCancelled, JobContext, JobFailed, WorkerStopping

MKV_HEAD = bytes.fromhex("1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b614287810442858102")
AVI_HEAD = b"RIFF\x00\x10\x00\x00AVI LIST"


class RecordingStore(SqliteStore):
    """A real store that records progress reports and can cancel at a given count."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.reports: list[tuple[int, int]] = []
        self.cancel_at: int | None = None

    def progress(self, job_id: str, processed: int, total: int, unit: str = "files", **kwargs: Any) -> bool:
        self.reports.append((processed, total))
        if processed == self.cancel_at:
            self.cancel(job_id)  # the operator cancels while the scan runs
        return super().progress(job_id, processed, total, unit, **kwargs)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordingStore]:
    data = tmp_path / "data"
    data.mkdir()
    job_store = RecordingStore(data)
    yield job_store
    job_store.close()


@pytest.fixture
def start_scan(store: RecordingStore) -> Iterator[Callable[..., JobContext]]:
    """Queue and claim a scan job for a root; return its context (logs closed after)."""
    logs: list[JobLog] = []

    def start(root: Path | str, stopping: threading.Event | None = None, **options: Any) -> JobContext:
        job = store.create(os.fsdecode(root), "scan")
        claimed = store.claim(os.getpid(), ("scan",))
        assert claimed is not None and claimed["id"] == job["id"]
        logs.append(JobLog(store.log_path(claimed)))
        return JobContext(store, claimed, logs[-1], stopping or threading.Event(), **options)

    yield start
    for log in logs:
        log.close()


def log_messages(store: SqliteStore, ctx: JobContext) -> list[tuple[str, str]]:
    """Return the job's log as (level, message) pairs, checking each line's shape."""
    path = store.log_path(ctx.job)
    path.read_bytes().decode("utf-8")  # strictly valid UTF-8, whatever the file names
    pairs = []
    for line in read_log(path, 0, 1_000_000).lines:
        _timestamp, level, message = line.split(" ", 2)
        pairs.append((level, message))
    return pairs


def file_lines(messages: list[tuple[str, str]]) -> list[str]:
    return [m for level, m in messages if level in ("INFO", "WARN") and not m.startswith(("found ", "scanned "))]


def media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_media_file(p.name))


def stored_progress(store: SqliteStore, ctx: JobContext) -> tuple[dict[str, Any], float]:
    row = store.get(ctx.id)
    assert row is not None
    return json.loads(row["progress_json"]), row["progress_percent"]


# fingerprint


def expected_fingerprint(data: bytes) -> str:
    digest = hashlib.sha256(len(data).to_bytes(8, "big"))
    if len(data) <= 2 * HEAD_BYTES:
        digest.update(data)
    else:
        digest.update(data[:HEAD_BYTES] + data[-HEAD_BYTES:])
    return digest.hexdigest()[:32]


@pytest.mark.parametrize("size", [0, 1, 1000, HEAD_BYTES, HEAD_BYTES + 1, 2 * HEAD_BYTES, 2 * HEAD_BYTES + 1, 500_000])
def test_fingerprint_hashes_size_head_and_tail(tmp_path: Path, size: int) -> None:
    data = bytes((i * 7 + i // 251) % 256 for i in range(size))
    path = tmp_path / "f.mkv"
    path.write_bytes(data)
    assert fingerprint(path, size) == expected_fingerprint(data)
    assert len(fingerprint(path, size)) == 32


def test_fingerprint_sees_tail_and_size_but_not_the_middle(tmp_path: Path) -> None:
    base = bytes(300_000)
    path = tmp_path / "f.mkv"

    def of(data: bytes) -> str:
        path.write_bytes(data)
        return fingerprint(path, len(data))

    middle = bytearray(base)
    middle[150_000] = 1
    tail = bytearray(base)
    tail[-1] = 1
    assert of(bytes(middle)) == of(base)  # documented: head + tail only
    assert of(bytes(tail)) != of(base)
    assert of(base + b"\x00") != of(base)


# run_scan on a realistic tree


def test_scan_tree_counts_logs_and_progress(
    tmp_path: Path, store: RecordingStore, start_scan: Callable[..., JobContext]
) -> None:
    root = tmp_path / "library"
    made = make_library(root, files=40, seed=3)
    # Unreadable even for root (CI runs as root, where chmod 000 does not stop reads):
    # a symlink to itself, which os.walk lists as a file and open() fails with ELOOP.
    loop = root / "Broken" / "loop.mkv"
    loop.parent.mkdir()
    loop.symlink_to("loop.mkv")
    with pytest.raises(OSError) as raised:
        loop.open("rb")
    assert raised.value.errno == errno.ELOOP

    ctx = start_scan(root)
    summary = run_scan(ctx)

    n = made["media_files"] + 1
    assert summary["root"] == str(root)
    assert summary["files_found"] == n
    assert summary["files_scanned"] == made["media_files"] == 40
    assert summary["errors"] == 1
    assert summary["bytes"] == made["bytes"]
    assert summary["containers"] == made["by_container"]
    assert list(summary["containers"]) == sorted(summary["containers"])
    assert summary["mismatched"] == 0
    assert isinstance(summary["elapsed_seconds"], float) and summary["elapsed_seconds"] >= 0
    assert len(summary["error_samples"]) == 1
    assert "Broken/loop.mkv" in summary["error_samples"][0]
    assert os.strerror(errno.ELOOP) in summary["error_samples"][0]
    json.dumps(summary)  # storable as summary_json

    # Progress reached the end and the job is still running (errors do not fail it).
    progress, percent = stored_progress(store, ctx)
    assert progress == {"processed": n, "total": n, "unit": "files"}
    assert percent == 100
    assert store.get(ctx.id)["status"] == "running"
    assert store.reports[0] == (0, n) and store.reports[-1] == (n, n)
    assert [p for p, _ in store.reports] == sorted(p for p, _ in store.reports)

    messages = log_messages(store, ctx)
    assert messages[0] == (
        "INFO",
        f"found {n} media files in {root} ({made['other_files']} other files ignored)",
    )
    lines = file_lines(messages)
    assert len(lines) == made["media_files"]  # one line per scanned file
    for path in media_files(root):
        size = path.stat().st_size
        container = sniff_container(path.read_bytes()[:HEAD_BYTES])
        rel = path.relative_to(root).as_posix()
        assert f"{rel} {container} {size} {fingerprint(path, size)[:16]}" in lines
    errors = [m for level, m in messages if level == "ERROR"]
    assert errors == summary["error_samples"]
    assert messages[-1][1].startswith(f"scanned {made['media_files']} of {n} media files")


def test_extension_that_lies_reports_the_content(tmp_path: Path, start_scan: Callable[..., JobContext]) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "Real.mkv").write_bytes(MKV_HEAD + bytes(1000))
    (root / "Actually avi.mkv").write_bytes(AVI_HEAD + bytes(1000))
    (root / "Garbage.mkv").write_bytes(b"this is not a video\n" * 20)
    ctx = start_scan(root)
    summary = run_scan(ctx)
    assert summary["containers"] == {"avi": 1, "matroska": 1, "unknown": 1}
    assert summary["mismatched"] == 2 and summary["errors"] == 0
    warned = {m.split(" ", 1)[0]: m for level, m in log_messages(ctx.store, ctx) if level == "WARN"}
    assert set(warned) == {"Actually", "Garbage.mkv"}
    assert warned["Actually"].endswith("(extension .mkv but content is avi)")
    assert warned["Garbage.mkv"].endswith("(extension .mkv but content is unknown)")


def test_symlinks_fifos_and_directories_named_like_media(tmp_path: Path, start_scan: Callable[..., JobContext]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.mkv").write_bytes(MKV_HEAD + bytes(500))
    root = tmp_path / "lib"
    (root / "folder.mkv").mkdir(parents=True)  # a directory, not a file: walked into
    (root / "folder.mkv" / "inside.mkv").write_bytes(MKV_HEAD + bytes(10))
    (root / "Linked.mkv").symlink_to(outside / "target.mkv")  # file links are followed
    (root / "Dangling.mkv").symlink_to(tmp_path / "gone.mkv")
    (root / "LinkedDir").symlink_to(outside, target_is_directory=True)  # never followed
    os.mkfifo(root / "pipe.mkv")  # must not block the scan
    ctx = start_scan(root)
    summary = run_scan(ctx)
    assert summary["files_found"] == 4
    assert summary["files_scanned"] == 2
    assert summary["bytes"] == len(MKV_HEAD) * 2 + 510
    assert summary["errors"] == 2
    samples = sorted(summary["error_samples"])
    assert samples[0] == f"Dangling.mkv: cannot read: {os.strerror(errno.ENOENT)}"
    assert samples[1] == "pipe.mkv: cannot read: not a regular file"


def test_directory_errors_are_counted_not_fatal(tmp_path: Path, start_scan: Callable[..., JobContext]) -> None:
    # A directory whose path exceeds PATH_MAX cannot be listed, even by root.
    root = tmp_path / "lib"
    root.mkdir()
    (root / "ok.mkv").write_bytes(MKV_HEAD)
    component = "d" * 250
    length = len(os.fsencode(root))
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        while length <= 4096:  # created relative to the parent, where the path fits
            length += 1 + len(component)
            os.mkdir(component, dir_fd=fd)
            inner = os.open(component, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    ctx = start_scan(root)
    summary = run_scan(ctx)
    assert summary["files_scanned"] == 1
    assert summary["errors"] == 1
    assert summary["error_samples"][0].endswith(f"/: cannot list: {os.strerror(errno.ENAMETOOLONG)}")
    assert [level for level, _ in log_messages(ctx.store, ctx)].count("ERROR") == 1


def test_empty_directory_completes_with_zero_counts(
    tmp_path: Path, store: RecordingStore, start_scan: Callable[..., JobContext]
) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    ctx = start_scan(root)
    summary = run_scan(ctx)
    assert {
        k: summary[k] for k in ("files_found", "files_scanned", "errors", "bytes", "containers", "error_samples")
    } == {
        "files_found": 0,
        "files_scanned": 0,
        "errors": 0,
        "bytes": 0,
        "containers": {},
        "error_samples": [],
    }
    assert store.reports[0] == (0, 0)
    progress, _percent = stored_progress(store, ctx)
    assert progress == {"processed": 0, "total": 0, "unit": "files"}


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_bad_root_fails_the_job_naming_the_path(
    tmp_path: Path, start_scan: Callable[..., JobContext], kind: str
) -> None:
    root = tmp_path / "no such <dir>"
    if kind == "file":
        root.write_bytes(MKV_HEAD)
    ctx = start_scan(root)
    with pytest.raises(JobFailed) as raised:
        run_scan(ctx)
    reason = "does not exist" if kind == "missing" else "is not a directory"
    assert str(raised.value) == f"scan root {root} {reason}"


# stopping


def test_cancel_before_the_first_file(
    tmp_path: Path, store: RecordingStore, start_scan: Callable[..., JobContext]
) -> None:
    root = tmp_path / "lib"
    make_library(root, files=10, max_size=4096)
    ctx = start_scan(root)
    store.cancel(ctx.id)
    with pytest.raises(JobCancelled):
        run_scan(ctx)
    assert file_lines(log_messages(store, ctx)) == []


def test_cancel_partway_stops_at_the_next_progress_step(
    tmp_path: Path, store: RecordingStore, start_scan: Callable[..., JobContext]
) -> None:
    root = tmp_path / "lib"
    make_library(root, files=50, max_size=4096)
    store.cancel_at = 3
    ctx = start_scan(root, progress_interval=0)
    with pytest.raises(JobCancelled):
        run_scan(ctx)
    assert len(file_lines(log_messages(store, ctx))) == 3
    assert store.get(ctx.id)["status"] == "cancelled"
    assert store.reports[-1] == (3, 50)


def test_worker_stopping_propagates(tmp_path: Path, start_scan: Callable[..., JobContext]) -> None:
    root = tmp_path / "lib"
    make_library(root, files=5, max_size=4096)
    stopping = threading.Event()
    ctx = start_scan(root, stopping)
    stopping.set()  # the worker got SIGTERM
    with pytest.raises(WorkerStopping):
        run_scan(ctx)


# hostile names


def test_hostile_file_names_are_logged_escaped_on_one_line(
    tmp_path: Path, store: RecordingStore, start_scan: Callable[..., JobContext]
) -> None:
    root = tmp_path / "lib\u202e\nroot"
    names = ["new\nline.mkv", "<img src=x onerror=alert(1)>.mkv", "\u202egnp.mkv", "tab\there.mkv"]
    (root / "evil\rdir").mkdir(parents=True)
    for name in names:
        (root / name).write_bytes(MKV_HEAD)
    (root / "evil\rdir" / "x.mkv").write_bytes(MKV_HEAD)
    with open(os.fsencode(root) + b"/bad\xff\xfename.mkv", "wb") as handle:  # not UTF-8
        handle.write(MKV_HEAD)

    ctx = start_scan(root)
    summary = run_scan(ctx)
    assert summary["files_scanned"] == 6 and summary["errors"] == 0
    assert summary["root"] == str(tmp_path / "lib\\u202e\\nroot")
    json.dumps(summary, ensure_ascii=False).encode("utf-8")  # no lone surrogates

    raw = store.log_path(ctx.job).read_bytes()
    assert "\u202e".encode() not in raw and b"\r" not in raw and b"\t" not in raw
    messages = log_messages(store, ctx)
    assert len(messages) == 1 + 6 + 1  # found, one per file, scanned: nothing split
    paths = {m.rsplit(" ", 3)[0] for m in file_lines(messages)}
    assert paths == {
        "new\\nline.mkv",
        "<img src=x onerror=alert(1)>.mkv",  # plain text here; the page escapes HTML
        "\\u202egnp.mkv",
        "tab\\there.mkv",
        "evil\\rdir/x.mkv",
        "bad\ufffd\ufffdname.mkv",
    }
    store.finish(ctx.id, "completed", summary=summary)
    assert json.loads(store.get(ctx.id)["summary_json"]) == summary


# scale


def test_ten_thousand_files_scan_with_few_progress_writes(
    tmp_path: Path, store: RecordingStore, start_scan: Callable[..., JobContext]
) -> None:
    root = tmp_path / "big"
    # Flat and small: creating files dominates this test's time on slow disks.
    made = make_library(root, files=10_000, nested=False, max_size=16 * 1024)
    ctx = start_scan(root)
    summary = run_scan(ctx)
    assert summary["files_found"] == summary["files_scanned"] == 10_000
    assert summary["errors"] == 0
    assert summary["containers"] == made["by_container"]
    assert summary["bytes"] == made["bytes"]
    assert ctx.progress_writes < 200  # throttled: not one write per file
    progress, percent = stored_progress(store, ctx)
    assert progress["processed"] == progress["total"] == 10_000 and percent == 100
    assert len(file_lines(log_messages(store, ctx))) == 10_000


# the sample library


def test_sample_library_counts_match_the_tree(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    made = make_library(root, files=120, seed=7)
    files = [p for p in root.rglob("*") if p.is_file()]
    media = [p for p in files if is_media_file(p.name)]
    assert made["media_files"] == len(media) == 120
    assert made["other_files"] == len(files) - len(media) > 0
    assert made["bytes"] == sum(p.stat().st_size for p in media)
    sniffed: dict[str, int] = {}
    for path in media:
        container = sniff_container(path.read_bytes()[:HEAD_BYTES])
        sniffed[container] = sniffed.get(container, 0) + 1
    assert made["by_container"] == dict(sorted(sniffed.items()))
    assert set(sniffed) == {"avi", "matroska", "mp4", "mpegts", "quicktime", "webm"}
    assert all(1024 <= p.stat().st_size <= 200 * 1024 + 512 for p in media)
    rel = {p.relative_to(root).as_posix() for p in media}
    assert any(r.startswith("Movies/") and r.count("/") == 2 for r in rel)
    assert any(r.startswith("TV/") and "/Season 01/" in r for r in rel)
    assert {p.suffix for p in files if not is_media_file(p.name)} <= {".nfo", ".srt", ".jpg"}


def test_sample_library_is_deterministic_and_flat_option(tmp_path: Path) -> None:
    def snapshot(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    make_library(tmp_path / "a", files=30, seed=1)
    make_library(tmp_path / "b", files=30, seed=1)
    make_library(tmp_path / "c", files=30, seed=2)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "c")
    flat = make_library(tmp_path / "flat", files=25, nested=False)
    assert flat["media_files"] == 25
    assert all(p.is_file() for p in (tmp_path / "flat").iterdir())
    assert make_library(tmp_path / "none", files=0) == {
        "media_files": 0,
        "other_files": 0,
        "by_container": {},
        "bytes": 0,
    }


def test_sample_library_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cli"
    assert sample_library_main([str(target), "--files", "12"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("made 12 media files (") and str(target) in out
    with pytest.raises(SystemExit) as exited:
        sample_library_main([str(target)])
    assert exited.value.code == 2
    assert "is not empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sample_library_main([str(tmp_path / "other"), "--files", "-1"])
    assert "--files must be 0 or more" in capsys.readouterr().err
