"""The PostgreSQL store through PgBouncer in transaction mode (``?pgbouncer=transaction``).

Each transaction may run on another server connection, so nothing jobdash relies on may
live in a session: migrations take a transaction-level lock, reads and writes set their
isolation in their own BEGIN, prepared statements are off (PgBouncer 1.18, Debian 12's,
has no support for them in this mode), and there is no LISTEN (workers poll; the API
reads the change counter).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.model.list_query import ListQuery
from jobdash.store.postgres.store import PostgresStore
from jobdash.worker.loop import Worker
from support.pgbouncer import NOT_INSTALLED, Bouncer, pgbouncer_binary


@pytest.fixture
def bouncer(pg_cluster: Any) -> Iterator[Bouncer]:
    if pgbouncer_binary() is None:
        pytest.skip(NOT_INSTALLED)
    root = Path(tempfile.mkdtemp(prefix="jobdash-pgbouncer-"))
    os.chmod(root, 0o755)
    running = Bouncer(root, pg_cluster)
    try:
        yield running
    finally:
        running.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pooled(bouncer: Bouncer, database_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(bouncer.url(database_url) + "?pgbouncer=transaction", pool_size=6)
    yield store
    store.close()


def test_the_store_works_through_pgbouncer_in_transaction_mode(pooled: PostgresStore, database_url: str) -> None:
    """Create, claim from several threads at once, progress, log, finish and list through
    PgBouncer: every job runs once and the totals and the log are right."""
    ids = {pooled.create(f"/media/{n}", "scan")["id"] for n in range(60)}
    worker = pooled.register_worker("bouncer-host", os.getpid(), ("scan",))
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all() -> None:
        while (job := pooled.claim(os.getpid(), ("scan",), worker_id=worker)) is not None:
            assert pooled.progress(job["id"], 1, 2, worker_id=worker)
            with pooled.open_log(job) as log:
                log.write(f"through pgbouncer {job['id']}")
            assert pooled.finish(job["id"], "completed", summary={"ok": 1}, worker_id=worker)
            with lock:
                claimed.append(job["id"])

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == sorted(ids)  # each once
    rows, total = pooled.list(ListQuery(statuses=("completed",), limit=100))
    assert total == 60 and {row["id"] for row in rows} == ids
    some = next(iter(ids))
    job = pooled.get(some)
    assert job is not None and pooled.read_log(job, 0, 10).lines[0].endswith(f"through pgbouncer {some}")
    # No LISTEN through a transaction pooler: the version is read, and is the database's.
    direct = PostgresStore(database_url)
    try:
        assert pooled.version_now() == pooled.version() == direct.version()
    finally:
        direct.close()


def test_a_worker_runs_jobs_through_pgbouncer(pooled: PostgresStore) -> None:
    """The real worker loop (registry, heartbeats, buffered log, owner-checked outcome)
    polls and runs a queued job through PgBouncer."""
    job = pooled.create("/media/x", "scan")
    worker = Worker(pooled, handlers={"scan": lambda ctx: {"seen": ctx.target}}, stale_after=30)
    assert worker.run_once() is True
    done = pooled.get(job["id"])
    assert done is not None and done["status"] == "completed" and done["summary_json"] == '{"seen": "/media/x"}'
    assert pooled.has_log(done)
    assert [row["host"] for row in pooled.workers()] == [worker.host]
