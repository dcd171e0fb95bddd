"""The PostgreSQL store's schema (jobdash.store.postgres.migrations): numbered migrations
under an advisory lock, and the triggers that keep ``job_counts`` and the change counter.

Runs against the test session's private PostgreSQL server (skipped, saying why, where
PostgreSQL is not installed).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from jobdash.model.list_query import ListQuery
from jobdash.store.postgres import migrations
from jobdash.store.postgres.migrations import LATEST, current_version, migrate
from jobdash.store.postgres.store import PostgresStore
from jobdash.store.sqlite.store import SqliteStore

PID = 4242


@pytest.fixture
def pg_store(database_url: str) -> Iterator[PostgresStore]:
    """A PostgresStore on a new database with the schema."""
    store = PostgresStore(database_url)
    yield store
    store.close()


def query(url: str, sql: str, args: Any = ()) -> list[tuple[Any, ...]]:
    """Run one statement on its own connection, as another program would; commit and
    return the rows (empty when it returns none)."""
    with psycopg.connect(url) as conn:
        cursor = conn.execute(sql, args)
        return cursor.fetchall() if cursor.description else []


# --- migrations --------------------------------------------------------------------------


def test_a_new_database_is_at_the_latest_version(database_url: str) -> None:
    """Opening the store on a database migrates it: every step recorded once, in order."""
    assert query(database_url, "SELECT version FROM jobdash_migrations ORDER BY version") == [
        (number,) for number in range(1, LATEST + 1)
    ]
    with psycopg.connect(database_url) as conn:
        assert current_version(conn) == LATEST


def test_migrating_again_changes_nothing(database_url: str) -> None:
    """migrate() on an up-to-date database is a no-op: no step runs again, no object is
    added, and the store opens on it as before."""
    catalog = "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
    before = query(database_url, "SELECT version, applied_at FROM jobdash_migrations ORDER BY version")
    objects = query(database_url, catalog)
    with psycopg.connect(database_url) as conn:
        assert migrate(conn) == LATEST
        assert migrate(conn) == LATEST
    PostgresStore(database_url).close()
    assert query(database_url, "SELECT version, applied_at FROM jobdash_migrations ORDER BY version") == before
    assert query(database_url, catalog) == objects


OPENER = textwrap.dedent(
    """
    import sys
    from jobdash.store.postgres.store import PostgresStore

    print("ready", flush=True)
    sys.stdin.readline()
    store = PostgresStore(sys.argv[1])
    store.create("/m", "scan")
    store.close()
    print("done", flush=True)
    """
)


def test_processes_starting_at_once_on_an_empty_database_migrate_it_once(pg_cluster: Any) -> None:
    """Four processes opening the store on one empty database at the same moment all
    succeed, and each migration is applied exactly once (the advisory lock)."""
    name = f"t_empty_{uuid.uuid4().hex[:12]}"
    pg_cluster.admin(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for proc in procs:  # every process has started Python before any one connects
            assert proc.stdout is not None and proc.stdin is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=60) for proc in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0 and out.strip() == "done", err
        assert query(url, "SELECT version, count(*) FROM jobdash_migrations GROUP BY version ORDER BY version") == [
            (number, 1) for number in range(1, LATEST + 1)
        ]
        assert query(url, "SELECT count(*) FROM jobs") == [(4,)]
        assert query(url, "SELECT sum(n) FROM job_counts") == [(4,)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        pg_cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def database_at(pg_cluster: Any, monkeypatch: pytest.MonkeyPatch, version: int) -> Iterator[str]:
    """A new database migrated only up to ``version`` (as an older jobdash left it); yield
    its URL, drop it afterwards."""
    name = f"t_v{version}_{uuid.uuid4().hex[:12]}"
    pg_cluster.admin(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    try:
        with monkeypatch.context() as patch, psycopg.connect(url) as conn:
            patch.setattr(migrations, "LATEST", version)
            assert migrate(conn) == version
        yield url
    finally:
        pg_cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_an_older_database_is_brought_up_to_date_with_its_jobs(
    pg_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database left at schema version 1 (jobs in it, counts that drifted) is migrated
    to LATEST when the store opens: its jobs stay, and the counts equal the table again."""
    with database_at(pg_cluster, monkeypatch, 1) as url:
        query(
            url,
            "INSERT INTO jobs (id, file_path, job_type) SELECT gen_random_uuid()::text, '/m', 'scan' FROM generate_series(1, 5)",
        )
        query(url, "UPDATE job_counts SET n = n + 3")  # drifted
        PostgresStore(url).close()
        assert query(url, "SELECT max(version) FROM jobdash_migrations") == [(LATEST,)]
        assert counts_by_status(url) == ({"queued": 5}, {"queued": 5})


JOB_COLUMNS = (
    "SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = 'public' AND table_name = 'jobs' ORDER BY ordinal_position"
)


def test_migration_4_adds_progress_updated_at_null_for_existing_rows(
    pg_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database at schema version 3 with jobs (one running, with progress) gains the
    column when the store opens: NULL in every existing row (not known), the rest kept."""
    with database_at(pg_cluster, monkeypatch, 3) as url:
        query(
            url,
            "INSERT INTO jobs (id, file_path, job_type, status, started_at, progress_json)"
            " VALUES ('a', '/m', 'scan', 'running', now(), %s), ('b', '/m', 'scan', 'queued', NULL, NULL)",
            ('{"processed": 1, "total": 2, "unit": "files"}',),
        )
        columns = [column for (column,) in query(url, JOB_COLUMNS)]
        every_column = f"SELECT {', '.join(columns)} FROM jobs ORDER BY id"
        before = query(url, every_column)
        PostgresStore(url).close()
        assert query(url, "SELECT max(version) FROM jobdash_migrations") == [(LATEST,)]
        assert [column for (column,) in query(url, JOB_COLUMNS)] == [*columns, "progress_updated_at"]
        assert query(url, "SELECT id, progress_updated_at FROM jobs ORDER BY id") == [("a", None), ("b", None)]
        assert query(url, every_column) == before


def test_a_database_newer_than_this_jobdash_is_refused(database_url: str) -> None:
    """A schema written by a newer jobdash is not guessed at: RuntimeError naming the
    database's version and the one this jobdash supports."""
    query(database_url, "INSERT INTO jobdash_migrations (version) VALUES (%s)", (LATEST + 1,))
    with pytest.raises(RuntimeError) as raised:
        PostgresStore(database_url)
    message = str(raised.value)
    assert f"version {LATEST + 1}" in message and f"({LATEST})" in message, message


def test_jobs_columns_match_the_sqlite_store(database_url: str, sqlite_store: SqliteStore) -> None:
    """The jobs table has the same column names in the same order on both stores (the
    orchestrator's schema), so rows look alike whichever store they come from."""
    sqlite_columns = sqlite_store.db.read(lambda conn: [row[1] for row in conn.execute("PRAGMA table_info(jobs)")])
    postgres_columns = query(
        database_url,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = 'jobs' ORDER BY ordinal_position",
    )
    assert [name for (name,) in postgres_columns] == sqlite_columns


# --- counts and the change counter (triggers) -----------------------------------------------


def counts_by_status(url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Return (what job_counts says per status, what count(*) on jobs says per status),
    leaving out statuses both count as zero."""
    kept = dict(query(url, "SELECT status, sum(n)::int FROM job_counts GROUP BY status HAVING sum(n) <> 0"))
    real = dict(query(url, "SELECT status, count(*)::int FROM jobs GROUP BY status"))
    return kept, real


def test_counts_match_the_table_after_writes_from_two_stores_and_other_programs(
    database_url: str, pg_store: PostgresStore
) -> None:
    """job_counts (what list totals add up) equals count(*) per status and per type after
    creates, claims, progress, finishes, cancels, releases, recoveries and a prune from
    two store instances, and raw SQL by another program (an id changed with the status,
    a TRUNCATE)."""
    other = PostgresStore(database_url)
    try:
        stores = (pg_store, other)
        ids = [stores[i % 2].create(f"/m/{i}", ("scan", "move")[i % 3 == 0])["id"] for i in range(40)]
        claimed = [job for i in range(16) if (job := stores[i % 2].claim(PID, ("scan", "move"))) is not None]
        for i, job in enumerate(claimed):
            store = stores[(i + 1) % 2]
            if i % 4 == 0:
                store.progress(job["id"], 1, 2)
                store.finish(job["id"], "completed", summary={"ok": True})
            elif i % 4 == 1:
                store.finish(job["id"], "failed", error_message="boom")
            elif i % 4 == 2:
                store.cancel(job["id"])
            else:
                store.release(job["id"])
        for job_id in ids[30:35]:
            other.cancel(job_id)
        pg_store.claim(PID, ("scan",))
        other.recover_stale(60, now=datetime.now(UTC) + timedelta(hours=1))
        assert pg_store.prune(60, now=datetime.now(UTC) + timedelta(hours=1)) > 0
        kept, real = counts_by_status(database_url)
        assert kept == real and sum(real.values()) > 0
        _, total = pg_store.list(ListQuery())
        assert total == sum(real.values())

        queued = [row["id"] for row in pg_store.list(ListQuery(statuses=("queued",), limit=100))[0]]
        query(
            database_url,
            "UPDATE jobs SET id = %s, status = 'failed', job_type = 'prune' WHERE id = %s",
            (str(uuid.uuid4()), queued[0]),
        )
        query(database_url, "UPDATE jobs SET status = 'completed' WHERE id = ANY(%s)", (queued[1:4],))
        query(database_url, "DELETE FROM jobs WHERE id = %s", (queued[4],))
        kept, real = counts_by_status(database_url)
        assert kept == real
        assert dict(
            query(database_url, "SELECT job_type, sum(n)::int FROM job_counts GROUP BY 1 HAVING sum(n) <> 0")
        ) == (dict(query(database_url, "SELECT job_type, count(*)::int FROM jobs GROUP BY 1")))
        for status, n in real.items():
            assert pg_store.list(ListQuery(statuses=(status,)))[1] == n

        before = pg_store.version()
        query(database_url, "TRUNCATE jobs")
        assert counts_by_status(database_url) == ({}, {})
        assert pg_store.list(ListQuery())[1] == 0
        assert pg_store.version() > before
    finally:
        other.close()


def changes_heard(url: str, action: Any) -> list[str]:
    """Run ``action()`` and return the notifications a listener hears from it (channel
    names), up to a marker sent afterwards: NOTIFYs arrive in commit order."""
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN jobdash_changes")
        listener.execute("LISTEN jobdash_queued")
        action()
        listener.execute("SELECT pg_notify('jobdash_changes', 'marker')")
        heard = []
        for note in listener.notifies(timeout=5):
            if note.payload == "marker":
                return heard
            heard.append(note.channel)
    raise AssertionError(f"the marker notification never came (heard {heard})")


def test_a_heartbeat_moves_neither_the_version_nor_a_notification(database_url: str, pg_store: PostgresStore) -> None:
    """Heartbeats (the store's, or another program's raw UPDATE of worker_heartbeat on
    many rows) change nothing a reader shows: the version stays, and no listener is woken."""
    for i in range(3):
        pg_store.create(f"/m/{i}", "scan")
    jobs = [pg_store.claim(PID, ("scan",)) for _ in range(3)]
    before = pg_store.version()

    def beat() -> None:
        assert all(job is not None and pg_store.heartbeat(job["id"]) for job in jobs)
        query(database_url, "UPDATE jobs SET worker_heartbeat = now() + interval '1 second'")

    assert changes_heard(database_url, beat) == []
    assert pg_store.version() == before


def test_a_write_of_progress_updated_at_moves_the_version(database_url: str, pg_store: PostgresStore) -> None:
    """progress_updated_at is shown: another program writing it alone moves the version
    and wakes listeners (the change trigger compares it, as every shown column)."""
    job = pg_store.create("/m", "scan")
    pg_store.claim(PID, ("scan",))
    before = pg_store.version()
    raw = "UPDATE jobs SET progress_updated_at = now() - interval '1 minute' WHERE id = %s"
    heard = changes_heard(database_url, lambda: query(database_url, raw, (job["id"],)))
    assert heard == ["jobdash_changes"], heard
    assert pg_store.version() > before


def test_a_statement_that_changes_nothing_moves_nothing(database_url: str, pg_store: PostgresStore) -> None:
    """Statements that touch no row, or write every value back unchanged, leave the
    version and the counts alone and send no notification; the store's no-op calls too."""
    job = pg_store.create("/a", "scan")
    done = pg_store.create("/b", "move")
    pg_store.claim(PID, ("move",))
    pg_store.finish(done["id"], "completed")
    before, counts = pg_store.version(), counts_by_status(database_url)

    def nothing() -> None:
        query(database_url, "UPDATE jobs SET status = status, file_path = file_path")
        query(database_url, "UPDATE jobs SET status = 'failed' WHERE false")
        query(database_url, "DELETE FROM jobs WHERE id = 'no such job'")
        query(database_url, "INSERT INTO jobs (id, file_path, job_type) SELECT 'x', '/x', 'scan' WHERE false")
        assert pg_store.claim(PID, ("transcode",)) is None
        assert pg_store.cancel(done["id"]) is None
        assert pg_store.release(job["id"]) is False
        assert pg_store.heartbeat(job["id"]) is False

    assert changes_heard(database_url, nothing) == []
    assert pg_store.version() == before
    assert counts_by_status(database_url) == counts


def test_the_version_moves_for_raw_writes_by_another_program(database_url: str, pg_store: PostgresStore) -> None:
    """Inserts, updates (an id change included), deletes and a TRUNCATE through another
    connection each move the version once their transaction commits, and wake listeners."""
    job_id, renamed = str(uuid.uuid4()), str(uuid.uuid4())
    steps = [
        ("INSERT INTO jobs (id, file_path, job_type) VALUES (%s, '/o', 'scan')", (job_id,)),
        ("UPDATE jobs SET priority = 5 WHERE id = %s", (job_id,)),
        ("UPDATE jobs SET id = %s WHERE id = %s", (renamed, job_id)),
        ("DELETE FROM jobs WHERE id = %s", (renamed,)),
        ("INSERT INTO jobs (id, file_path, job_type) VALUES (%s, '/o', 'scan')", (job_id,)),
        ("TRUNCATE jobs", ()),
    ]

    def commit(sql: str, args: tuple[Any, ...], version: int) -> None:
        with psycopg.connect(database_url) as conn:
            conn.execute(sql, args)
            assert pg_store.version() == version, f"seen before its commit: {sql}"

    version = pg_store.version()
    for sql, args in steps:
        heard = changes_heard(database_url, lambda sql=sql, args=args, version=version: commit(sql, args, version))
        assert "jobdash_changes" in heard, sql
        moved = pg_store.version()
        assert moved > version, sql
        version = moved


def test_queued_jobs_wake_listeners_at_commit(database_url: str, pg_store: PostgresStore) -> None:
    """A job that becomes claimable (created, released, requeued by another program)
    sends jobdash_queued; a claim or a finish does not."""
    job = pg_store.create("/a", "scan")
    assert "jobdash_queued" in changes_heard(database_url, lambda: pg_store.create("/b", "scan"))
    claimed = pg_store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"]
    assert "jobdash_queued" in changes_heard(database_url, lambda: pg_store.release(job["id"]))
    heard = changes_heard(database_url, lambda: pg_store.claim(PID, ("scan",)))
    assert heard == ["jobdash_changes"], heard
    heard = changes_heard(database_url, lambda: pg_store.finish(job["id"], "failed"))
    assert heard == ["jobdash_changes"], heard
    raw = "UPDATE jobs SET status = 'queued', completed_at = NULL WHERE id = %s"
    assert "jobdash_queued" in changes_heard(database_url, lambda: query(database_url, raw, (job["id"],)))
