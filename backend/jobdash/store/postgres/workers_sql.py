"""SQL on the ``workers`` registry (PostgreSQL), as plain ``fn(conn, ...)`` functions.

A worker registers when it starts (with the job types it runs and those of them that may
run again after it dies), refreshes ``heartbeat_at`` while it lives and sets
``stopped_at`` when it stops cleanly; readers judge one that stopped beating gone by its
heartbeat's age. Times are the database's clock.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from jobdash.store.postgres.jobs_sql import as_rows

Row = dict[str, Any]
Conn = psycopg.Connection[Any]


def register_worker(
    conn: Conn, worker_id: str, host: str, pid: int, types: tuple[str, ...], requeue: tuple[str, ...], keep_s: float
) -> None:
    """Insert a worker's row; forget workers gone for longer than ``keep_s`` seconds."""
    conn.execute(
        "DELETE FROM workers WHERE COALESCE(stopped_at, heartbeat_at) < now() - make_interval(secs => %s)",
        (float(keep_s),),
    )
    conn.execute(
        "INSERT INTO workers (id, host, pid, types_json, requeue_json) VALUES (%s, %s, %s, %s, %s)",
        (worker_id, host, pid, json.dumps(list(types)), json.dumps(list(requeue))),
    )


def beat_worker(conn: Conn, worker_id: str, current_job_id: str | None) -> bool:
    """Refresh a worker's heartbeat and current job; False if it is not registered."""
    row = conn.execute(
        """
        UPDATE workers SET heartbeat_at = now(), current_job_id = %s, stopped_at = NULL
         WHERE id = %s RETURNING id
        """,
        (current_job_id, worker_id),
    ).fetchone()
    return row is not None


def stop_worker(conn: Conn, worker_id: str) -> None:
    """Mark a worker stopped (it ended cleanly)."""
    conn.execute(
        "UPDATE workers SET stopped_at = now(), heartbeat_at = now(), current_job_id = NULL WHERE id = %s",
        (worker_id,),
    )


def list_workers(conn: Conn) -> list[Row]:
    """Return every registered worker, oldest first, with its current job's type and path."""
    rows = conn.execute(
        """
        SELECT w.id, w.host, w.pid, w.types_json, w.started_at, w.heartbeat_at, w.stopped_at,
               w.current_job_id, j.job_type AS current_job_type, j.file_path AS current_job_path
          FROM workers AS w LEFT JOIN jobs AS j ON j.id = w.current_job_id
         ORDER BY w.started_at, w.id
        """
    ).fetchall()
    return as_rows(rows)
