"""SQL on job logs kept in the database (PostgreSQL), as plain ``fn(conn, ...)`` functions.

A log is the rows of ``job_log_lines`` numbered 0, 1, 2, … per job, and its head row in
``job_logs`` (how many lines, whether the cap was reached). Appending locks the head row,
so concurrent writers to one log (its worker, and a host that found the worker dead)
number their lines without gaps or clashes; reading "lines from N" is an index range scan
that costs the lines returned, whatever the log's length.
"""

from __future__ import annotations

from typing import Any

import psycopg

Conn = psycopg.Connection[Any]


def cap_marker(cap: int) -> str:
    """Return the line that ends a log cut at ``cap`` lines."""
    return f"[jobdash] this log reached its limit of {cap:,} lines; later lines were not kept"


def append_lines(conn: Conn, job_id: str, lines: list[str], cap: int, marker: str) -> int:
    """Append ``lines`` to a job's log, keeping at most ``cap`` lines plus ``marker`` once
    the cap is reached; return how many lines were stored."""
    if not lines:
        return 0
    conn.execute("INSERT INTO job_logs (job_id) VALUES (%s) ON CONFLICT (job_id) DO NOTHING", (job_id,))
    head = conn.execute("SELECT lines, capped FROM job_logs WHERE job_id = %s FOR UPDATE", (job_id,)).fetchone()
    if head["capped"]:
        return 0
    start = int(head["lines"])
    kept = lines[: max(0, cap - start)]
    capped = len(kept) < len(lines)
    if capped:
        kept.append(marker)
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO job_log_lines (job_id, line_no, line) VALUES (%s, %s, %s)",
            [(job_id, start + index, line) for index, line in enumerate(kept)],
        )
    conn.execute(
        "UPDATE job_logs SET lines = %s, capped = %s WHERE job_id = %s",
        (start + len(kept), capped, job_id),
    )
    return len(kept)


def log_size(conn: Conn, job_id: str) -> int:
    """Return how many lines a job's log has (0 when it has none)."""
    row = conn.execute("SELECT lines FROM job_logs WHERE job_id = %s", (job_id,)).fetchone()
    return int(row["lines"]) if row else 0


def read_lines(conn: Conn, job_id: str, offset: int | None, count: int) -> tuple[list[str], int, int]:
    """Return (``count`` lines from line ``offset`` (None: the last ``count``), the log's
    line total, the offset of the first line returned)."""
    total = log_size(conn, job_id)
    start = max(0, total - count) if offset is None else offset
    if start >= total:
        return [], total, start
    rows = conn.execute(
        """
        SELECT line FROM job_log_lines
         WHERE job_id = %s AND line_no >= %s AND line_no < %s
         ORDER BY line_no
        """,
        (job_id, start, start + count),
    ).fetchall()
    return [row["line"] for row in rows], total, start
