"""The PostgreSQL store's change watcher (jobdash.store.postgres.watcher): the data version
heard over LISTEN/NOTIFY, kept honest after local writes, wake-ups for queued jobs, and
reconnection after the server restarts.

Runs against the test session's private PostgreSQL server (skipped, saying why, where
PostgreSQL is not installed). Waits are polling loops with a deadline, never fixed sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from jobdash.store.interface import StoreUnavailable
from jobdash.store.postgres.store import PostgresStore

T = TypeVar("T")
PID = 4242


@pytest.fixture
def pg_store(database_url: str) -> Iterator[PostgresStore]:
    """A PostgresStore on a new database with the schema."""
    store = PostgresStore(database_url)
    yield store
    store.close()


@pytest.fixture
def other_store(database_url: str) -> Iterator[PostgresStore]:
    """A second PostgresStore on the same database: another replica, another host."""
    store = PostgresStore(database_url)
    yield store
    store.close()


def eventually(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call ``probe()`` until it returns something other than None (StoreUnavailable
    counts as None) and return that; fail saying ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = probe()
        except StoreUnavailable:
            found = None
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.01)


def listen_threads() -> set[threading.Thread]:
    """Return the live change-watcher threads of this process."""
    return {thread for thread in threading.enumerate() if thread.name == "jobdash-listen" and thread.is_alive()}


def listening(store: PostgresStore, timeout: float = 5) -> int:
    """Wait until the store's watcher knows a version; return it."""
    return eventually(store.version_now, timeout, "the watcher knows the version")


def test_version_now_is_unavailable_until_the_watcher_listens(pg_store: PostgresStore) -> None:
    """Before its listening connection is up, version_now() says StoreUnavailable (the
    caller then reads the database) rather than guess; then it equals version()."""
    pg_store.create("/a", "scan")
    with pytest.raises(StoreUnavailable):
        pg_store.version_now()
    assert listening(pg_store) == pg_store.version()


def test_a_commit_by_another_instance_is_heard_within_a_second(
    pg_store: PostgresStore, other_store: PostgresStore
) -> None:
    """A change committed by another store instance (another replica or worker) moves
    this instance's version_now() within a second, by notification, with no read of its own."""
    before = listening(pg_store)
    started = time.monotonic()
    other_store.create("/elsewhere", "scan")
    target = other_store.version()
    assert target > before
    eventually(lambda: pg_store.version_now() == target or None, 1.0, "version_now() reached the new version")
    assert time.monotonic() - started < 1.0
    job = other_store.claim(PID, ("scan",))
    assert job is not None
    target = other_store.version()
    eventually(lambda: pg_store.version_now() == target or None, 1.0, "version_now() heard the claim")


def test_after_a_local_write_version_now_is_never_older_than_the_write(
    pg_store: PostgresStore, other_store: PostgresStore
) -> None:
    """Right after this process writes, version_now() either says StoreUnavailable (read
    the database) or gives a version at least as new as the write — never the version
    from before it, though the write's notification may not have arrived yet: a client
    never gets a cached answer from before its own change."""
    listening(pg_store)
    writes: list[Callable[[int], object]] = [
        lambda i: pg_store.create(f"/mine/{i}", "scan"),
        lambda i: pg_store.claim(PID, ("scan",)),
        lambda i: other_store.create(f"/other/{i}", "move"),  # then a local write on top
    ]
    for i in range(30):
        before = pg_store.version()
        eventually(lambda before=before: pg_store.version_now() == before or None, 2.0, "caught up")
        writes[i % 3](i)
        if i % 3 == 2:
            before = pg_store.version()
            eventually(lambda before=before: pg_store.version_now() == before or None, 2.0, "heard the other")
            pg_store.create(f"/mine/{i}", "scan")
        try:
            seen: int | None = pg_store.version_now()
        except StoreUnavailable:
            seen = None
        assert seen is None or seen > before, (i, seen, before)
    final = pg_store.version()
    eventually(lambda: pg_store.version_now() == final or None, 2.0, "version_now() came back")


def test_version_now_answers_again_at_once_after_a_local_write(pg_store: PostgresStore) -> None:
    """The watcher re-reads the version as soon as a local write made it forget (it is
    woken, not left to its next periodic look), even for a write that changed nothing
    and so sent no notification."""
    listening(pg_store)
    job = pg_store.create("/a", "scan")
    for write in (
        lambda: pg_store.claim(PID, ("transcode",)),  # changes nothing
        lambda: pg_store.progress(job["id"], 1, 2),  # not running: changes nothing
        lambda: pg_store.create("/b", "scan"),
    ) * 2:
        listening(pg_store)
        write()
        started = time.monotonic()
        version = listening(pg_store, timeout=2)
        assert time.monotonic() - started < 0.5
        assert version == pg_store.version()


def test_closing_a_listening_store_is_quick(database_url: str) -> None:
    """close() stops the watcher at once (it does not sit out its wait for notifications)."""
    before = listen_threads()
    store = PostgresStore(database_url)
    listening(store)
    [thread] = listen_threads() - before
    started = time.monotonic()
    store.close()
    assert time.monotonic() - started < 0.5
    assert not thread.is_alive()


def test_on_job_queued_fires_for_jobs_queued_by_another_instance(
    pg_store: PostgresStore, other_store: PostgresStore
) -> None:
    """An idle worker registered with on_job_queued() is woken when another instance
    queues a job, and when a running job is released back to the queue."""
    woken = threading.Event()
    pg_store.on_job_queued(woken.set)
    listening(pg_store)
    assert woken.wait(5), "no wake-up once listening (a job may have been queued meanwhile)"
    woken.clear()
    job = other_store.create("/queued", "scan")
    assert woken.wait(5), "no wake-up for a job queued by another instance"
    claimed = other_store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"]
    target = other_store.version()
    eventually(lambda: pg_store.version_now() >= target or None, 2.0, "the claim was heard")
    woken.clear()
    assert other_store.release(job["id"])
    assert woken.wait(5), "no wake-up for a job released back to the queue"


def test_the_watcher_reconnects_after_the_server_restarts(
    pg_cluster: Any, pg_store: PostgresStore, other_store: PostgresStore
) -> None:
    """When the server goes away, version_now() turns StoreUnavailable (nothing is
    answered on a stale guess); once it is back, the watcher reconnects on its own,
    version_now() works and hears changes again, and idle workers are woken."""
    woken = threading.Event()
    pg_store.on_job_queued(woken.set)
    listening(pg_store)
    pg_cluster.stop_server("fast")
    try:
        eventually(lambda: _unavailable(pg_store.version_now), 5, "version_now() noticed the server left")
        woken.clear()
    finally:
        pg_cluster.start_server()
    version = listening(pg_store, timeout=15)
    assert woken.wait(5), "idle workers were not woken after the reconnection"
    assert version == eventually(pg_store.version, 15, "the pool reconnected")
    eventually(lambda: other_store.create("/after", "scan"), 15, "the other instance writes again")
    target = other_store.version()
    eventually(lambda: pg_store.version_now() >= target or None, 2.0, "a change after the restart was heard")


def _unavailable(read: Callable[[], object]) -> bool | None:
    """True if ``read()`` raises StoreUnavailable, else None (for eventually())."""
    try:
        read()
    except StoreUnavailable:
        return True
    return None


def test_behind_a_transaction_pooler_version_now_reads_the_database(database_url: str) -> None:
    """With pgbouncer=transaction (no LISTEN possible) there is no watcher: version_now()
    reads the version from the database at once, and on_job_queued() registers nothing
    (workers poll)."""
    before = listen_threads()
    store = PostgresStore(database_url + "?pgbouncer=transaction")
    try:
        store.on_job_queued(lambda: None)
        assert store.version_now() == store.version() == 0
        store.create("/a", "scan")
        assert store.version_now() == store.version() > 0
        assert listen_threads() <= before
    finally:
        store.close()
