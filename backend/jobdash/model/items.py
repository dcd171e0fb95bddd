"""Job rows as the API shows them: JobListItem, JobDetailItem, and the human summary.

Pure functions of a row (no I/O), so they are tested without a database.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jobdash.model.states import is_terminal
from jobdash.util.timestamps import parse_iso, seconds_between, to_iso

Row = dict[str, Any]


def _json_object(text: str | None) -> dict[str, Any] | None:
    """Given stored JSON text, return it if it is an object, else None (never raise)."""
    if not text:
        return None
    try:
        # NaN/Infinity (which Python's json writes by default) are not JSON: read as null.
        value = json.loads(text, parse_constant=lambda _: None)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _timestamp(text: str | None) -> str | None:
    """Given a stored timestamp, return it normalised to ``...Z`` (raw if unparsable)."""
    moment = parse_iso(text)
    return to_iso(moment) if moment is not None else text


def progress_counts(row: Row) -> tuple[int | None, int | None]:
    """Given a job row, return (processed, total) from ``progress_json``, or Nones.

    >>> progress_counts({"progress_json": '{"processed": 25, "total": 100}'})
    (25, 100)
    """
    progress = _json_object(row.get("progress_json")) or {}
    return _count(progress.get("processed")), _count(progress.get("total"))


def progress_unit(row: Row) -> str | None:
    """Given a job row, return the unit of its progress counts (files, bytes, seconds, ...).

    >>> progress_unit({"progress_json": '{"processed": 5, "total": 60, "unit": "seconds"}'})
    'seconds'
    """
    unit = (_json_object(row.get("progress_json")) or {}).get("unit")
    return unit if isinstance(unit, str) and unit else None


def list_item(row: Row) -> Row:
    """Given a job row, return its JobListItem.

    ``duration_seconds`` stays null until the job ends, so a running job's item changes
    only when its data does (pages compute the elapsed time themselves).
    ``progress_updated_at`` is when the counts last changed: null before the first
    progress report, and where the store does not know (VPO, rows from before it).
    """
    processed, total = progress_counts(row)
    duration = None
    if is_terminal(row["status"]):
        duration = seconds_between(row.get("started_at"), row.get("completed_at"))
    return {
        "id": row["id"],
        "job_type": row["job_type"],
        "status": row["status"],
        "file_path": row["file_path"],
        "progress_percent": round(float(row.get("progress_percent") or 0), 2),
        "processed_count": processed,
        "total_count": total,
        "progress_unit": progress_unit(row) if total is not None else None,
        "created_at": _timestamp(row.get("created_at")),
        "started_at": _timestamp(row.get("started_at")),
        "completed_at": _timestamp(row.get("completed_at")),
        "duration_seconds": duration,
        "progress_updated_at": _timestamp(row.get("progress_updated_at")),
    }


def human_bytes(size: int) -> str:
    """Given a byte count, return it in binary units.

    >>> human_bytes(0), human_bytes(1536), human_bytes(5 * 1024**3)
    ('0 B', '1.5 KiB', '5.0 GiB')
    """
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def summary_text(job_type: str, summary: dict[str, Any] | None) -> str | None:
    """Given a job's type and summary object, return one human sentence (or None).

    >>> summary_text("scan", {"files_found": 3, "files_scanned": 3, "errors": 0,
    ...     "bytes": 2048, "containers": {"matroska": 2, "mp4": 1}, "elapsed_seconds": 1.5})
    'Scanned 3 of 3 files (2.0 KiB) in 1.5 s: 2 matroska, 1 mp4; no errors.'
    >>> summary_text("transcode", {"preset": "h264-720p", "duration_seconds": 60.011,
    ...     "input_bytes": 12_897_485, "output_bytes": 4_299_161, "speed": 3.21})
    'Transcoded 1:00 of video (h264-720p) from 12.3 MiB to 4.1 MiB at 3.2x.'
    >>> summary_text("transcode", {"preset": "copy", "duration_seconds": 3725, "input_bytes": 2048,
    ...     "output_bytes": 2000, "speed": None})
    'Remuxed 1:02:05 of video (copy) from 2.0 KiB to 2.0 KiB.'
    """
    if not summary:
        return None
    if job_type == "scan" and "files_found" in summary:
        found = _count(summary.get("files_found")) or 0
        scanned = _count(summary.get("files_scanned")) or 0
        errors = _count(summary.get("errors")) or 0
        size = _count(summary.get("bytes")) or 0
        elapsed = summary.get("elapsed_seconds")
        containers = summary.get("containers") or {}
        text = f"Scanned {scanned:,} of {_plural(found, 'file')} ({human_bytes(size)})"
        if isinstance(elapsed, (int, float)):
            text += f" in {elapsed:g} s"
        if isinstance(containers, dict) and containers:
            parts = sorted(containers.items(), key=lambda kv: (-_as_int(kv[1]), kv[0]))
            text += ": " + ", ".join(f"{_as_int(n):,} {name}" for name, n in parts)
        text += f"; {_plural(errors, 'error')}." if errors else "; no errors."
        return text
    vpo = _vpo_summary_text(job_type, summary)
    if vpo is not None:
        return vpo
    if job_type == "transcode" and isinstance(summary.get("preset"), str):
        preset = summary["preset"]
        text = "Remuxed" if preset == "copy" else "Transcoded"
        duration = summary.get("duration_seconds")
        if isinstance(duration, (int, float)) and not isinstance(duration, bool) and 0 <= duration < 1e9:
            hours, rest = divmod(round(duration), 3600)
            minutes, seconds = divmod(rest, 60)
            text += f" {hours}:{minutes:02d}:{seconds:02d}" if hours else f" {minutes}:{seconds:02d}"
            text += " of"
        text += f" video ({preset})"
        in_bytes, out_bytes = _count(summary.get("input_bytes")), _count(summary.get("output_bytes"))
        if in_bytes is not None and out_bytes is not None:
            text += f" from {human_bytes(in_bytes)} to {human_bytes(out_bytes)}"
        speed = summary.get("speed")
        if isinstance(speed, (int, float)) and not isinstance(speed, bool) and speed > 0:
            text += f" at {speed:.1f}x"
        return text + "."
    parts = [f"{key}: {value}" for key, value in summary.items() if not isinstance(value, (dict, list))]
    return "; ".join(parts) or None


def _vpo_summary_text(job_type: str, summary: dict[str, Any]) -> str | None:
    """Given a summary as VPO writes them (scan, process, prune), return it in words, or
    None when it is not one of those.

    >>> _vpo_summary_text("scan", {"total_discovered": 3, "scanned": 0, "skipped": 3, "added": 0,
    ...     "removed": 1, "errors": 0})
    'Scanned 0 of 3 files: 3 skipped (unchanged), 0 added, 1 removed; no errors.'
    >>> _vpo_summary_text("process", {"phases_completed": 1, "total_changes": 0, "stats_id": "9fec"})
    '1 phase completed, no changes.'
    >>> _vpo_summary_text("prune", {"files_pruned": 1})
    'Pruned 1 file that no longer exists from the library.'
    """
    if job_type == "scan" and "total_discovered" in summary:
        found, scanned = _count(summary.get("total_discovered")) or 0, _count(summary.get("scanned")) or 0
        skipped, added = _count(summary.get("skipped")) or 0, _count(summary.get("added")) or 0
        removed, errors = _count(summary.get("removed")) or 0, _count(summary.get("errors")) or 0
        text = f"Scanned {scanned:,} of {_plural(found, 'file')}: {skipped:,} skipped (unchanged), "
        text += f"{added:,} added, {removed:,} removed"
        return text + (f"; {_plural(errors, 'error')}." if errors else "; no errors.")
    if job_type == "process" and "phases_completed" in summary:
        phases, changes = _count(summary.get("phases_completed")) or 0, _count(summary.get("total_changes")) or 0
        # Neutral wording: a failed process job has a summary too (0 phases completed).
        return f"{_plural(phases, 'phase')} completed, " + (
            f"{_plural(changes, 'change')}." if changes else "no changes."
        )
    if job_type == "prune" and "files_pruned" in summary:
        pruned = _count(summary.get("files_pruned")) or 0
        return f"Pruned {_plural(pruned, 'file')} that no longer exist{'s' if pruned == 1 else ''} from the library."
    return None


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def detail_item(row: Row, *, has_logs: bool) -> Row:
    """Given a job row and whether its log has content, return its JobDetailItem."""
    summary_raw = _json_object(row.get("summary_json"))
    return {
        **list_item(row),
        "id_short": row["id"][:8],
        "priority": row.get("priority"),
        "policy_name": row.get("policy_name"),
        "error_message": row.get("error_message"),
        "output_path": row.get("output_path"),
        "summary": summary_text(row["job_type"], summary_raw),
        "summary_raw": summary_raw,
        "params": _json_object(row.get("params_json")) or {},
        # Where the orchestrator recorded them (VPO's jobs): who queued it, and its batch.
        "origin": row.get("origin"),
        "batch_id": row.get("batch_id"),
        "has_logs": has_logs,
    }


def _types(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def worker_item(row: Row, *, now: datetime, stale_after_s: float) -> Row:
    """Given a workers-registry row, return its WorkerItem: ``alive`` while it beats, else
    ``gone`` (it stopped, or its heartbeat is older than ``stale_after_s``)."""
    beat = parse_iso(row.get("heartbeat_at"))
    alive = row.get("stopped_at") is None and beat is not None and (now - beat).total_seconds() <= stale_after_s
    current = None
    if alive and row.get("current_job_id"):
        current = {
            "id": row["current_job_id"],
            "job_type": row.get("current_job_type"),
            "file_path": row.get("current_job_path"),
        }
    return {
        "id": row["id"],
        "host": row["host"],
        "pid": row["pid"],
        "types": _types(row.get("types_json")),
        "state": "alive" if alive else "gone",
        "started_at": _timestamp(row.get("started_at")),
        "stopped_at": _timestamp(row.get("stopped_at")) if not alive else None,
        "current_job": current,
    }
