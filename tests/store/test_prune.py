"""Pruning old finished jobs, through the JobStore interface only, so that every store
runs these (the store's own files and SQL are tested beside each store)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from jobdash.model.list_query import ListQuery
from jobdash.store.interface import IdempotencyConflict, JobStore, Row

PID = os.getpid()
DAYS_90 = 90 * 86400.0


def later(days: float) -> datetime:
    """Return the moment ``days`` from now: jobs that end now are that old then."""
    return datetime.now(UTC) + timedelta(days=days)


def ended(store: JobStore, status: str = "completed") -> Row:
    """Queue a scan, run it and end it with ``status``; return its final row."""
    job = store.create("/media", "scan")
    claimed = store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"]
    assert store.finish(job["id"], status, error_message="boom" if status == "failed" else None)
    final = store.get(job["id"])
    assert final is not None and final["status"] == status and final["completed_at"]
    return final


def running(store: JobStore) -> Row:
    """Queue a scan and claim it; return the running row."""
    job = store.create("/media", "scan")
    claimed = store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"]
    return claimed


def queued(store: JobStore) -> Row:
    """Queue a job of a type no claim here takes, so it stays queued."""
    return store.create("/media", "apply")


def test_only_finished_jobs_older_than_the_age_go(store: JobStore) -> None:
    """Completed, failed and cancelled jobs that ended over 90 days ago are deleted;
    queued and running ones stay, with their status."""
    old = [ended(store, "completed"), ended(store, "failed"), ended(store, "cancelled")]
    cancelled_while_queued = store.cancel(queued(store)["id"])
    assert cancelled_while_queued is not None
    old.append(cancelled_while_queued)
    waiting, busy = queued(store), running(store)

    assert store.prune(DAYS_90, now=later(100)) == 4

    assert [store.get(job["id"]) for job in old] == [None] * 4
    assert store.get(waiting["id"])["status"] == "queued"  # type: ignore[index]
    assert store.get(busy["id"])["status"] == "running"  # type: ignore[index]


def test_jobs_that_ended_within_the_age_stay(store: JobStore) -> None:
    """A job that ended 89 days before ``now`` stays; at 91 days it goes."""
    job = ended(store)
    assert store.prune(DAYS_90, now=later(89)) == 0
    assert store.get(job["id"]) is not None
    assert store.prune(DAYS_90, now=later(91)) == 1
    assert store.get(job["id"]) is None


def test_the_cutoff_is_the_moment_the_age_before_now(store: JobStore) -> None:
    """Of two jobs, the one that ended before ``now - age`` goes, the one after stays."""
    first = ended(store)
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    second = ended(store)

    assert store.prune(3600, now=between + timedelta(hours=1)) == 1

    assert store.get(first["id"]) is None
    assert store.get(second["id"]) is not None


def test_default_now_is_the_current_time(store: JobStore) -> None:
    """Without ``now``, ages count from the current time: a job that just ended is kept,
    and is pruned once it is older than the age."""
    job = ended(store)
    assert store.prune(3600) == 0
    time.sleep(0.05)
    assert store.prune(0.01) == 1
    assert store.get(job["id"]) is None


def test_queued_and_running_jobs_stay_however_old(store: JobStore) -> None:
    """Fifty years on, a queued and a running job are still there, and the running one
    still takes its worker's writes."""
    waiting, busy = queued(store), running(store)
    assert store.prune(1, now=later(50 * 365)) == 0
    assert store.get(waiting["id"])["status"] == "queued"  # type: ignore[index]
    assert store.heartbeat(busy["id"])
    assert store.finish(busy["id"], "completed")


@pytest.mark.parametrize(("jobs", "batch"), [(5, 2), (4, 2), (3, 500), (1, 1), (3, 1)])
def test_batches_delete_every_old_job(store: JobStore, jobs: int, batch: int) -> None:
    """However the jobs divide into batches (a part-filled last one, an exact multiple),
    every old finished job goes and the count is the total."""
    ids = [ended(store)["id"] for _ in range(jobs)]
    assert store.prune(DAYS_90, now=later(100), batch=batch) == jobs
    assert [store.get(job_id) for job_id in ids] == [None] * jobs


def test_listing_totals_drop_by_what_was_pruned(store: JobStore) -> None:
    """The listing's totals, overall and by status, count only what is left."""
    ended(store, "completed")
    ended(store, "completed")
    ended(store, "failed")
    kept = {queued(store)["id"], running(store)["id"]}
    assert store.list(ListQuery())[1] == 5
    assert store.list(ListQuery(statuses=("completed",)))[1] == 2

    assert store.prune(DAYS_90, now=later(100)) == 3

    rows, total = store.list(ListQuery())
    assert total == 2 and {row["id"] for row in rows} == kept
    assert store.list(ListQuery(statuses=("completed",))) == ([], 0)
    assert store.list(ListQuery(statuses=("failed",))) == ([], 0)


def test_nothing_to_prune(store: JobStore) -> None:
    """An empty store, or one with only young jobs, gives 0 and changes nothing."""
    assert store.prune(DAYS_90) == 0
    job = ended(store)
    before = store.version()
    assert store.prune(DAYS_90, now=later(1)) == 0
    assert store.get(job["id"]) == job
    assert store.version() == before


def test_the_logs_of_pruned_jobs_are_gone(store: JobStore) -> None:
    """A pruned job's log is gone with it; a running job's log stays."""
    old, busy = ended(store), running(store)
    for job in (old, busy):
        with store.open_log(job) as log:  # as the worker writes it
            log.write(f"log of {job['id']}")
        assert store.has_log(job)

    assert store.prune(DAYS_90, now=later(100)) == 1

    assert not store.has_log(old) and store.read_log(old, None, 10).lines == []
    assert store.has_log(busy)


def test_the_idempotency_key_of_a_pruned_job_is_forgotten(store: JobStore) -> None:
    """A key that queued a pruned job no longer holds: the same key may queue anew."""
    job, new = store.submit("/media", "scan", idempotency_key="key-1", request_hash="first")
    assert new
    assert store.claim(PID, ("scan",))["id"] == job["id"]  # type: ignore[index]
    assert store.finish(job["id"], "completed")
    with pytest.raises(IdempotencyConflict):
        store.submit("/media", "scan", idempotency_key="key-1", request_hash="second")

    assert store.prune(DAYS_90, now=later(100)) == 1

    again, new = store.submit("/media", "scan", idempotency_key="key-1", request_hash="second")
    assert new and again["id"] != job["id"]


@pytest.mark.parametrize("older_than_s", [0.0, -1.0, float("nan"), float("inf")])
def test_an_age_that_is_not_positive_is_refused(store: JobStore, older_than_s: float) -> None:
    """An age of zero or less (or not a number) would mean "everything": ValueError."""
    job = ended(store)
    with pytest.raises(ValueError, match="age"):
        store.prune(older_than_s, now=later(100))
    assert store.get(job["id"]) is not None


@pytest.mark.parametrize("batch", [0, -5])
def test_a_batch_below_one_is_refused(store: JobStore, batch: int) -> None:
    """A batch must hold at least one job: ValueError."""
    with pytest.raises(ValueError, match="batch"):
        store.prune(DAYS_90, batch=batch)
