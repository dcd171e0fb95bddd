"""The ``jobdash jobs`` table (pure formatting: rows in, text out)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from jobdash.model.items import progress_counts
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
        return f"{processed}/{total} {percent:.0f}%"
    if row.get("status") == "completed":
        return "100%"
    return "-"


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
