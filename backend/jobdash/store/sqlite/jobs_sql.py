"""SQL on the ``jobs`` table, as plain ``fn(conn, ...)`` functions.

Readers get a snapshot connection from :meth:`Database.read`; writers run inside
:meth:`Database.write`'s ``BEGIN IMMEDIATE`` transaction. Nothing here opens, commits
or closes a connection.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from jobdash.model.list_query import ListQuery
from jobdash.store.list_order import ORDER_BY

Row = dict[str, Any]

# created_at sorts as text: triggers (migration 1) keep every row in one UTC format,
# whichever process wrote it, so text order is time order and the indexes serve it.
CREATED = "created_at"


def _row(row: sqlite3.Row | None) -> Row | None:
    return dict(row) if row is not None else None


def _where(query: ListQuery, since_cutoff: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if query.statuses:
        clauses.append(f"status IN ({','.join('?' * len(query.statuses))})")
        args.extend(query.statuses)
    if query.types:
        clauses.append(f"job_type IN ({','.join('?' * len(query.types))})")
        args.extend(query.types)
    if since_cutoff is not None:
        clauses.append(f"{CREATED} >= ?")
        args.append(since_cutoff)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def list_jobs(conn: sqlite3.Connection, query: ListQuery, since_cutoff: str | None) -> tuple[list[Row], int]:
    """Given a validated query, return (one page of job rows, total matching rows)."""
    where, args = _where(query, since_cutoff)
    rows = conn.execute(
        f"SELECT * FROM jobs{where} ORDER BY {ORDER_BY[query.sort]} LIMIT ? OFFSET ?",
        [*args, query.limit, query.offset],
    ).fetchall()
    return [dict(r) for r in rows], count_jobs(conn, query, since_cutoff)


def count_jobs(conn: sqlite3.Connection, query: ListQuery, since_cutoff: str | None) -> int:
    """Given a validated query, return how many jobs match it.

    Without a time window the answer comes from ``job_counts`` (a few rows whatever the
    table's size); with one, the created_at index is walked over the window only.
    """
    where, args = _where(query, since_cutoff)
    if since_cutoff is not None:
        return int(conn.execute(f"SELECT COUNT(*) FROM jobs{where}", args).fetchone()[0])
    # Same status/job_type conditions, on the counts table that has those columns too.
    total = conn.execute(f"SELECT COALESCE(SUM(n), 0) FROM job_counts{where}", args).fetchone()[0]
    return int(total)


def get_job(conn: sqlite3.Connection, job_id: str) -> Row | None:
    """Given a job id, return its row or None."""
    return _row(conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())


def data_version(conn: sqlite3.Connection) -> int:
    """Return the jobs change counter, moved by every insert, update and delete."""
    return int(conn.execute("SELECT version FROM jobs_version WHERE singleton = 1").fetchone()[0])


def insert_job(conn: sqlite3.Connection, row: Row) -> Row:
    """Insert a job row (a dict of column -> value) and return the stored row."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    stored = conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({marks}) RETURNING *", list(row.values())).fetchone()
    return dict(stored)


def claim_next(
    conn: sqlite3.Connection, worker_pid: int, worker_id: str | None, now: str, job_types: tuple[str, ...]
) -> Row | None:
    """Mark the next queued job of ``job_types`` (lowest priority number, then oldest)
    running for this worker and return it; None when no such job waits."""
    assert job_types, "a worker handles at least one job type"
    marks = ",".join("?" * len(job_types))
    claimed = _row(
        conn.execute(
            f"""
            UPDATE jobs
               SET status = 'running', started_at = ?, completed_at = NULL,
                   worker_pid = ?, worker_id = ?, worker_heartbeat = ?, progress_percent = 0,
                   progress_json = NULL, progress_updated_at = NULL, error_message = NULL,
                   summary_json = NULL
             WHERE id = (SELECT id FROM jobs
                          WHERE status = 'queued' AND job_type IN ({marks})
                          ORDER BY priority ASC, {CREATED} ASC, id ASC LIMIT 1)
               AND status = 'queued'
            RETURNING *
            """,
            (now, worker_pid, worker_id, now, *job_types),
        ).fetchone()
    )
    if claimed is not None and worker_id is not None:
        # The worker's registry row shows its new job at once, in the same transaction.
        conn.execute(
            "UPDATE workers SET current_job_id = ?, heartbeat_at = ?, stopped_at = NULL WHERE id = ?",
            (claimed["id"], now, worker_id),
        )
    return claimed


def _job_left(conn: sqlite3.Connection, job_id: str, worker_id: str | None, now: str) -> None:
    """The worker's registry row no longer names the job (it ended or went back)."""
    if worker_id is not None:
        conn.execute(
            "UPDATE workers SET current_job_id = NULL, heartbeat_at = ? WHERE id = ? AND current_job_id = ?",
            (now, worker_id, job_id),
        )


# A worker's write counts only while the job is still its own: a worker presumed dead
# (its job failed or handed to another worker) cannot overwrite what happened since.
_OWNED = "(:worker IS NULL OR worker_id = :worker)"


def record_progress(
    conn: sqlite3.Connection, job_id: str, percent: float, progress: dict[str, Any], now: str, worker_id: str | None
) -> bool:
    """Store progress (and a heartbeat) of a running job; False if it is no longer running.

    ``progress_updated_at`` moves only when the counts or unit changed: the same progress
    written again is a heartbeat. (progress_json is written in one form, keys sorted, so
    equal progress is equal text; the CASE reads the row's values before this update.)
    """
    updated = conn.execute(
        f"""
        UPDATE jobs SET progress_percent = :percent, progress_json = :progress, worker_heartbeat = :now,
                        progress_updated_at = CASE WHEN progress_json IS :progress THEN progress_updated_at
                                                   ELSE :now END
         WHERE id = :id AND status = 'running' AND {_OWNED} RETURNING id
        """,
        {
            "percent": percent,
            "progress": json.dumps(progress, sort_keys=True),
            "now": now,
            "id": job_id,
            "worker": worker_id,
        },
    ).fetchone()
    return updated is not None


def heartbeat(conn: sqlite3.Connection, job_id: str, now: str, worker_id: str | None) -> bool:
    """Refresh a running job's heartbeat; False if it is no longer running (or not ours)."""
    updated = conn.execute(
        f"UPDATE jobs SET worker_heartbeat = :now WHERE id = :id AND status = 'running' AND {_OWNED} RETURNING id",
        {"now": now, "id": job_id, "worker": worker_id},
    ).fetchone()
    return updated is not None


def finish_job(
    conn: sqlite3.Connection,
    job_id: str,
    status: str,
    now: str,
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
    assert status in ("completed", "failed", "cancelled"), status
    updated = conn.execute(
        f"""
        UPDATE jobs
           SET status = :status, completed_at = COALESCE(completed_at, :now),
               summary_json = COALESCE(:summary, summary_json),
               error_message = COALESCE(:error, error_message),
               output_path = COALESCE(:output, output_path),
               progress_percent = CASE WHEN :status = 'completed' THEN 100
                                       ELSE progress_percent END
         WHERE id = :id AND {_OWNED}
           AND (status = 'running' OR (status = 'cancelled' AND :status = 'cancelled'))
        RETURNING id
        """,
        {
            "status": status,
            "now": now,
            "summary": json.dumps(summary, sort_keys=True) if summary is not None else None,
            "error": error_message,
            "output": output_path,
            "id": job_id,
            "worker": worker_id,
        },
    ).fetchone()
    if updated is not None:
        _job_left(conn, job_id, worker_id, now)
    return updated is not None


def release_job(conn: sqlite3.Connection, job_id: str, worker_id: str | None, now: str) -> bool:
    """Return a running job to the queue (its worker is stopping); False if not running."""
    updated = conn.execute(
        f"""
        UPDATE jobs
           SET status = 'queued', started_at = NULL, worker_pid = NULL, worker_id = NULL,
               worker_heartbeat = NULL, progress_percent = 0, progress_json = NULL,
               progress_updated_at = NULL
         WHERE id = :id AND status = 'running' AND {_OWNED} RETURNING id
        """,
        {"id": job_id, "worker": worker_id},
    ).fetchone()
    if updated is not None:
        _job_left(conn, job_id, worker_id, now)
    return updated is not None


def cancel_job(conn: sqlite3.Connection, job_id: str, now: str) -> Row | None:
    """Cancel a queued or running job; return its new row, or None if it was not active."""
    return _row(
        conn.execute(
            """
            UPDATE jobs SET status = 'cancelled', completed_at = ?
             WHERE id = ? AND status IN ('queued', 'running')
            RETURNING *
            """,
            (now, job_id),
        ).fetchone()
    )


def recover_stale(conn: sqlite3.Connection, cutoff: str, now: str, stale_after_s: float) -> list[Row]:
    """Requeue or fail every running job whose last heartbeat is older than ``cutoff``;
    return the changed rows.

    A job is requeued when the worker that ran it declared its type safe to run again
    (``requeue_json`` of its registry row), else failed with a message that says why.
    """
    stale = """
        status = 'running'
        AND julianday(COALESCE(worker_heartbeat, started_at, created_at)) < julianday(:cutoff)
    """
    requeue = """
        EXISTS (SELECT 1 FROM workers AS w, json_each(w.requeue_json) AS t
                 WHERE w.id = jobs.worker_id AND t.value = jobs.job_type)
    """
    args = {"now": now, "cutoff": cutoff, "age": f"{stale_after_s:g}"}
    requeued = conn.execute(
        f"""
        UPDATE jobs
           SET status = 'queued', started_at = NULL, worker_pid = NULL, worker_id = NULL,
               worker_heartbeat = NULL, progress_percent = 0, progress_json = NULL,
               progress_updated_at = NULL
         WHERE {stale} AND {requeue}
        RETURNING *
        """,
        args,
    ).fetchall()
    failed = conn.execute(
        f"""
        UPDATE jobs
           SET status = 'failed', completed_at = :now,
               error_message = 'Worker lost: no heartbeat for over ' || :age
                   || ' s (last heartbeat ' || COALESCE(worker_heartbeat, 'never')
                   || ', worker pid ' || COALESCE(worker_pid, 'unknown')
                   || '); the job was abandoned and marked failed.'
         WHERE {stale}
        RETURNING *
        """,
        args,
    ).fetchall()
    return [dict(r) for r in (*requeued, *failed)]


def ids_with_prefix(conn: sqlite3.Connection, prefix: str, limit: int) -> list[str]:
    """Return up to ``limit`` job ids that start with ``prefix`` (a range scan of the key)."""
    rows = conn.execute(
        "SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
        (prefix, prefix + "\uffff", limit),
    ).fetchall()
    return [row[0] for row in rows]


def job_types_present(conn: sqlite3.Connection) -> list[str]:
    """Return the job types of the jobs in the table, sorted (from the counts, not a scan)."""
    rows = conn.execute("SELECT job_type FROM job_counts GROUP BY job_type HAVING SUM(n) > 0 ORDER BY job_type")
    return [row[0] for row in rows]


def find_idempotent(conn: sqlite3.Connection, key: str, cutoff: str) -> Row | None:
    """Return the remembered submission under ``key`` (newer than ``cutoff``), or None."""
    return _row(
        conn.execute(
            "SELECT key, request_hash, job_id FROM idempotency_keys WHERE key = ? AND created_at >= ?",
            (key, cutoff),
        ).fetchone()
    )


def remember_idempotent(
    conn: sqlite3.Connection, key: str, request_hash: str, job_id: str, now: str, cutoff: str
) -> None:
    """Remember that ``key`` created ``job_id``; forget keys older than ``cutoff``."""
    conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))
    conn.execute(
        "INSERT OR REPLACE INTO idempotency_keys (key, request_hash, job_id, created_at) VALUES (?, ?, ?, ?)",
        (key, request_hash, job_id, now),
    )


def delete_finished(conn: sqlite3.Connection, cutoff: str, limit: int) -> list[Row]:
    """Delete up to ``limit`` finished jobs (completed, failed, cancelled) that ended before
    ``cutoff``, and the idempotency keys pointing at them; return their ``id, log_path``."""
    # A job ends after it was created, so created_at < cutoff only narrows the search: it
    # lets the (status, created_at) index find the candidates. completed_at is compared as
    # an instant, not as text: other writers store it with "+00:00" rather than "Z".
    # No ORDER BY: any batch of old jobs will do, and sorting would visit every old row.
    rows = conn.execute(
        """
        DELETE FROM jobs
         WHERE id IN (SELECT id FROM jobs
                       WHERE status IN ('completed', 'failed', 'cancelled')
                         AND created_at < :cutoff
                         AND julianday(completed_at) < julianday(:cutoff)
                       LIMIT :limit)
        RETURNING id, log_path
        """,
        {"cutoff": cutoff, "limit": limit},
    ).fetchall()
    deleted = [dict(r) for r in rows]
    if deleted:
        conn.execute(
            "DELETE FROM idempotency_keys WHERE job_id IN (SELECT value FROM json_each(?))",
            (json.dumps([row["id"] for row in deleted]),),
        )
    return deleted
