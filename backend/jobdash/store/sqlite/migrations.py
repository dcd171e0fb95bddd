"""Numbered schema migrations, tracked with ``PRAGMA user_version``.

Each migration is a list of SQL statements; migration N (1-based) moves a database from
user_version N-1 to N. Append, never edit: a database in the field may sit at any step.
The ``jobs`` column names are those of the orchestrator's established jobs schema.
"""

from __future__ import annotations

import sqlite3

# The one timestamp format stored in created_at (the format timeutil.to_iso writes).
_CREATED = "strftime('%Y-%m-%dT%H:%M:%fZ', created_at)"
_NEW_CREATED = "strftime('%Y-%m-%dT%H:%M:%fZ', NEW.created_at)"

MIGRATIONS: list[list[str]] = [
    # 1: the jobs table and the indexes that serve claim, every list filter and sort.
    [
        """
        CREATE TABLE IF NOT EXISTS jobs (
            id TEXT PRIMARY KEY NOT NULL,
            file_path TEXT NOT NULL,
            job_type TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued',
            priority INTEGER NOT NULL DEFAULT 100,
            policy_name TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            completed_at TEXT,
            progress_percent REAL NOT NULL DEFAULT 0,
            progress_json TEXT,
            worker_pid INTEGER,
            worker_heartbeat TEXT,
            output_path TEXT,
            error_message TEXT,
            summary_json TEXT,
            log_path TEXT
        )
        """,
        "CREATE INDEX IF NOT EXISTS idx_jobs_created ON jobs (created_at, id)",
        "CREATE INDEX IF NOT EXISTS idx_jobs_status_created ON jobs (status, created_at, id)",
        "CREATE INDEX IF NOT EXISTS idx_jobs_type_created ON jobs (job_type, created_at, id)",
        "CREATE INDEX IF NOT EXISTS idx_jobs_type_status_created ON jobs (job_type, status, created_at, id)",
        "CREATE INDEX IF NOT EXISTS idx_jobs_priority_created ON jobs (priority, created_at, id)",
        "CREATE INDEX IF NOT EXISTS idx_jobs_claim ON jobs (status, priority, created_at, id)",
        # created_at is compared and sorted as text, which orders instants correctly only
        # in one format. Rows from other writers ("...Z" without a fraction, "+00:00")
        # are normalised to ours on the way in; values SQLite cannot read stay as written.
        f"""
        UPDATE jobs SET created_at = {_CREATED}
         WHERE {_CREATED} IS NOT NULL AND created_at IS NOT {_CREATED}
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS jobs_created_at_insert AFTER INSERT ON jobs
        WHEN {_NEW_CREATED} IS NOT NULL AND NEW.created_at IS NOT {_NEW_CREATED}
        BEGIN UPDATE jobs SET created_at = {_NEW_CREATED} WHERE id = NEW.id; END
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS jobs_created_at_update AFTER UPDATE OF created_at ON jobs
        WHEN {_NEW_CREATED} IS NOT NULL AND NEW.created_at IS NOT {_NEW_CREATED}
        BEGIN UPDATE jobs SET created_at = {_NEW_CREATED} WHERE id = NEW.id; END
        """,
    ],
    # 2: a change counter that every write to jobs moves, whichever process writes, so
    # readers can tell "nothing changed" without reading the table.
    [
        """
        CREATE TABLE IF NOT EXISTS jobs_version (
            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            version INTEGER NOT NULL
        )
        """,
        "INSERT OR IGNORE INTO jobs_version (singleton, version) VALUES (1, 0)",
        """
        CREATE TRIGGER IF NOT EXISTS jobs_version_insert AFTER INSERT ON jobs
        BEGIN UPDATE jobs_version SET version = version + 1 WHERE singleton = 1; END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS jobs_version_update AFTER UPDATE ON jobs
        BEGIN UPDATE jobs_version SET version = version + 1 WHERE singleton = 1; END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS jobs_version_delete AFTER DELETE ON jobs
        BEGIN UPDATE jobs_version SET version = version + 1 WHERE singleton = 1; END
        """,
    ],
]

# 3: counts per (status, job_type), kept by triggers whichever process writes, so that a
# listing's total costs a handful of rows instead of a scan of the whole table.
MIGRATIONS.append(
    [
        """
        CREATE TABLE IF NOT EXISTS job_counts (
            status TEXT NOT NULL,
            job_type TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (status, job_type)
        ) WITHOUT ROWID
        """,
        "DELETE FROM job_counts",
        """
        INSERT INTO job_counts (status, job_type, n)
        SELECT status, job_type, COUNT(*) FROM jobs GROUP BY status, job_type
        """,
        """
        CREATE TRIGGER IF NOT EXISTS job_counts_insert AFTER INSERT ON jobs
        BEGIN
            INSERT INTO job_counts (status, job_type, n) VALUES (NEW.status, NEW.job_type, 1)
            ON CONFLICT (status, job_type) DO UPDATE SET n = n + 1;
        END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS job_counts_delete AFTER DELETE ON jobs
        BEGIN
            UPDATE job_counts SET n = n - 1
             WHERE status = OLD.status AND job_type = OLD.job_type;
        END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS job_counts_update AFTER UPDATE OF status, job_type ON jobs
        WHEN OLD.status IS NOT NEW.status OR OLD.job_type IS NOT NEW.job_type
        BEGIN
            UPDATE job_counts SET n = n - 1
             WHERE status = OLD.status AND job_type = OLD.job_type;
            INSERT INTO job_counts (status, job_type, n) VALUES (NEW.status, NEW.job_type, 1)
            ON CONFLICT (status, job_type) DO UPDATE SET n = n + 1;
        END
        """,
    ]
)

# 4: job parameters; the workers registry; idempotency keys of submitted jobs.
MIGRATIONS.append(
    [
        "ALTER TABLE jobs ADD COLUMN params_json TEXT",
        """
        CREATE TABLE IF NOT EXISTS workers (
            id TEXT PRIMARY KEY NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            types_json TEXT NOT NULL,
            started_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL,
            current_job_id TEXT,
            stopped_at TEXT
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS idempotency_keys (
            key TEXT PRIMARY KEY NOT NULL,
            request_hash TEXT NOT NULL,
            job_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS idx_idempotency_created ON idempotency_keys (created_at)",
    ]
)

# 5: the id of the worker that owns a running job (its later writes count only while it
# still does), and the job types a worker declares safe to queue again if it dies.
MIGRATIONS.append(
    [
        "ALTER TABLE jobs ADD COLUMN worker_id TEXT",
        "ALTER TABLE workers ADD COLUMN requeue_json TEXT NOT NULL DEFAULT '[]'",
    ]
)

# 6: a heartbeat changes nothing a reader is shown, so it no longer moves the change
# counter (kept answers stay valid while jobs merely run). The trigger names every other
# column: a column added later must be added here too.
_SHOWN_COLUMNS = (
    "id, file_path, job_type, status, priority, policy_name, created_at, started_at, completed_at, "
    "progress_percent, progress_json, worker_pid, output_path, error_message, summary_json, log_path, "
    "params_json, worker_id"
)
MIGRATIONS.append(
    [
        "DROP TRIGGER IF EXISTS jobs_version_update",
        f"""
        CREATE TRIGGER jobs_version_update AFTER UPDATE OF {_SHOWN_COLUMNS} ON jobs
        BEGIN UPDATE jobs_version SET version = version + 1 WHERE singleton = 1; END
        """,
    ]
)

# 7: when a job's progress last changed (processed, total or unit), so a page opened on a
# stalled job can say for how long at once. Existing rows have NULL: not known. The column
# is shown, so the change-counter trigger of 6 is made again with it (same rule: a column
# added later must be added to this list too).
_SHOWN_COLUMNS_7 = f"{_SHOWN_COLUMNS}, progress_updated_at"
MIGRATIONS.append(
    [
        "ALTER TABLE jobs ADD COLUMN progress_updated_at TEXT",
        "DROP TRIGGER IF EXISTS jobs_version_update",
        f"""
        CREATE TRIGGER jobs_version_update AFTER UPDATE OF {_SHOWN_COLUMNS_7} ON jobs
        BEGIN UPDATE jobs_version SET version = version + 1 WHERE singleton = 1; END
        """,
    ]
)

LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """Given a connection, return the schema version the database is at."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Given a writable connection, apply every pending migration; return the new version.

    Each step runs in its own ``BEGIN IMMEDIATE`` transaction together with its
    ``user_version`` bump, so a crash leaves the database at a whole step.
    A database newer than this code is refused rather than guessed at.
    """
    version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"database schema version {version} is newer than this jobdash supports ({LATEST}); upgrade jobdash"
        )
    for number in range(version + 1, LATEST + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied this step while we waited for the lock
            # (two processes started at once on a new data dir): look again inside it.
            if current_version(conn) < number:
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number:d}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return LATEST
