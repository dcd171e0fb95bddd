"""Claims on the PostgreSQL store (jobdash.store.postgres.jobs_sql): ``FOR UPDATE SKIP
LOCKED`` across processes, the order and the index behind it, writes that count only for
the job's owner, and recovery of a dead worker's jobs (requeued or failed).

Runs against the test session's private PostgreSQL server (skipped, saying why, where
PostgreSQL is not installed).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from jobdash.store.postgres import jobs_sql
from jobdash.store.postgres.store import PostgresStore

PID = 4242


@pytest.fixture
def pg_store(database_url: str) -> Iterator[PostgresStore]:
    """A PostgresStore on a new database with the schema."""
    store = PostgresStore(database_url)
    yield store
    store.close()


def insert_jobs(url: str, count: int, *, status: str = "queued", job_type: str = "scan") -> None:
    """Insert ``count`` jobs in one statement, as another program would."""
    with psycopg.connect(url) as conn:
        conn.execute(
            """
            INSERT INTO jobs (id, file_path, job_type, status, completed_at)
            SELECT gen_random_uuid()::text, '/m/' || i, %s, %s,
                   CASE WHEN %s IN ('completed', 'failed', 'cancelled') THEN now() END
              FROM generate_series(1, %s) AS i
            """,
            (job_type, status, status, count),
        )


CLAIMER = textwrap.dedent(
    """
    import json, os, sys
    from jobdash.store.postgres.store import PostgresStore

    store = PostgresStore(sys.argv[1])
    worker_id = store.register_worker("host", os.getpid(), ("scan",))
    print("ready", flush=True)
    sys.stdin.readline()
    claimed = []
    while (job := store.claim(os.getpid(), ("scan",), worker_id=worker_id)) is not None:
        claimed.append(job["id"])
    store.close()
    print(json.dumps({"worker": worker_id, "claimed": claimed}), flush=True)
    """
)


def test_four_processes_claim_each_of_400_jobs_exactly_once(database_url: str) -> None:
    """Four worker processes claiming at once from 400 queued jobs take every job, each
    exactly once, and every claimed row names its own worker (SKIP LOCKED, no waiting)."""
    insert_jobs(database_url, 400)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for proc in procs:  # all connected before any one claims
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    results = [json.loads(out) for out, _ in outputs]
    every = [job_id for result in results for job_id in result["claimed"]]
    assert len(every) == 400 and len(set(every)) == 400
    with psycopg.connect(database_url) as conn:
        owners = dict(conn.execute("SELECT id, worker_id FROM jobs WHERE status = 'running'").fetchall())
    assert set(owners) == set(every)
    for result in results:
        assert all(owners[job_id] == result["worker"] for job_id in result["claimed"])


def test_claims_take_priority_then_age_and_only_the_workers_types(database_url: str, pg_store: PostgresStore) -> None:
    """Lowest priority number first, then the oldest (the database's created_at), then the
    id for jobs created in one transaction; a worker takes only the types it runs."""
    base = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    rows = [
        # (id, type, priority, minutes after base)
        ("00000000-0000-4000-8000-00000000000a", "scan", 100, 5),
        ("00000000-0000-4000-8000-00000000000b", "move", 100, 1),
        ("00000000-0000-4000-8000-00000000000c", "transcode", 0, 0),
        ("00000000-0000-4000-8000-00000000000d", "scan", 50, 9),
        ("00000000-0000-4000-8000-00000000000f", "scan", 100, 3),
        ("00000000-0000-4000-8000-00000000000e", "move", 100, 3),
    ]
    with psycopg.connect(database_url) as conn:
        for job_id, job_type, priority, minutes in rows:
            conn.execute(
                "INSERT INTO jobs (id, file_path, job_type, priority, created_at) VALUES (%s, '/m', %s, %s, %s)",
                (job_id, job_type, priority, base + timedelta(minutes=minutes)),
            )
    order = []
    while (job := pg_store.claim(PID, ("scan", "move"))) is not None:
        order.append(job["id"][-1])
    assert order == ["d", "b", "e", "f", "a"]
    transcode = pg_store.claim(PID, ("transcode",))
    assert transcode is not None and transcode["id"].endswith("c")


def test_a_claim_skips_a_job_another_transaction_holds(database_url: str, pg_store: PostgresStore) -> None:
    """A job locked by another transaction (a claim in flight elsewhere) is skipped, not
    waited for: the next one is claimed at once; once released, the held one is claimable."""
    first = pg_store.create("/first", "scan", priority=1)
    second = pg_store.create("/second", "scan", priority=2)
    claimed: list[Any] = []
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT id FROM jobs WHERE id = %s FOR UPDATE", (first["id"],))
        claimer = threading.Thread(target=lambda: claimed.append(pg_store.claim(PID, ("scan",))))
        claimer.start()
        claimer.join(timeout=5)
        alive = claimer.is_alive()
        holder.rollback()  # lets a claim that waited finish, so the thread ends either way
    claimer.join(timeout=10)
    assert not alive, "the claim waited for the locked row"
    assert claimed and claimed[0] is not None and claimed[0]["id"] == second["id"]
    again = pg_store.claim(PID, ("scan",))
    assert again is not None and again["id"] == first["id"]


class _StatementRecorder:
    """Stands in for a connection to capture the SQL a jobs_sql function sends (it
    returns no rows); the statement is then explained on a real connection."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def execute(self, statement: str, params: Any = None) -> _StatementRecorder:
        self.statements.append((statement, params))
        return self

    def fetchone(self) -> None:
        return None


def test_the_claim_reads_the_partial_index_of_queued_jobs(database_url: str) -> None:
    """With a long history (many finished jobs) and a few queued, the claim statement
    walks the small partial index jobs_queued, not the table or a full index."""
    insert_jobs(database_url, 20_000, status="completed")
    insert_jobs(database_url, 5)
    recorder = _StatementRecorder()
    assert jobs_sql.claim_next(recorder, PID, None, ("scan",)) is None  # type: ignore[arg-type]
    [(statement, params)] = recorder.statements
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE jobs")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + statement, params).fetchall())
    assert "jobs_queued" in plan, plan
    assert "Seq Scan on jobs" not in plan, plan


def test_a_worker_presumed_dead_cannot_touch_its_old_job(database_url: str, pg_store: PostgresStore) -> None:
    """Once a job was recovered from worker A (requeued) and claimed by worker B, A's
    progress, heartbeat, finish and release return False and leave the row as it was;
    B's writes count."""
    a = pg_store.register_worker("host-a", 1, ("scan",), ("scan",))
    b = pg_store.register_worker("host-b", 2, ("scan",))
    job = pg_store.create("/m", "scan")
    assert pg_store.claim(1, ("scan",), worker_id=a) is not None
    [recovered] = pg_store.recover_stale(60, now=datetime.now(UTC) + timedelta(hours=1))
    assert recovered["id"] == job["id"] and recovered["status"] == "queued"
    taken = pg_store.claim(2, ("scan",), worker_id=b)
    assert taken is not None and taken["id"] == job["id"] and taken["worker_id"] == b
    assert pg_store.progress(job["id"], 3, 10, worker_id=b)
    row = pg_store.get(job["id"])

    assert pg_store.progress(job["id"], 9, 10, worker_id=a) is False
    assert pg_store.heartbeat(job["id"], worker_id=a) is False
    assert pg_store.finish(job["id"], "completed", summary={"by": "a"}, worker_id=a) is False
    assert pg_store.finish(job["id"], "cancelled", worker_id=a) is False
    assert pg_store.release(job["id"], worker_id=a) is False
    assert pg_store.get(job["id"]) == row

    assert pg_store.heartbeat(job["id"], worker_id=b)
    assert pg_store.finish(job["id"], "completed", summary={"by": "b"}, worker_id=b)
    done = pg_store.get(job["id"])
    assert done is not None and done["status"] == "completed" and json.loads(done["summary_json"]) == {"by": "b"}
    assert done["worker_pid"] == 2


def test_a_worker_can_release_its_own_job_only(pg_store: PostgresStore) -> None:
    """release() with a worker id puts the job back only for the worker that holds it."""
    a = pg_store.register_worker("host-a", 1, ("scan",))
    b = pg_store.register_worker("host-b", 2, ("scan",))
    job = pg_store.create("/m", "scan")
    assert pg_store.claim(1, ("scan",), worker_id=a) is not None
    assert pg_store.release(job["id"], worker_id=b) is False
    assert pg_store.get(job["id"])["status"] == "running"  # type: ignore[index]
    assert pg_store.release(job["id"], worker_id=a) is True
    assert pg_store.get(job["id"])["status"] == "queued"  # type: ignore[index]


def test_recovery_requeues_the_types_the_worker_declared_and_fails_the_rest(pg_store: PostgresStore) -> None:
    """A dead worker's job is queued again when the worker registered its type as safe to
    rerun (``requeue``); its other jobs, and jobs of workers that never registered, fail
    with a "Worker lost" message naming the threshold; fresh heartbeats are left alone."""
    dead = pg_store.register_worker("host-a", 11, ("scan", "move"), ("scan",))
    alive = pg_store.register_worker("host-b", 12, ("scan",), ("scan",))
    scan = pg_store.create("/scan", "scan", priority=1)
    move = pg_store.create("/move", "move", priority=2)
    orphan = pg_store.create("/orphan", "move", priority=3)
    fresh = pg_store.create("/fresh", "scan", priority=4)
    assert pg_store.claim(11, ("scan",), worker_id=dead)["id"] == scan["id"]  # type: ignore[index]
    assert pg_store.claim(11, ("move",), worker_id=dead)["id"] == move["id"]  # type: ignore[index]
    assert pg_store.claim(13, ("move",))["id"] == orphan["id"]  # type: ignore[index]
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert pg_store.recover_stale(60, now=later - timedelta(hours=1)) == []
    assert pg_store.claim(12, ("scan",), worker_id=alive)["id"] == fresh["id"]  # type: ignore[index]
    with psycopg.connect(pg_store.url.conninfo) as conn:  # the live worker beat just now
        conn.execute("UPDATE jobs SET worker_heartbeat = %s WHERE id = %s", (later, fresh["id"]))

    changed = {row["id"]: row for row in pg_store.recover_stale(60, now=later)}
    assert set(changed) == {scan["id"], move["id"], orphan["id"]}
    requeued = pg_store.get(scan["id"])
    assert requeued is not None and requeued["status"] == "queued"
    assert requeued["worker_id"] is None and requeued["started_at"] is None and requeued["error_message"] is None
    for job in (move, orphan):
        failed = pg_store.get(job["id"])
        assert failed is not None and failed["status"] == "failed" and failed["completed_at"] is not None
        assert failed["error_message"].startswith("Worker lost: no heartbeat for over 60 s"), failed["error_message"]
    assert "worker pid 11" in pg_store.get(move["id"])["error_message"]  # type: ignore[index]
    assert pg_store.get(fresh["id"])["status"] == "running"  # type: ignore[index]
    assert pg_store.claim(14, ("scan",))["id"] == scan["id"]  # type: ignore[index]
