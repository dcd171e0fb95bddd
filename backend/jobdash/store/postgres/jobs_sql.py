"""SQL on the ``jobs`` table (PostgreSQL), as plain ``fn(conn, ...)`` functions.

Readers run inside :meth:`Database.read`'s snapshot, writers inside :meth:`Database.write`'s
transaction; nothing here opens, commits or closes a connection. Times are the database's
own (``now()``), so every host agrees on them; rows come back with timestamps as the
ISO-8601 text the SQLite store keeps, so nothing above the store can tell them apart.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from jobdash.model.list_query import ListQuery
from jobdash.store.list_order import ORDER_BY
from jobdash.util.timestamps import to_iso

Row = dict[str, Any]
Conn = psycopg.Connection[Any]

FINISHED = ("completed", "failed", "cancelled")


def as_row(row: dict[str, Any] | None) -> Row | None:
    """Given a row as psycopg returns it, return it as the store's rows look (timestamps as
    ISO-8601 text), or None."""
    if row is None:
        return None
    return {key: to_iso(value) if isinstance(value, datetime) else value for key, value in row.items()}


def as_rows(rows: list[dict[str, Any]]) -> list[Row]:
    """Like :func:`as_row`, for a list."""
    return [as_row(row) for row in rows]  # type: ignore[misc]


def _where(query: ListQuery, since_cutoff: datetime | None) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    args: dict[str, Any] = {}
    if query.statuses:
        clauses.append("status = ANY(%(statuses)s)")
        args["statuses"] = list(query.statuses)
    if query.types:
        clauses.append("job_type = ANY(%(types)s)")
        args["types"] = list(query.types)
    if since_cutoff is not None:
        clauses.append("created_at >= %(cutoff)s")
        args["cutoff"] = since_cutoff
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def list_jobs(conn: Conn, query: ListQuery, since_cutoff: datetime | None) -> tuple[list[Row], int]:
    """Given a validated query, return (one page of job rows, total matching rows)."""
    where, args = _where(query, since_cutoff)
    rows = conn.execute(
        f"SELECT * FROM jobs{where} ORDER BY {ORDER_BY[query.sort]} LIMIT %(limit)s OFFSET %(offset)s",  # type: ignore[arg-type]
        {**args, "limit": query.limit, "offset": query.offset},
    ).fetchall()
    return as_rows(rows), count_jobs(conn, query, since_cutoff)


def count_jobs(conn: Conn, query: ListQuery, since_cutoff: datetime | None) -> int:
    """Given a validated query, return how many jobs match it.

    Without a time window the answer comes from ``job_counts`` (a few rows whatever the
    table's size); with one, the created_at index is walked over the window only.
    """
    where, args = _where(query, since_cutoff)
    table = "jobs" if since_cutoff is not None else "job_counts"
    counted = "count(*)" if since_cutoff is not None else "COALESCE(sum(n), 0)"
    row = conn.execute(f"SELECT {counted} AS n FROM {table}{where}", args).fetchone()  # type: ignore[arg-type]
    return int(row["n"])


def get_job(conn: Conn, job_id: str) -> Row | None:
    """Given a job id, return its row or None."""
    return as_row(conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone())


def data_version(conn: Conn) -> int:
    """Return the jobs change counter: the sum of its slots, each moved by the statements
    that change what readers see."""
    return int(conn.execute("SELECT sum(n) AS n FROM jobs_changes").fetchone()["n"])


def insert_job(conn: Conn, row: Row) -> Row:
    """Insert a job row (a dict of column -> value) and return the stored row."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in row)
    values = sql.SQL(", ").join(sql.Placeholder(name) for name in row)
    statement = sql.SQL("INSERT INTO jobs ({}) VALUES ({}) RETURNING *").format(columns, values)
    return as_row(conn.execute(statement, row).fetchone())  # type: ignore[return-value]


def claim_next(conn: Conn, worker_pid: int, worker_id: str | None, job_types: tuple[str, ...]) -> Row | None:
    """Mark the next queued job of ``job_types`` (lowest priority number, then oldest)
    running for this worker and return it; None when no such job waits.

    One statement: the materialized CTE locks the candidate row and skips rows other
    workers are claiming at this moment, so concurrent claims never wait on each other
    and never take the same job. The partial index on queued jobs serves the order. The
    worker's registry row names the job from the same statement on.
    """
    assert job_types, "a worker handles at least one job type"
    return as_row(
        conn.execute(
            """
            WITH next AS MATERIALIZED (
                SELECT id FROM jobs
                 WHERE status = 'queued' AND job_type = ANY(%(types)s)
                 ORDER BY priority ASC, created_at ASC, id ASC
                 LIMIT 1
                   FOR UPDATE SKIP LOCKED
            )
            , claimed AS (
                UPDATE jobs AS j
                   SET status = 'running', started_at = now(), completed_at = NULL,
                       worker_pid = %(pid)s, worker_id = %(worker)s, worker_heartbeat = now(),
                       progress_percent = 0, progress_json = NULL, progress_updated_at = NULL,
                       error_message = NULL, summary_json = NULL
                  FROM next
                 WHERE j.id = next.id
                RETURNING j.*
            )
            , registry AS (
                -- The worker's registry row shows its new job at once, in the same statement.
                UPDATE workers AS w SET current_job_id = claimed.id, heartbeat_at = now(), stopped_at = NULL
                  FROM claimed
                 WHERE w.id = %(worker)s
            )
            SELECT * FROM claimed
            """,
            {"types": list(job_types), "pid": worker_pid, "worker": worker_id},
        ).fetchone()
    )


# A worker's write counts only while the job is still its own: a worker presumed dead
# (its job failed or handed to another worker) cannot overwrite what happened since.
_OWNED = "(%(worker)s::text IS NULL OR worker_id = %(worker)s::text)"


def record_progress(conn: Conn, job_id: str, percent: float, progress: dict[str, Any], worker_id: str | None) -> bool:
    """Store progress (and a heartbeat) of a running job; False if it is no longer running.

    ``progress_updated_at`` moves only when the counts or unit changed: the same progress
    written again is a heartbeat. (progress_json is written in one form, keys sorted, so
    equal progress is equal text; the CASE reads the row's values before this update.)
    """
    row = conn.execute(
        f"""
        UPDATE jobs SET progress_percent = %(percent)s, progress_json = %(progress)s, worker_heartbeat = now(),
                        progress_updated_at = CASE WHEN progress_json IS NOT DISTINCT FROM %(progress)s
                                                   THEN progress_updated_at ELSE now() END
         WHERE id = %(id)s AND status = 'running' AND {_OWNED} RETURNING id
        """,  # type: ignore[arg-type]
        {"percent": percent, "progress": json.dumps(progress, sort_keys=True), "id": job_id, "worker": worker_id},
    ).fetchone()
    return row is not None


def heartbeat(conn: Conn, job_id: str, worker_id: str | None) -> bool:
    """Refresh a running job's heartbeat; False if it is no longer running (or not ours)."""
    row = conn.execute(
        f"UPDATE jobs SET worker_heartbeat = now() WHERE id = %(id)s AND status = 'running' AND {_OWNED} RETURNING id",  # type: ignore[arg-type]
        {"id": job_id, "worker": worker_id},
    ).fetchone()
    return row is not None


def finish_job(
    conn: Conn,
    job_id: str,
    status: str,
    worker_id: str | None,
    *,
    summary: dict[str, Any] | None = None,
    error_message: str | None = None,
    output_path: str | None = None,
) -> bool:
    """Record a running job's end (completed, failed or cancelled); False if it was not
    running (or is no longer this worker's).

    A job the operator cancelled while it ran is already ``cancelled``: its worker may
    still add the summary of the work done before it stopped.
    """
    assert status in FINISHED, status
    row = conn.execute(
        f"""
        WITH ended AS (
            UPDATE jobs
               SET status = %(status)s, completed_at = COALESCE(completed_at, now()),
                   summary_json = COALESCE(%(summary)s, summary_json),
                   error_message = COALESCE(%(error)s, error_message),
                   output_path = COALESCE(%(output)s, output_path),
                   progress_percent = CASE WHEN %(status)s = 'completed' THEN 100 ELSE progress_percent END
             WHERE id = %(id)s AND {_OWNED}
               AND (status = 'running' OR (status = 'cancelled' AND %(status)s = 'cancelled'))
            RETURNING id
        ), {_LEFT}
        SELECT id FROM ended
        """,  # type: ignore[arg-type]
        {
            "status": status,
            "summary": json.dumps(summary, sort_keys=True) if summary is not None else None,
            "error": error_message,
            "output": output_path,
            "id": job_id,
            "worker": worker_id,
        },
    ).fetchone()
    return row is not None


# In the same statement as a job's end or release: the worker's registry row no longer
# names the job (``ended`` is the CTE of the jobs the statement changed).
_LEFT = """
    left_job AS (
        UPDATE workers AS w SET current_job_id = NULL, heartbeat_at = now()
          FROM ended
         WHERE w.id = %(worker)s::text AND w.current_job_id = ended.id
    )
"""


def release_job(conn: Conn, job_id: str, worker_id: str | None) -> bool:
    """Return a running job to the queue (its worker is stopping); False if not running."""
    row = conn.execute(
        f"""
        WITH ended AS (
            UPDATE jobs
               SET status = 'queued', started_at = NULL, worker_pid = NULL, worker_id = NULL,
                   worker_heartbeat = NULL, progress_percent = 0, progress_json = NULL,
                   progress_updated_at = NULL
             WHERE id = %(id)s AND status = 'running' AND {_OWNED} RETURNING id
        ), {_LEFT}
        SELECT id FROM ended
        """,  # type: ignore[arg-type]
        {"id": job_id, "worker": worker_id},
    ).fetchone()
    return row is not None


def cancel_job(conn: Conn, job_id: str) -> Row | None:
    """Cancel a queued or running job; return its new row, or None if it was not active."""
    return as_row(
        conn.execute(
            """
            UPDATE jobs SET status = 'cancelled', completed_at = now()
             WHERE id = %s AND status IN ('queued', 'running')
            RETURNING *
            """,
            (job_id,),
        ).fetchone()
    )


def recover_stale(conn: Conn, stale_after_s: float, now: datetime | None) -> list[Row]:
    """Requeue or fail every running job whose heartbeat is older than ``stale_after_s``
    (before ``now``, default the database's clock); return the changed rows.

    A job is requeued when the worker that ran it declared its type safe to run again
    (``requeue_json`` of its registry row), else failed with a message that says why.
    One statement, so a requeue and a failure never race the claims.
    """
    rows = conn.execute(
        """
        WITH stale AS MATERIALIZED (
            SELECT j.id, j.worker_heartbeat AS beat,
                   COALESCE(w.requeue_json::jsonb ? j.job_type, false) AS requeue
              FROM jobs AS j LEFT JOIN workers AS w ON w.id = j.worker_id
             WHERE j.status = 'running'
               AND COALESCE(j.worker_heartbeat, j.started_at, j.created_at)
                   < COALESCE(%(now)s, now()) - make_interval(secs => %(age)s)
               FOR UPDATE OF j SKIP LOCKED
        )
        UPDATE jobs AS j
           SET status = CASE WHEN stale.requeue THEN 'queued' ELSE 'failed' END,
               completed_at = CASE WHEN stale.requeue THEN NULL ELSE COALESCE(%(now)s, now()) END,
               started_at = CASE WHEN stale.requeue THEN NULL ELSE j.started_at END,
               progress_percent = CASE WHEN stale.requeue THEN 0 ELSE j.progress_percent END,
               progress_json = CASE WHEN stale.requeue THEN NULL ELSE j.progress_json END,
               progress_updated_at = CASE WHEN stale.requeue THEN NULL ELSE j.progress_updated_at END,
               worker_id = CASE WHEN stale.requeue THEN NULL ELSE j.worker_id END,
               worker_pid = CASE WHEN stale.requeue THEN NULL ELSE j.worker_pid END,
               error_message = CASE WHEN stale.requeue THEN NULL ELSE
                   'Worker lost: no heartbeat for over ' || %(age_text)s
                   || ' s (last heartbeat ' || COALESCE(to_char(stale.beat AT TIME ZONE 'UTC',
                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'never')
                   || ', worker pid ' || COALESCE(j.worker_pid::text, 'unknown')
                   || '); the job was abandoned and marked failed.' END
          FROM stale
         WHERE j.id = stale.id
        RETURNING j.*
        """,
        {"now": now, "age": float(stale_after_s), "age_text": f"{stale_after_s:g}"},
    ).fetchall()
    return as_rows(rows)


def ids_with_prefix(conn: Conn, prefix: str, limit: int) -> list[str]:
    """Return up to ``limit`` job ids that start with ``prefix`` (a range scan of the key)."""
    rows = conn.execute(
        "SELECT id FROM jobs WHERE id >= %s AND id < %s ORDER BY id LIMIT %s",
        (prefix, prefix + "\uffff", limit),
    ).fetchall()
    return [row["id"] for row in rows]


def job_types_present(conn: Conn) -> list[str]:
    """Return the job types of the jobs in the table, sorted (from the counts, not a scan)."""
    rows = conn.execute("SELECT job_type FROM job_counts GROUP BY job_type HAVING sum(n) > 0 ORDER BY job_type")
    return [row["job_type"] for row in rows]


def find_idempotent(conn: Conn, key: str, keep_s: float) -> Row | None:
    """Return the remembered submission under ``key`` (younger than ``keep_s``), or None."""
    return as_row(
        conn.execute(
            """
            SELECT key, request_hash, job_id FROM idempotency_keys
             WHERE key = %s AND created_at >= now() - make_interval(secs => %s)
            """,
            (key, float(keep_s)),
        ).fetchone()
    )


def remember_idempotent(conn: Conn, key: str, request_hash: str, job_id: str, keep_s: float) -> None:
    """Remember that ``key`` created ``job_id``; forget keys older than ``keep_s``."""
    conn.execute("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => %s)", (float(keep_s),))
    conn.execute(
        """
        INSERT INTO idempotency_keys (key, request_hash, job_id) VALUES (%s, %s, %s)
        ON CONFLICT (key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, job_id = EXCLUDED.job_id, created_at = now()
        """,
        (key, request_hash, job_id),
    )


def lock_idempotency_key(conn: Conn, key: str) -> None:
    """Serialise submissions under one key until the transaction ends, so two identical
    requests arriving at two replicas at once queue one job, not two."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


def prune_batch(conn: Conn, cutoff: datetime, batch: int) -> list[str]:
    """Delete up to ``batch`` finished jobs that ended before ``cutoff``, with their log
    lines and idempotency keys; return their ids."""
    rows = conn.execute(
        """
        DELETE FROM jobs WHERE id IN (
            SELECT id FROM jobs
             WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < %s
             ORDER BY completed_at LIMIT %s
               FOR UPDATE SKIP LOCKED
        )
        RETURNING id
        """,
        (cutoff, batch),
    ).fetchall()
    ids = [row["id"] for row in rows]
    if ids:
        conn.execute("DELETE FROM job_log_lines WHERE job_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM job_logs WHERE job_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM idempotency_keys WHERE job_id = ANY(%s)", (ids,))
    return ids
