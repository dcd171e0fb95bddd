"""VPO's job logs: ``<VPO data dir>/logs/<job id>.log``, or ``.log.gz`` once archived.

Only a job's own file is ever served: whatever ``log_path`` says, the path must be the
logs folder plus the job's id, so VPO's own ``vpo.log`` (or anything else) never is.
"""

from __future__ import annotations

from pathlib import Path

from jobdash.model.ids import is_uuid
from jobdash.store.log_reader import LogSlice, log_has_content, read_gzip_log, read_log


def job_log_file(logs_dir: Path, job_id: str, log_path: str | None) -> Path | None:
    """Given VPO's logs folder, a job's id and its ``log_path``, return the job's log file
    (plain or gzipped, whichever exists; plain first), or None when it has none.

    >>> job_log_file(Path("/v/logs"), "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11", "logs/vpo.log") is None
    True
    """
    if not is_uuid(job_id):
        return None
    plain = logs_dir / f"{job_id}.log"
    if log_path and Path(log_path).name not in (plain.name, plain.name + ".gz"):
        return None  # it names some other file: never served as this job's log
    for candidate in (plain, plain.with_name(plain.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_job_log(path: Path | None, offset: int | None, lines: int) -> LogSlice:
    """Lines of a job's log file (plain or gzipped) from ``offset`` (None: the tail)."""
    if path is None:
        return LogSlice([], 0, 0 if offset is None else offset)
    if path.suffix == ".gz":
        return read_gzip_log(path, offset, lines)
    return read_log(path, offset, lines)


def has_content(path: Path | None) -> bool:
    """True when the job has a log file that is not empty."""
    return path is not None and log_has_content(path)
