"""Numbered schema migrations for the PostgreSQL store, tracked in ``jobdash_migrations``.

Migration N (1-based) is a list of statements run in one transaction together with the
row that records it. Every step first takes a transaction-level advisory lock, so two
processes starting at once on a new database apply each step once: the second waits,
then sees the step recorded and skips it. (A transaction-level lock, not a session one,
so migrating works through PgBouncer in transaction mode too.) Append, never edit.

The ``jobs`` columns keep the orchestrator's names, as in the SQLite store; timestamps
are ``timestamptz`` written with the database's clock, so hosts whose clocks disagree
still agree on heartbeat ages.
"""

from __future__ import annotations

from typing import Any

import psycopg

# pg_advisory_xact_lock key: any constant of jobdash's own ("jobdash" in ASCII).
MIGRATION_LOCK = 0x6A6F6264617368
# Writers spread their counter updates over this many rows, so concurrent transactions
# (workers claiming and finishing) do not queue behind one hot row; readers add them up.
SLOTS = 16

_JOBS_CHANGED = f"""
CREATE FUNCTION jobdash_slot() RETURNS integer LANGUAGE sql VOLATILE AS
$$ SELECT pg_backend_pid() % {SLOTS} $$;

-- Counts per (status, job_type) and the change counter, kept once per statement (not per
-- row) from the statement's transition tables: a claim is one counter update, a prune of
-- 500 jobs too. Rows are locked in one order (status, job_type), so two writers never
-- deadlock over counts. NOTIFY is sent at commit only, so listeners never hear of a
-- change they cannot yet read.
CREATE FUNCTION jobdash_jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_slot integer := jobdash_slot();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
        RETURN NULL;
    END IF;
    INSERT INTO job_counts AS c (status, job_type, slot, n)
    SELECT status, job_type, my_slot, count(*) FROM new_rows
     GROUP BY status, job_type ORDER BY status, job_type
    ON CONFLICT (status, job_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    UPDATE jobs_changes SET n = n + 1 WHERE slot = my_slot;
    PERFORM pg_notify('jobdash_changes', '');
    IF EXISTS (SELECT 1 FROM new_rows WHERE status = 'queued') THEN
        PERFORM pg_notify('jobdash_queued', '');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION jobdash_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_slot integer := jobdash_slot();
BEGIN
    -- A heartbeat changes nothing any reader shows: it must not invalidate their caches.
    IF NOT EXISTS (
        SELECT 1 FROM new_rows AS n JOIN old_rows AS o USING (id)
         WHERE (to_jsonb(n) - 'worker_heartbeat') IS DISTINCT FROM (to_jsonb(o) - 'worker_heartbeat')
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO job_counts AS c (status, job_type, slot, n)
    SELECT status, job_type, my_slot, sum(delta) FROM (
        SELECT status, job_type, 1 AS delta FROM new_rows
        UNION ALL
        SELECT status, job_type, -1 FROM old_rows
    ) AS moves
     GROUP BY status, job_type HAVING sum(delta) <> 0 ORDER BY status, job_type
    ON CONFLICT (status, job_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    UPDATE jobs_changes SET n = n + 1 WHERE slot = my_slot;
    PERFORM pg_notify('jobdash_changes', '');
    IF EXISTS (
        SELECT 1 FROM new_rows AS n JOIN old_rows AS o USING (id)
         WHERE n.status = 'queued' AND o.status <> 'queued'
    ) THEN
        PERFORM pg_notify('jobdash_queued', '');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION jobdash_jobs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_slot integer := jobdash_slot();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows) THEN
        RETURN NULL;
    END IF;
    INSERT INTO job_counts AS c (status, job_type, slot, n)
    SELECT status, job_type, my_slot, -count(*) FROM old_rows
     GROUP BY status, job_type ORDER BY status, job_type
    ON CONFLICT (status, job_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    UPDATE jobs_changes SET n = n + 1 WHERE slot = my_slot;
    PERFORM pg_notify('jobdash_changes', '');
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION jobdash_jobs_inserted();
CREATE TRIGGER jobs_updated AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobdash_jobs_updated();
CREATE TRIGGER jobs_deleted AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION jobdash_jobs_deleted();
"""

MIGRATIONS: list[list[str]] = [
    # 1: jobs (the orchestrator's column names, plus params_json and the owning worker's
    # id), the indexes behind every list filter and sort, the partial index behind claims,
    # counts and the change counter kept by triggers, workers, idempotency keys, log lines.
    [
        """
        CREATE TABLE jobs (
            id text COLLATE "C" PRIMARY KEY,
            file_path text NOT NULL,
            job_type text COLLATE "C" NOT NULL,
            status text COLLATE "C" NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
            priority integer NOT NULL DEFAULT 100,
            policy_name text,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            completed_at timestamptz,
            progress_percent double precision NOT NULL DEFAULT 0,
            progress_json text,
            worker_pid integer,
            worker_heartbeat timestamptz,
            output_path text,
            error_message text,
            summary_json text,
            log_path text,
            params_json text,
            worker_id text COLLATE "C"
        )
        """,
        "CREATE INDEX jobs_created ON jobs (created_at, id)",
        "CREATE INDEX jobs_status_created ON jobs (status, created_at, id)",
        "CREATE INDEX jobs_type_created ON jobs (job_type, created_at, id)",
        "CREATE INDEX jobs_type_status_created ON jobs (job_type, status, created_at, id)",
        "CREATE INDEX jobs_priority_created ON jobs (priority, created_at, id)",
        # Claims read only queued rows, in claim order: a small index whatever the history.
        "CREATE INDEX jobs_queued ON jobs (priority, created_at, id) WHERE status = 'queued'",
        # Dead-worker recovery reads only running rows.
        "CREATE INDEX jobs_running ON jobs (worker_heartbeat) WHERE status = 'running'",
        # Pruning walks finished rows by end time.
        "CREATE INDEX jobs_finished ON jobs (completed_at) WHERE status IN ('completed', 'failed', 'cancelled')",
        """
        CREATE TABLE job_counts (
            status text COLLATE "C" NOT NULL,
            job_type text COLLATE "C" NOT NULL,
            slot integer NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (status, job_type, slot)
        )
        """,
        "CREATE TABLE jobs_changes (slot integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)",
        f"INSERT INTO jobs_changes (slot) SELECT generate_series(0, {SLOTS - 1})",
        _JOBS_CHANGED,
        """
        CREATE TABLE workers (
            id text COLLATE "C" PRIMARY KEY,
            host text NOT NULL,
            pid integer NOT NULL,
            types_json text NOT NULL,
            requeue_json text NOT NULL DEFAULT '[]',
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            current_job_id text,
            stopped_at timestamptz
        )
        """,
        """
        CREATE TABLE idempotency_keys (
            key text PRIMARY KEY,
            request_hash text NOT NULL,
            job_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX idempotency_created ON idempotency_keys (created_at)",
        # Job logs: one row per line, keyed by (job, line number), so any replica reads
        # "lines from N" with an index range scan at the cost of the lines returned.
        """
        CREATE TABLE job_logs (
            job_id text COLLATE "C" PRIMARY KEY,
            lines integer NOT NULL DEFAULT 0,
            capped boolean NOT NULL DEFAULT false
        )
        """,
        """
        CREATE TABLE job_log_lines (
            job_id text COLLATE "C" NOT NULL,
            line_no integer NOT NULL,
            line text NOT NULL,
            PRIMARY KEY (job_id, line_no)
        )
        """,
    ],
    # 2: counts and the change counter also follow writes by other programs that 1 missed:
    # an UPDATE that changes a job's id (its old and new rows no longer pair up by id, so
    # it looked like "nothing changed" and its status move went uncounted) and a TRUNCATE
    # (no row triggers fire). Counts that drifted before are rebuilt from the table once.
    [
        """
        CREATE OR REPLACE FUNCTION jobdash_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            my_slot integer := jobdash_slot();
        BEGIN
            -- A heartbeat changes nothing any reader shows: it must not invalidate their
            -- caches. A row whose id changed has no old row of its id: that is a change.
            IF NOT EXISTS (
                SELECT 1 FROM new_rows AS n LEFT JOIN old_rows AS o USING (id)
                 WHERE o.id IS NULL
                    OR (to_jsonb(n) - 'worker_heartbeat') IS DISTINCT FROM (to_jsonb(o) - 'worker_heartbeat')
            ) THEN
                RETURN NULL;
            END IF;
            INSERT INTO job_counts AS c (status, job_type, slot, n)
            SELECT status, job_type, my_slot, sum(delta) FROM (
                SELECT status, job_type, 1 AS delta FROM new_rows
                UNION ALL
                SELECT status, job_type, -1 FROM old_rows
            ) AS moves
             GROUP BY status, job_type HAVING sum(delta) <> 0 ORDER BY status, job_type
            ON CONFLICT (status, job_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
            UPDATE jobs_changes SET n = n + 1 WHERE slot = my_slot;
            PERFORM pg_notify('jobdash_changes', '');
            IF EXISTS (
                SELECT 1 FROM new_rows AS n LEFT JOIN old_rows AS o USING (id)
                 WHERE n.status = 'queued' AND (o.id IS NULL OR o.status <> 'queued')
            ) THEN
                PERFORM pg_notify('jobdash_queued', '');
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE FUNCTION jobdash_jobs_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- TRUNCATE holds the table exclusively: no writer is between its rows and these.
            DELETE FROM job_counts;
            UPDATE jobs_changes SET n = n + 1 WHERE slot = jobdash_slot();
            PERFORM pg_notify('jobdash_changes', '');
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER jobs_truncated AFTER TRUNCATE ON jobs
            FOR EACH STATEMENT EXECUTE FUNCTION jobdash_jobs_truncated()
        """,
        # Writers wait for the recount (SHARE: reads go on), so no move is lost between.
        "LOCK TABLE jobs IN SHARE MODE",
        "DELETE FROM job_counts",
        "INSERT INTO job_counts (status, job_type, slot, n) SELECT status, job_type, 0, count(*) FROM jobs GROUP BY 1, 2",
        # Answers kept on the old counts are stale now (a new database stays at version 0).
        "UPDATE jobs_changes SET n = n + 1 WHERE slot = 0 AND EXISTS (SELECT 1 FROM jobs)",
    ],
    # 3: the same rules for an UPDATE, cheaper on the hot path (claims, progress, outcomes):
    # one pass over the statement's rows says whether anything shown changed (columns
    # compared as a row, not as two JSON documents), whether a status or type moved (the
    # counts are touched only then: a progress update leaves them alone), and whether a
    # job became claimable. The column list names every column but worker_heartbeat:
    # a column added later must be added here too.
    [
        """
        CREATE OR REPLACE FUNCTION jobdash_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            my_slot integer := jobdash_slot();
            shown_changed boolean;
            counts_moved boolean;
            now_queued boolean;
        BEGIN
            SELECT COALESCE(bool_or(o.id IS NULL OR (
                       n.file_path, n.job_type, n.status, n.priority, n.policy_name, n.created_at,
                       n.started_at, n.completed_at, n.progress_percent, n.progress_json, n.worker_pid,
                       n.output_path, n.error_message, n.summary_json, n.log_path, n.params_json, n.worker_id
                   ) IS DISTINCT FROM (
                       o.file_path, o.job_type, o.status, o.priority, o.policy_name, o.created_at,
                       o.started_at, o.completed_at, o.progress_percent, o.progress_json, o.worker_pid,
                       o.output_path, o.error_message, o.summary_json, o.log_path, o.params_json, o.worker_id
                   )), false),
                   COALESCE(bool_or(o.id IS NULL OR (n.status, n.job_type) IS DISTINCT FROM (o.status, o.job_type)), false),
                   COALESCE(bool_or(n.status = 'queued' AND (o.id IS NULL OR o.status <> 'queued')), false)
              INTO shown_changed, counts_moved, now_queued
              FROM new_rows AS n LEFT JOIN old_rows AS o USING (id);
            IF NOT shown_changed THEN
                RETURN NULL;  -- a heartbeat, or a statement that changed nothing
            END IF;
            IF counts_moved THEN
                INSERT INTO job_counts AS c (status, job_type, slot, n)
                SELECT status, job_type, my_slot, sum(delta) FROM (
                    SELECT status, job_type, 1 AS delta FROM new_rows
                    UNION ALL
                    SELECT status, job_type, -1 FROM old_rows
                ) AS moves
                 GROUP BY status, job_type HAVING sum(delta) <> 0 ORDER BY status, job_type
                ON CONFLICT (status, job_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
            END IF;
            UPDATE jobs_changes SET n = n + 1 WHERE slot = my_slot;
            PERFORM pg_notify('jobdash_changes', '');
            IF now_queued THEN
                PERFORM pg_notify('jobdash_queued', '');
            END IF;
            RETURN NULL;
        END $$
        """,
    ],
    # 4: when a job's progress last changed (processed, total or unit), so a page opened on
    # a stalled job can say for how long at once; existing rows have NULL (not known). The
    # column is shown: the function of 3 is made again with it in the compared list.
    [
        "ALTER TABLE jobs ADD COLUMN progress_updated_at timestamptz",
        """
        CREATE OR REPLACE FUNCTION jobdash_jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            my_slot integer := jobdash_slot();
            shown_changed boolean;
            counts_moved boolean;
            now_queued boolean;
        BEGIN
            SELECT COALESCE(bool_or(o.id IS NULL OR (
                       n.file_path, n.job_type, n.status, n.priority, n.policy_name, n.created_at,
                       n.started_at, n.completed_at, n.progress_percent, n.progress_json, n.worker_pid,
                       n.output_path, n.error_message, n.summary_json, n.log_path, n.params_json, n.worker_id,
                       n.progress_updated_at
                   ) IS DISTINCT FROM (
                       o.file_path, o.job_type, o.status, o.priority, o.policy_name, o.created_at,
                       o.started_at, o.completed_at, o.progress_percent, o.progress_json, o.worker_pid,
                       o.output_path, o.error_message, o.summary_json, o.log_path, o.params_json, o.worker_id,
                       o.progress_updated_at
                   )), false),
                   COALESCE(bool_or(o.id IS NULL OR (n.status, n.job_type) IS DISTINCT FROM (o.status, o.job_type)), false),
                   COALESCE(bool_or(n.status = 'queued' AND (o.id IS NULL OR o.status <> 'queued')), false)
              INTO shown_changed, counts_moved, now_queued
              FROM new_rows AS n LEFT JOIN old_rows AS o USING (id);
            IF NOT shown_changed THEN
                RETURN NULL;  -- a heartbeat, or a statement that changed nothing
            END IF;
            IF counts_moved THEN
                INSERT INTO job_counts AS c (status, job_type, slot, n)
                SELECT status, job_type, my_slot, sum(delta) FROM (
                    SELECT status, job_type, 1 AS delta FROM new_rows
                    UNION ALL
                    SELECT status, job_type, -1 FROM old_rows
                ) AS moves
                 GROUP BY status, job_type HAVING sum(delta) <> 0 ORDER BY status, job_type
                ON CONFLICT (status, job_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
            END IF;
            UPDATE jobs_changes SET n = n + 1 WHERE slot = my_slot;
            PERFORM pg_notify('jobdash_changes', '');
            IF now_queued THEN
                PERFORM pg_notify('jobdash_queued', '');
            END IF;
            RETURN NULL;
        END $$
        """,
    ],
]

LATEST = len(MIGRATIONS)


def current_version(conn: psycopg.Connection[Any]) -> int:
    """Given a connection, return the schema version (0 for a database without jobdash)."""
    exists = conn.execute("SELECT to_regclass('jobdash_migrations') IS NOT NULL AS present").fetchone()
    if not _first(exists):
        return 0
    row = conn.execute("SELECT COALESCE(max(version), 0) AS version FROM jobdash_migrations").fetchone()
    return int(_first(row))


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Given a connection (not in a transaction), apply every pending migration, each in
    its own transaction under the migration lock; return the schema version.

    A database newer than this code is refused rather than guessed at.
    """
    version = current_version(conn)
    conn.commit()
    if version > LATEST:
        raise RuntimeError(
            f"database schema version {version} is newer than this jobdash supports ({LATEST}); upgrade jobdash"
        )
    for number in range(version + 1, LATEST + 1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                """
                CREATE TABLE IF NOT EXISTS jobdash_migrations (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            # Another process may have applied this step while we waited for the lock.
            if current_version(conn) < number:
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute("INSERT INTO jobdash_migrations (version) VALUES (%s)", (number,))
    return LATEST
