"""The ``jobdash jobs`` table (pure formatting: rows in, text out)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from jobdash.model.items import progress_counts, progress_unit
from jobdash.util.textsafe import one_line
from jobdash.util.timestamps import parse_iso

HEADERS = ("ID", "TYPE", "STATUS", "PROGRESS", "PATH", "CREATED")


def progress_cell(row: dict[str, Any]) -> str:
    """Given a job row, return its progress as ``25/100 25%`` (or ``-`` when unknown).

    >>> progress_cell({"progress_json": '{"processed": 25, "total": 100}', "progress_percent": 25})
    '25/100 25%'
    """
    processed, total = progress_counts(row)
    percent = float(row.get("progress_percent") or 0)
    if processed is not None and total is not None:
        if progress_unit(row) == "seconds":
            return f"{media_time(processed)}/{media_time(total)} {percent:.0f}%"
        return f"{processed}/{total} {percent:.0f}%"
    if row.get("status") == "completed":
        return "100%"
    return "-"


def media_time(seconds: int) -> str:
    """Given seconds of media, return ``m:ss`` (or ``h:mm:ss``).

    >>> media_time(23), media_time(3725)
    ('0:23', '1:02:05')
    """
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def created_cell(text: str | None) -> str:
    """Given a stored timestamp, return ``YYYY-MM-DD HH:MM:SSZ`` (UTC).

    >>> created_cell("2026-11-29T00:24:02.652+00:00")
    '2026-11-29 00:24:02Z'
    """
    moment = parse_iso(text)
    if moment is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else one_line(text or "-")


def _fit(text: str, width: int) -> str:
    """Keep the end of a long path (the file name matters most)."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def format_jobs_table(rows: list[dict[str, Any]], width: int = 120) -> str:
    """Given job rows, return a table with one line per job, data escaped.

    Control characters, newlines and bidi overrides in paths are escaped, so a
    hostile file name cannot break the table or the terminal.
    """
    cells = [
        (
            row["id"][:8],
            one_line(row["job_type"]),
            one_line(row["status"]),
            progress_cell(row),
            one_line(row["file_path"]),
            created_cell(row.get("created_at")),
        )
        for row in rows
    ]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(HEADERS)]
    fixed = sum(w for i, w in enumerate(widths) if i != 4) + 2 * (len(HEADERS) - 1)
    widths[4] = max(len(HEADERS[4]), min(widths[4], width - fixed))
    lines = []
    for line in [HEADERS, *cells]:
        padded = [_fit(value, widths[i]).ljust(widths[i]) if i != 5 else value for i, value in enumerate(line)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def waiting_notes(rows: list[dict[str, Any]], live_types: set[str]) -> list[str]:
    """Given job rows and the types live workers run, return one line per type whose
    queued jobs no live worker takes.

    >>> waiting_notes([{"status": "queued", "job_type": "transcode"}], {"scan"})
    ['1 queued transcode job: waiting for a worker that runs transcode']
    """
    waiting: dict[str, int] = {}
    for row in rows:
        if row["status"] == "queued" and row["job_type"] not in live_types:
            waiting[row["job_type"]] = waiting.get(row["job_type"], 0) + 1
    return [
        f"{count} queued {one_line(name)} job{'s' if count != 1 else ''}: waiting for a worker that runs {one_line(name)}"
        for name, count in sorted(waiting.items())
    ]


WORKER_HEADERS = ("WORKER", "HOST", "PID", "STATE", "TYPES", "RUNNING")


def format_workers_table(items: list[dict[str, Any]]) -> str:
    """Given WorkerItems, return a table with one line per worker, data escaped.

    >>> print(format_workers_table([{"id": "8c1f0e2a-...", "host": "nas", "pid": 7, "state": "alive",
    ...     "types": ["scan"], "current_job": None}]))
    WORKER    HOST  PID  STATE  TYPES  RUNNING
    8c1f0e2a  nas   7    alive  scan   -
    """
    cells = []
    for item in items:
        job = item.get("current_job")
        running = (
            f"{job['id'][:8]} {one_line(job.get('job_type') or '')} {one_line(job.get('file_path') or '')}"
            if job
            else "-"
        )
        cells.append(
            (
                item["id"][:8],
                one_line(item["host"]),
                str(item["pid"]),
                item["state"],
                one_line(",".join(item["types"])),
                running.strip(),
            )
        )
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(WORKER_HEADERS)]
    return "\n".join(
        "  ".join(value.ljust(widths[i]) for i, value in enumerate(line)).rstrip() for line in [WORKER_HEADERS, *cells]
    )
