"""The ``scan`` job: walk a directory, identify and fingerprint every media file.

Two passes: the first lists media files (by extension) so progress has a total; the
second opens each file once, sniffs its container from the head and fingerprints it.
Only the list of relative paths is kept, so memory stays flat for very large trees.

Symbolic links: directory links are never followed (no cycles, no escaping the root);
file links are followed like files, so a library built from links is scanned, and a
dangling or looping link shows up as an error (missing media is worth reporting).
Non-regular files with a media name (FIFOs, devices) are errors and are never read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from typing import Any, BinaryIO

from jobdash import JobContext, JobFailed, job_type
from jobdash.jobs.containers import extension, is_media_file, matches_extension, sniff_container
from jobdash.util.textsafe import display_path

HEAD_BYTES = 64 * 1024
FINGERPRINT_HEX_CHARS = 32
MAX_ERROR_SAMPLES = 10


def _digest(handle: BinaryIO, head: bytes, size: int) -> str:
    """Given a file positioned just after ``head`` and its size, return its fingerprint."""
    digest = hashlib.sha256(size.to_bytes(8, "big"))
    digest.update(head)
    if size <= 2 * HEAD_BYTES:
        # Small file: the rest of it, so every byte is hashed exactly once.
        digest.update(handle.read(max(0, size - len(head))))
    else:
        handle.seek(size - HEAD_BYTES)
        digest.update(handle.read(HEAD_BYTES))
    return digest.hexdigest()[:FINGERPRINT_HEX_CHARS]


def fingerprint(path: str | os.PathLike[str], size: int) -> str:
    """Given a file and its size, return a content fingerprint (32 hex characters).

    sha256 over the size (8 bytes, big-endian), the first 64 KiB and the last 64 KiB
    (the whole file, once, when it is at most 128 KiB). 128 bits of the digest are
    plenty to tell files apart and keep log lines short. Reads at most ``size`` bytes,
    so a file that grows while being read still gets the fingerprint of what it was.

    >>> fingerprint("/media/Movie.mkv", 734003200)  # doctest: +SKIP
    '5e0c6b0f2c1f4b7e9a4d1e3f8b2c7a90'
    """
    with open(path, "rb") as handle:
        head = handle.read(min(size, HEAD_BYTES))
        return _digest(handle, head, size)


def _open_flags() -> int:
    # O_NONBLOCK: a file swapped for a FIFO after the type check must not hang the scan.
    return os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def probe(path: str) -> tuple[int, str, str]:
    """Given a media file's path, return (size, container, fingerprint), opening it once.

    Raises OSError when the file cannot be read or is not a regular file.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError("not a regular file")
    with open(os.open(path, _open_flags()), "rb") as handle:
        info = os.fstat(handle.fileno())  # the size of the file actually opened
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        head = handle.read(min(info.st_size, HEAD_BYTES))
        return info.st_size, sniff_container(head), _digest(handle, head, info.st_size)


def _reason(error: OSError) -> str:
    """Given an OSError, return its reason without the path (the caller names the path)."""
    return error.strerror or str(error) or type(error).__name__


def _check_root(root: str) -> None:
    """Raise JobFailed, naming the path, unless ``root`` is a listable directory."""
    shown = display_path(root)
    try:
        if not os.path.isdir(root):
            reason = "does not exist" if not os.path.lexists(root) else "is not a directory"
            raise JobFailed(f"scan root {shown} {reason}")
        with os.scandir(root) as entries:
            next(entries, None)
    except OSError as error:
        reason = display_path(_reason(error))
        raise JobFailed(f"scan root {shown} cannot be listed: {reason}") from None


class _Errors:
    """Counts errors, logs each at ERROR level and keeps the first few as samples."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx
        self.count = 0
        self.samples: list[str] = []

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(message)
        self._ctx.log(message, level="ERROR")


def _relative(path: str, root: str) -> str:
    return "" if path == root else os.path.relpath(path, root)


def _discover(ctx: JobContext, root: str, errors: _Errors) -> tuple[list[str], int]:
    """Given a root, return (sorted relative paths of media files, other files seen)."""

    def on_error(error: OSError) -> None:
        where = display_path(_relative(error.filename or root, root) or ".")
        errors.add(f"{where}/: cannot list: {display_path(_reason(error))}")

    media: list[str] = []
    others = 0
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        ctx.check()  # a long walk still honours a stopping worker
        dirnames.sort()  # sorted walk: the same tree always logs in the same order
        rel_dir = _relative(dirpath, root)
        for name in sorted(filenames):
            if is_media_file(name):
                media.append(os.path.join(rel_dir, name))
            else:
                others += 1
    return media, others


def _check_params(params: dict[str, Any]) -> None:
    """A scan takes no params: refuse any, naming the first."""
    if params:
        raise ValueError(f"the scan job takes no params; got {str(next(iter(params)))!r:.60}")


@job_type(
    target="directory",
    description="Walk a folder: identify each media file's container and fingerprint it",
    check_params=_check_params,
)
def run_scan(ctx: JobContext) -> dict[str, Any]:
    """Given a running scan job's context, scan its directory and return the summary.

    Raises JobFailed if the root is missing, not a directory or cannot be listed;
    JobCancelled / WorkerStopping propagate from progress reports.
    """
    started = time.monotonic()
    root = os.path.normpath(str(ctx.job["file_path"]))
    shown_root = display_path(str(ctx.job["file_path"]))
    _check_root(root)
    errors = _Errors(ctx)
    paths, others = _discover(ctx, root, errors)
    total = len(paths)
    ctx.log(f"found {total} media files in {shown_root} ({others} other files ignored)")
    ctx.progress(0, total, force=True)

    scanned = scanned_bytes = mismatched = 0
    containers: dict[str, int] = {}
    for index, rel in enumerate(paths, start=1):
        ctx.pace()
        shown = display_path(rel)
        try:
            size, container, digest = probe(os.path.join(root, rel))
        except OSError as error:
            errors.add(f"{shown}: cannot read: {display_path(_reason(error))}")
        else:
            scanned += 1
            scanned_bytes += size
            containers[container] = containers.get(container, 0) + 1
            line = f"{shown} {container} {size} {digest[:16]}"
            if matches_extension(rel, container):
                ctx.log(line)
            else:
                mismatched += 1
                ctx.log(f"{line} (extension .{extension(rel)} but content is {container})", level="WARN")
        if index < total:  # the last report is the forced one below
            ctx.progress(index, total)
    ctx.progress(total, total, force=True)

    elapsed = round(time.monotonic() - started, 3)
    ctx.log(
        f"scanned {scanned} of {total} media files, {scanned_bytes} bytes, "
        f"{errors.count} errors, {mismatched} mismatched, in {elapsed} s"
    )
    return {
        "root": shown_root,
        "files_found": total,
        "files_scanned": scanned,
        "errors": errors.count,
        "bytes": scanned_bytes,
        "containers": dict(sorted(containers.items())),
        "mismatched": mismatched,
        "elapsed_seconds": elapsed,
        "error_samples": errors.samples,
    }
