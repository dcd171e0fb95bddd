"""SQL on the ``workers`` registry, as plain ``fn(conn, ...)`` functions.

A worker registers when it starts, refreshes ``heartbeat_at`` (and ``current_job_id``)
while it lives and sets ``stopped_at`` when it stops cleanly; one that dies simply stops
beating, and readers judge it gone by the age of its heartbeat.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

Row = dict[str, Any]


def register_worker(conn: sqlite3.Connection, row: Row, prune_before: str) -> None:
    """Insert a worker's row; forget workers gone since before ``prune_before``."""
    conn.execute(
        "DELETE FROM workers WHERE COALESCE(stopped_at, heartbeat_at) < ?",
        (prune_before,),
    )
    conn.execute(
        """
        INSERT INTO workers (id, host, pid, types_json, requeue_json, started_at, heartbeat_at)
        VALUES (:id, :host, :pid, :types_json, :requeue_json, :started_at, :heartbeat_at)
        """,
        {
            **row,
            "types_json": json.dumps(list(row["types"])),
            "requeue_json": json.dumps(list(row.get("requeue", ()))),
        },
    )


def beat_worker(conn: sqlite3.Connection, worker_id: str, now: str, current_job_id: str | None) -> bool:
    """Refresh a worker's heartbeat and current job; False if it is not registered."""
    updated = conn.execute(
        """
        UPDATE workers SET heartbeat_at = ?, current_job_id = ?, stopped_at = NULL
         WHERE id = ? RETURNING id
        """,
        (now, current_job_id, worker_id),
    ).fetchone()
    return updated is not None


def stop_worker(conn: sqlite3.Connection, worker_id: str, now: str) -> None:
    """Mark a worker stopped (it ended cleanly)."""
    conn.execute(
        "UPDATE workers SET stopped_at = ?, heartbeat_at = ?, current_job_id = NULL WHERE id = ?",
        (now, now, worker_id),
    )


def list_workers(conn: sqlite3.Connection) -> list[Row]:
    """Return every registered worker, oldest first, with its current job's type and path."""
    rows = conn.execute(
        """
        SELECT w.id, w.host, w.pid, w.types_json, w.started_at, w.heartbeat_at, w.stopped_at,
               w.current_job_id, j.job_type AS current_job_type, j.file_path AS current_job_path
          FROM workers AS w LEFT JOIN jobs AS j ON j.id = w.current_job_id
         ORDER BY w.started_at, w.id
        """
    ).fetchall()
    return [dict(row) for row in rows]
