"""The job store: the one narrow interface to the jobs table (jobdash.store.sqlite.store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobdash.model.ids import is_uuid
from jobdash.model.list_query import SORTS, ListQuery
from jobdash.store.interface import IdempotencyConflict
from jobdash.store.sqlite.store import DB_FILENAME, SqliteStore
from jobdash.util.timestamps import parse_iso
from support.sqlhelpers import other_writer, set_columns

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
PID = 4242
CANONICAL = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"
# A fixed unknown id: parameters must be the same in every test process (pytest-xdist).
UNKNOWN = "5f3c1a9e-2b7d-4c11-8e0a-9d6b3f2e7a41"


def ago(**delta: float) -> datetime:
    """Return NOW minus a timedelta."""
    return NOW - timedelta(**delta)


def z(moment: datetime) -> str:
    """Format like jobdash: milliseconds and Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def plus(moment: datetime) -> str:
    """Format like Python's isoformat(): +00:00 offset."""
    return moment.isoformat()


# --- create / get ------------------------------------------------------------------------


def test_store_needs_an_existing_data_dir(tmp_path: Path) -> None:
    """The data directory must exist (the CLI prepares it); the logs directory is created."""
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SqliteStore(tmp_path / "missing")
    store = SqliteStore(tmp_path)
    try:
        assert (tmp_path / "logs").is_dir()
        assert (tmp_path / DB_FILENAME).is_file()
    finally:
        store.close()


def test_create_returns_a_queued_row(store: SqliteStore) -> None:
    """create() stores a queued job with a UUIDv4 id, priority, policy and a UTC timestamp."""
    before = datetime.now(UTC)
    job = store.create("/media/Movies", "scan", priority=7, policy_name="nightly")
    assert is_uuid(job["id"]) and uuid.UUID(job["id"]).version == 4
    assert job["status"] == "queued"
    assert (job["file_path"], job["job_type"], job["priority"], job["policy_name"]) == (
        "/media/Movies",
        "scan",
        7,
        "nightly",
    )
    assert job["progress_percent"] == 0
    created = parse_iso(job["created_at"])
    assert created is not None and job["created_at"].endswith("Z")
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC) + timedelta(seconds=1)
    for column in (
        "started_at",
        "completed_at",
        "worker_pid",
        "worker_heartbeat",
        "error_message",
        "summary_json",
        "progress_json",
        "log_path",
    ):
        assert job[column] is None
    assert store.get(job["id"]) == job


def test_create_default_priority(store: SqliteStore) -> None:
    """Without a priority a job gets 100."""
    assert store.create("/m", "scan")["priority"] == 100


@pytest.mark.parametrize("priority", [-1, 1001])
def test_create_rejects_out_of_range_priority(store: SqliteStore, priority: int) -> None:
    """Priorities outside 0-1000 are refused, naming the range."""
    with pytest.raises(ValueError, match="priority must be from 0 to 1000"):
        store.create("/m", "scan", priority=priority)


def test_create_takes_any_well_formed_type_and_refuses_malformed_ones(store: SqliteStore) -> None:
    """Job types are open (plugins): the store checks the name's form only, and stores params."""
    job = store.create("/m", "checksum", params={"algo": "sha256"})
    assert (job["job_type"], json.loads(job["params_json"])) == ("checksum", {"algo": "sha256"})
    for bad in ("Bogus", "", "a b", "x" * 41):
        with pytest.raises(ValueError, match="job type must be 1-40 characters"):
            store.create("/m", bad)


def test_submit_with_an_idempotency_key_queues_one_job(store: SqliteStore) -> None:
    """The same key and request give the first job back; another request under it conflicts."""
    first, created = store.submit("/m", "scan", idempotency_key="k1", request_hash="h1")
    again, created_again = store.submit("/m", "scan", idempotency_key="k1", request_hash="h1")
    assert (created, created_again) == (True, False) and again["id"] == first["id"]
    assert store.list(ListQuery())[1] == 1
    with pytest.raises(IdempotencyConflict):
        store.submit("/m", "scan", idempotency_key="k1", request_hash="other")
    other, created_other = store.submit("/m", "scan", idempotency_key="k2", request_hash="h1")
    assert created_other and other["id"] != first["id"]


def test_workers_register_beat_and_stop(store: SqliteStore) -> None:
    """The registry keeps each worker's host, pid, types and current job; stop marks it."""
    job = store.create("/m", "scan")
    worker_id = store.register_worker("host-a", 4242, ("scan", "transcode"))
    assert store.worker_heartbeat(worker_id, job["id"]) is True
    (row,) = store.workers()
    assert (row["host"], row["pid"], json.loads(row["types_json"])) == ("host-a", 4242, ["scan", "transcode"])
    assert (row["current_job_id"], row["current_job_type"], row["current_job_path"]) == (job["id"], "scan", "/m")
    store.worker_stopped(worker_id)
    (row,) = store.workers()
    assert row["stopped_at"] is not None and row["current_job_id"] is None
    assert store.worker_heartbeat("no-such-worker", None) is False


def test_job_types_lists_the_types_present(store: SqliteStore) -> None:
    """job_types() names every type that has jobs, from the trigger-kept counts."""
    assert store.job_types() == []
    for job_type in ("transcode", "scan", "scan"):
        store.create("/m", job_type)
    assert store.job_types() == ["scan", "transcode"]


def test_create_keeps_odd_paths_verbatim(store: SqliteStore) -> None:
    """Paths are data: newlines, quotes and markup are stored unchanged."""
    path = "/m/<img src=x onerror=alert(1)>\n'; DROP TABLE jobs; --"
    job = store.create(path, "scan")
    assert store.get(job["id"])["file_path"] == path  # type: ignore[index]


@pytest.mark.parametrize("job_id", [UNKNOWN, "not-a-uuid", "", "../../etc/passwd", CANONICAL.upper()])
def test_get_unknown_or_invalid_id_is_none(store: SqliteStore, job_id: str) -> None:
    """Unknown ids and non-UUIDs give None."""
    store.create("/m", "scan")
    assert store.get(job_id) is None


# --- list --------------------------------------------------------------------------------


@pytest.fixture
def listing(store: SqliteStore) -> dict[str, str]:
    """Six jobs with set creation times (both offset styles), statuses, types and priorities."""
    spec = {
        # name: (type, status, priority, created_at)
        "A": ("scan", "queued", 100, z(ago(hours=1))),
        "B": ("move", "failed", 5, plus(ago(hours=2))),
        "C": ("scan", "completed", 500, z(ago(hours=30))),
        "D": ("transcode", "running", 5, plus(ago(days=3))),
        "E": ("apply", "cancelled", 1000, z(ago(days=8))),
        "F": ("scan", "failed", 0, plus(ago(minutes=10))),
    }
    ids: dict[str, str] = {}
    for name, (job_type, status, priority, created) in spec.items():
        job = store.create(f"/media/{name}", job_type, priority=priority)
        set_columns(store, job["id"], status=status, created_at=created)
        ids[name] = job["id"]
    return ids


def names(store: SqliteStore, ids: dict[str, str], **query: Any) -> tuple[str, int]:
    """List with a query; return the page as a string of job names, and the total."""
    by_id = {v: k for k, v in ids.items()}
    rows, total = store.list(ListQuery(**query), now=NOW)
    return "".join(by_id[r["id"]] for r in rows), total


def test_list_default_is_newest_first(store: SqliteStore, listing: dict[str, str]) -> None:
    """Without a query every job is listed, newest first, with the total."""
    assert names(store, listing) == ("FABCDE", 6)


def test_list_rows_are_whole_job_rows(store: SqliteStore, listing: dict[str, str]) -> None:
    """Listed rows carry every column, like get()."""
    rows, _ = store.list(ListQuery(limit=1), now=NOW)
    assert rows == [store.get(listing["F"])]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("failed",), "FB"),
        (("queued", "running"), "AD"),
        (("completed",), "C"),
        (("cancelled",), "E"),
        (("queued", "running", "completed", "failed", "cancelled"), "FABCDE"),
    ],
)
def test_list_by_status(store: SqliteStore, listing: dict[str, str], statuses: tuple[str, ...], expected: str) -> None:
    """A status list keeps jobs in any of the statuses; the total counts only those."""
    assert names(store, listing, statuses=statuses) == (expected, len(expected))


@pytest.mark.parametrize(
    ("types", "expected"),
    [(("scan",), "FAC"), (("scan", "move"), "FABC"), (("prune",), ""), (("transcode", "apply"), "DE")],
)
def test_list_by_type(store: SqliteStore, listing: dict[str, str], types: tuple[str, ...], expected: str) -> None:
    """A type list keeps jobs of any of the types."""
    assert names(store, listing, types=types) == (expected, len(expected))


@pytest.mark.parametrize(("since", "expected"), [("24h", "FAB"), ("7d", "FABCD")])
def test_list_since(store: SqliteStore, listing: dict[str, str], since: str, expected: str) -> None:
    """since keeps jobs created within the window, whether stored with Z or +00:00."""
    assert names(store, listing, since=since) == (expected, len(expected))


def test_list_filters_combine(store: SqliteStore, listing: dict[str, str]) -> None:
    """Status, type and since filters all apply together."""
    assert names(store, listing, statuses=("failed",), types=("scan",)) == ("F", 1)
    assert names(store, listing, statuses=("failed", "completed"), types=("scan",), since="7d") == ("FC", 2)
    assert names(store, listing, statuses=("running",), since="24h") == ("", 0)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", "EDCBAF"),
        ("-created_at", "FABCDE"),
        ("status", "ECBFAD"),
        ("-status", "DAFBCE"),
        ("job_type", "EBCAFD"),
        ("-job_type", "DFACBE"),
        ("priority", "FDBACE"),
        ("-priority", "ECABDF"),
    ],
)
def test_list_every_sort_and_direction(store: SqliteStore, listing: dict[str, str], sort: str, expected: str) -> None:
    """Each sort key orders by that column, ties broken by creation time in the same direction."""
    assert names(store, listing, sort=sort) == (expected, 6)


def test_every_sort_is_covered() -> None:
    """The sort table above covers every sort the query parser accepts."""
    assert set(SORTS) == {
        "created_at",
        "-created_at",
        "status",
        "-status",
        "job_type",
        "-job_type",
        "priority",
        "-priority",
    }


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [(2, 0, "ED"), (2, 2, "CB"), (2, 4, "AF"), (4, 4, "AF"), (100, 5, "F"), (2, 6, ""), (1, 1000, "")],
)
def test_list_limit_and_offset(
    store: SqliteStore, listing: dict[str, str], limit: int, offset: int, expected: str
) -> None:
    """limit and offset page through the sorted list; total stays the full count."""
    assert names(store, listing, sort="created_at", limit=limit, offset=offset) == (expected, 6)


def test_list_counts_rows_written_by_another_process(store: SqliteStore, listing: dict[str, str]) -> None:
    """A row inserted by another connection is listed and counted."""
    with other_writer(store) as conn:
        conn.execute(
            "INSERT INTO jobs (id, file_path, job_type, status, created_at) VALUES (?, '/x', 'prune', 'queued', ?)",
            (str(uuid.uuid4()), plus(ago(minutes=1))),
        )
    rows, total = store.list(ListQuery(), now=NOW)
    assert total == 7 and rows[0]["file_path"] == "/x"


def test_list_empty_store(store: SqliteStore) -> None:
    """An empty store lists nothing with a total of 0."""
    assert store.list(ListQuery()) == ([], 0)


def test_since_uses_the_current_time_by_default(store: SqliteStore) -> None:
    """Without `now`, since counts back from the real clock."""
    recent = store.create("/recent", "scan")
    old = store.create("/old", "scan")
    set_columns(store, old["id"], created_at=z(datetime.now(UTC) - timedelta(days=2)))
    rows, total = store.list(ListQuery(since="24h"))
    assert [r["id"] for r in rows] == [recent["id"]] and total == 1


def test_since_compares_instants_at_the_window_edge(store: SqliteStore) -> None:
    """At the edge of the window, since compares instants, for every timestamp style the orchestrator writes."""
    now = datetime(2026, 3, 10, 12, 0, 0, 500000, tzinfo=UTC)
    edge = now - timedelta(hours=24)  # 2026-03-09T12:00:00.500Z
    cases = {
        "in_z_millis": "2026-03-09T12:00:00.700Z",
        "in_offset_millis": "2026-03-09T12:00:00.700+00:00",
        "out_z_millis": "2026-03-09T12:00:00.300Z",
        "out_offset_whole": "2026-03-09T12:00:00+00:00",
        "out_z_whole": "2026-03-09T12:00:00Z",  # e.g. Go's RFC 3339, or JS without millis
    }
    ids = {}
    for name, created in cases.items():
        job = store.create(f"/{name}", "scan")
        set_columns(store, job["id"], created_at=created)
        ids[job["id"]] = name
        assert (parse_iso(created) >= edge) == name.startswith("in_")  # type: ignore[operator]
    rows, total = store.list(ListQuery(since="24h"), now=now)
    assert sorted(ids[r["id"]] for r in rows) == ["in_offset_millis", "in_z_millis"]
    assert total == 2


def test_created_at_sort_orders_instants_across_timestamp_styles(store: SqliteStore) -> None:
    """Sorting by created_at follows time even when styles (whole seconds with Z, millis) mix."""
    first = store.create("/first", "scan")
    second = store.create("/second", "scan")
    set_columns(store, first["id"], created_at="2026-03-09T12:00:00Z")
    set_columns(store, second["id"], created_at="2026-03-09T12:00:00.300Z")
    rows, _ = store.list(ListQuery(sort="created_at"), now=NOW)
    assert [r["file_path"] for r in rows] == ["/first", "/second"]


# --- claim -------------------------------------------------------------------------------


def test_claim_order_is_priority_then_age(store: SqliteStore) -> None:
    """Claims take the lowest priority number first, and the oldest among equals."""
    spec = [("p100_old", 100, 50), ("p5_new", 5, 1), ("p100_new", 100, 10), ("p5_old", 5, 30), ("p0", 0, 0)]
    for name, priority, minutes in spec:
        job = store.create(f"/{name}", "scan", priority=priority)
        set_columns(store, job["id"], created_at=z(ago(minutes=minutes)))
    claimed = []
    while (job := store.claim(PID, ("scan",))) is not None:
        claimed.append(job["file_path"])
    assert claimed == ["/p0", "/p5_old", "/p5_new", "/p100_old", "/p100_new"]


def test_claim_marks_the_job_running_for_the_worker(store: SqliteStore) -> None:
    """A claimed job is running, started now, with the worker's pid and a heartbeat."""
    job = store.create("/m", "scan")
    claimed = store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"]
    assert claimed["status"] == "running"
    assert claimed["worker_pid"] == PID
    assert claimed["started_at"] is not None and claimed["worker_heartbeat"] == claimed["started_at"]
    assert claimed["completed_at"] is None
    assert store.get(job["id"]) == claimed


def test_claim_only_takes_the_given_job_types(store: SqliteStore) -> None:
    """Jobs of other types stay queued for the workers that handle them."""
    move = store.create("/move", "move", priority=0)
    scan = store.create("/scan", "scan", priority=500)
    assert store.claim(PID, ("scan",))["id"] == scan["id"]  # type: ignore[index]
    assert store.claim(PID, ("scan",)) is None
    assert store.get(move["id"])["status"] == "queued"  # type: ignore[index]
    assert store.claim(PID, ("scan", "move"))["id"] == move["id"]  # type: ignore[index]


def test_claim_skips_non_queued_jobs(store: SqliteStore) -> None:
    """Running and finished jobs are never claimed; an empty queue gives None."""
    for status in ("running", "completed", "failed", "cancelled"):
        job = store.create(f"/{status}", "scan")
        set_columns(store, job["id"], status=status)
    assert store.claim(PID, ("scan",)) is None


def test_claim_requires_job_types(store: SqliteStore) -> None:
    """A worker must name at least one job type."""
    with pytest.raises(AssertionError):
        store.claim(PID, ())


CLAIMER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from jobdash.store.factory import open_store

    store = open_store(Path(sys.argv[1]), database_url=sys.argv[2] or None)
    print("ready", flush=True)
    sys.stdin.readline()
    claimed = []
    while (job := store.claim(os.getpid(), ("scan",))) is not None:
        claimed.append(job["id"])
    store.close()
    print(json.dumps(claimed), flush=True)
    """
)


def test_two_worker_processes_never_claim_the_same_job(
    store: SqliteStore, store_url: str | None, tmp_path: Path
) -> None:
    """Two processes claiming concurrently from 200 jobs claim each job exactly once."""
    expected = {store.create(f"/m/{i}", "scan")["id"] for i in range(200)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(tmp_path), store_url or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:  # both are connected before either starts claiming
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
    claimed = [json.loads(out) for out, _ in outputs]
    assert len(claimed[0]) + len(claimed[1]) == 200
    assert not set(claimed[0]) & set(claimed[1])
    assert set(claimed[0]) | set(claimed[1]) == expected
    for proc, ids in zip(procs, claimed, strict=True):
        for job_id in ids[:20]:
            row = store.get(job_id)
            assert row is not None and row["status"] == "running" and row["worker_pid"] == proc.pid


# --- heartbeat, progress, finish, release --------------------------------------------------


@pytest.fixture
def running(store: SqliteStore) -> dict[str, Any]:
    """A job claimed by worker PID."""
    store.create("/media", "scan")
    job = store.claim(PID, ("scan",))
    assert job is not None
    return job


def test_heartbeat_refreshes_a_running_job(store: SqliteStore, running: dict[str, Any]) -> None:
    """heartbeat() stores a fresh worker_heartbeat."""
    set_columns(store, running["id"], worker_heartbeat="2000-01-01T00:00:00.000Z")
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert store.heartbeat(running["id"]) is True
    beat = parse_iso(store.get(running["id"])["worker_heartbeat"])  # type: ignore[index]
    assert beat is not None and beat >= before


def test_heartbeat_of_a_job_that_is_not_running_is_false(store: SqliteStore, running: dict[str, Any]) -> None:
    """A cancelled (or unknown) job's heartbeat is refused, telling the worker to stop."""
    store.cancel(running["id"])
    assert store.heartbeat(running["id"]) is False
    assert store.heartbeat(str(uuid.uuid4())) is False


def test_progress_records_percent_and_counts(store: SqliteStore, running: dict[str, Any]) -> None:
    """progress() stores the percent (2 decimals) and progress_json with processed/total/unit."""
    assert store.progress(running["id"], 1, 3) is True
    row = store.get(running["id"])
    assert row is not None
    assert row["progress_percent"] == 33.33
    assert json.loads(row["progress_json"]) == {"processed": 1, "total": 3, "unit": "files"}
    assert store.progress(running["id"], 25, 100, unit="bytes") is True
    row = store.get(running["id"])
    assert row is not None and row["progress_percent"] == 25.0
    assert json.loads(row["progress_json"]) == {"processed": 25, "total": 100, "unit": "bytes"}


def test_progress_with_zero_total_is_zero_percent(store: SqliteStore, running: dict[str, Any]) -> None:
    """An empty directory (0 of 0) is 0 % rather than a division by zero."""
    assert store.progress(running["id"], 0, 0) is True
    assert store.get(running["id"])["progress_percent"] == 0  # type: ignore[index]


def test_progress_also_heartbeats(store: SqliteStore, running: dict[str, Any]) -> None:
    """A progress write refreshes worker_heartbeat too."""
    set_columns(store, running["id"], worker_heartbeat="2000-01-01T00:00:00.000Z")
    store.progress(running["id"], 1, 2)
    assert store.get(running["id"])["worker_heartbeat"] != "2000-01-01T00:00:00.000Z"  # type: ignore[index]


def test_progress_of_a_cancelled_job_is_false(store: SqliteStore, running: dict[str, Any]) -> None:
    """Once cancelled, progress() returns False and changes nothing."""
    store.progress(running["id"], 1, 4)
    store.cancel(running["id"])
    assert store.progress(running["id"], 2, 4) is False
    row = store.get(running["id"])
    assert row is not None and row["progress_percent"] == 25.0


# progress_updated_at: when the counts last changed (a running job's "no progress for 2 min").
LONG_AGO = "2000-01-01T00:00:00.000Z"


def test_progress_updated_at_is_set_by_the_first_progress_report(store: SqliteStore, running: dict[str, Any]) -> None:
    """A claimed job has none; its first progress report stamps it, at the moment of the
    write (the heartbeat's), as the store writes every timestamp."""
    assert running["progress_updated_at"] is None
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert store.progress(running["id"], 1, 4) is True
    row = store.get(running["id"])
    assert row is not None
    stamp = parse_iso(row["progress_updated_at"])
    assert stamp is not None and stamp >= before
    assert row["progress_updated_at"] == row["worker_heartbeat"]
    assert row["progress_updated_at"].endswith("Z") and len(row["progress_updated_at"]) == len(LONG_AGO)


def test_progress_updated_at_stays_for_the_same_progress_and_heartbeats(
    store: SqliteStore, running: dict[str, Any]
) -> None:
    """A heartbeat, or the same counts written again, is no progress: the moment stays
    while the heartbeat moves on."""
    store.progress(running["id"], 1, 4, unit="bytes")
    set_columns(store, running["id"], progress_updated_at=LONG_AGO, worker_heartbeat=LONG_AGO)
    assert store.heartbeat(running["id"]) is True
    assert store.get(running["id"])["progress_updated_at"] == LONG_AGO  # type: ignore[index]
    set_columns(store, running["id"], worker_heartbeat=LONG_AGO)
    assert store.progress(running["id"], 1, 4, unit="bytes") is True
    row = store.get(running["id"])
    assert row is not None and row["progress_updated_at"] == LONG_AGO
    assert row["worker_heartbeat"] != LONG_AGO


@pytest.mark.parametrize(
    ("processed", "total", "unit"), [(2, 4, "bytes"), (1, 5, "bytes"), (1, 4, "files")], ids=["count", "total", "unit"]
)
def test_progress_updated_at_moves_when_the_progress_changes(
    store: SqliteStore, running: dict[str, Any], processed: int, total: int, unit: str
) -> None:
    """A new count, a new total or a new unit is a change: the moment is the write's."""
    store.progress(running["id"], 1, 4, unit="bytes")
    set_columns(store, running["id"], progress_updated_at=LONG_AGO)
    assert store.progress(running["id"], processed, total, unit=unit) is True
    row = store.get(running["id"])
    assert row is not None and row["progress_updated_at"] != LONG_AGO
    assert row["progress_updated_at"] == row["worker_heartbeat"]


def test_progress_updated_at_of_a_cancelled_job_stays(store: SqliteStore, running: dict[str, Any]) -> None:
    """A refused progress write (the job was cancelled) changes nothing."""
    store.progress(running["id"], 1, 4)
    set_columns(store, running["id"], progress_updated_at=LONG_AGO)
    store.cancel(running["id"])
    assert store.progress(running["id"], 2, 4) is False
    assert store.get(running["id"])["progress_updated_at"] == LONG_AGO  # type: ignore[index]


def test_a_claim_starts_progress_updated_at_afresh(store: SqliteStore) -> None:
    """A job queued again (released, or by another program that left the column set) and
    claimed again has no progress moment until its new run reports progress."""
    job = store.create("/again", "scan")
    store.claim(PID, ("scan",))
    store.progress(job["id"], 3, 4)
    assert store.release(job["id"]) is True
    assert store.get(job["id"])["progress_updated_at"] is None  # type: ignore[index]
    claimed = store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"] and claimed["progress_updated_at"] is None
    set_columns(store, job["id"], status="queued", progress_updated_at=LONG_AGO)
    claimed = store.claim(PID, ("scan",))
    assert claimed is not None and claimed["id"] == job["id"] and claimed["progress_updated_at"] is None
    assert store.get(job["id"])["progress_updated_at"] is None  # type: ignore[index]


def test_recovery_clears_progress_updated_at_of_a_requeued_job_only(store: SqliteStore) -> None:
    """A dead worker's job queued again loses its progress moment with its progress; a
    job failed for it keeps both, as they were when the worker was lost."""
    worker = store.register_worker("host-a", PID, ("scan", "move"), ("scan",))
    scan = store.create("/scan", "scan", priority=1)
    move = store.create("/move", "move", priority=2)
    for job in (scan, move):
        store.claim(PID, (job["job_type"],), worker_id=worker)
        store.progress(job["id"], 1, 2, worker_id=worker)
        set_columns(store, job["id"], worker_heartbeat=z(ago(minutes=5)), progress_updated_at=z(ago(minutes=6)))
    assert {row["id"] for row in store.recover_stale(60, now=NOW)} == {scan["id"], move["id"]}
    requeued, failed = store.get(scan["id"]), store.get(move["id"])
    assert requeued is not None and requeued["status"] == "queued" and requeued["progress_updated_at"] is None
    assert failed is not None and failed["status"] == "failed"
    assert failed["progress_updated_at"] == z(ago(minutes=6))


def test_finish_completed_stores_the_summary(store: SqliteStore, running: dict[str, Any]) -> None:
    """A completed job has its summary, 100 %, a completion time and an output path."""
    summary = {"files_found": 2, "containers": {"mp4": 2}}
    assert store.finish(running["id"], "completed", summary=summary, output_path="/out") is True
    row = store.get(running["id"])
    assert row is not None
    assert row["status"] == "completed" and row["progress_percent"] == 100
    assert json.loads(row["summary_json"]) == summary
    assert row["output_path"] == "/out" and row["completed_at"] is not None
    assert row["error_message"] is None


def test_finish_failed_stores_the_error(store: SqliteStore, running: dict[str, Any]) -> None:
    """A failed job keeps its progress and records the error message."""
    store.progress(running["id"], 1, 4)
    assert store.finish(running["id"], "failed", error_message="disk gone") is True
    row = store.get(running["id"])
    assert row is not None
    assert (row["status"], row["error_message"], row["progress_percent"]) == ("failed", "disk gone", 25.0)
    assert row["completed_at"] is not None


def test_finish_cancelled(store: SqliteStore, running: dict[str, Any]) -> None:
    """A running job can end as cancelled."""
    assert store.finish(running["id"], "cancelled") is True
    row = store.get(running["id"])
    assert row is not None and row["status"] == "cancelled" and row["completed_at"] is not None


def test_finish_rejects_a_non_final_status(store: SqliteStore, running: dict[str, Any]) -> None:
    """Only completed, failed or cancelled are endings."""
    with pytest.raises(AssertionError):
        store.finish(running["id"], "queued")


def test_finish_after_operator_cancel(store: SqliteStore, running: dict[str, Any]) -> None:
    """A job cancelled while running cannot complete, but its worker may add the summary."""
    cancelled = store.cancel(running["id"])
    assert cancelled is not None
    assert store.finish(running["id"], "completed", summary={"n": 1}) is False
    assert store.finish(running["id"], "failed", error_message="x") is False
    assert store.finish(running["id"], "cancelled", summary={"n": 1}) is True
    row = store.get(running["id"])
    assert row is not None
    assert row["status"] == "cancelled"
    assert row["completed_at"] == cancelled["completed_at"]  # the operator's moment is kept
    assert json.loads(row["summary_json"]) == {"n": 1} and row["error_message"] is None


def test_finish_of_a_queued_or_finished_job_is_false(store: SqliteStore, running: dict[str, Any]) -> None:
    """Only running jobs can be finished; a second finish changes nothing."""
    queued = store.create("/q", "scan")
    assert store.finish(queued["id"], "completed") is False
    assert store.finish(running["id"], "completed", summary={"a": 1}) is True
    assert store.finish(running["id"], "failed", error_message="late") is False
    row = store.get(running["id"])
    assert row is not None and row["status"] == "completed" and row["error_message"] is None


def test_release_returns_a_running_job_to_the_queue(store: SqliteStore, running: dict[str, Any]) -> None:
    """release() makes the job queued again, without worker, start time or progress."""
    store.progress(running["id"], 1, 2)
    assert store.release(running["id"]) is True
    row = store.get(running["id"])
    assert row is not None
    assert row["status"] == "queued"
    for column in (
        "started_at",
        "worker_pid",
        "worker_heartbeat",
        "progress_json",
        "completed_at",
        "progress_updated_at",
    ):
        assert row[column] is None
    assert row["progress_percent"] == 0
    assert store.claim(PID + 1, ("scan",))["id"] == running["id"]  # type: ignore[index]


def test_release_of_a_job_that_is_not_running_is_false(store: SqliteStore, running: dict[str, Any]) -> None:
    """A cancelled job is not put back in the queue."""
    store.cancel(running["id"])
    assert store.release(running["id"]) is False
    assert store.get(running["id"])["status"] == "cancelled"  # type: ignore[index]


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_a_queued_job(store: SqliteStore) -> None:
    """A queued job is cancelled at once and will never be claimed."""
    job = store.create("/m", "scan")
    row = store.cancel(job["id"])
    assert row is not None and row["status"] == "cancelled" and row["completed_at"] is not None
    assert row["started_at"] is None
    assert store.claim(PID, ("scan",)) is None


def test_cancel_a_running_job(store: SqliteStore, running: dict[str, Any]) -> None:
    """A running job becomes cancelled; its worker learns at the next heartbeat or progress."""
    row = store.cancel(running["id"])
    assert row is not None and row["status"] == "cancelled"
    assert row["started_at"] == running["started_at"]
    assert store.get(running["id"]) == row


@pytest.mark.parametrize("ending", ["completed", "failed", "cancelled"])
def test_cancel_a_finished_job_is_none(store: SqliteStore, running: dict[str, Any], ending: str) -> None:
    """A job that already ended cannot be cancelled: None, and the row is unchanged."""
    store.finish(running["id"], ending)
    before = store.get(running["id"])
    assert store.cancel(running["id"]) is None
    assert store.get(running["id"]) == before


@pytest.mark.parametrize("job_id", [UNKNOWN, "nope", "", "' OR 1=1 --"])
def test_cancel_unknown_or_invalid_id_is_none(store: SqliteStore, job_id: str) -> None:
    """Cancelling an unknown id or a non-UUID does nothing."""
    job = store.create("/m", "scan")
    assert store.cancel(job_id) is None
    assert store.get(job["id"])["status"] == "queued"  # type: ignore[index]


# --- recover_stale ------------------------------------------------------------------------------


def test_recover_stale_fails_only_abandoned_running_jobs(store: SqliteStore) -> None:
    """A running job with an old heartbeat fails saying its worker was lost; fresh and queued jobs are untouched."""
    stale = store.create("/stale", "scan", priority=0)
    fresh = store.create("/fresh", "scan", priority=1)
    queued = store.create("/queued", "scan", priority=2)
    store.claim(PID, ("scan",))
    store.claim(PID + 1, ("scan",))
    set_columns(store, queued["id"], created_at=z(ago(days=30)))
    set_columns(store, stale["id"], worker_heartbeat=z(ago(seconds=61)), worker_pid=PID)
    set_columns(store, fresh["id"], worker_heartbeat=z(ago(seconds=59)), worker_pid=PID + 1)
    fresh_before = store.get(fresh["id"])
    queued_before = store.get(queued["id"])

    recovered = store.recover_stale(60, now=NOW)

    assert [job["id"] for job in recovered] == [stale["id"]]
    row = store.get(stale["id"])
    assert row is not None and row["status"] == "failed"
    assert row["completed_at"] is not None
    message = row["error_message"]
    assert "worker lost" in message.lower()
    assert "no heartbeat for over 60 s" in message
    assert str(PID) in message
    assert recovered[0]["error_message"] == message
    assert store.get(fresh["id"]) == fresh_before
    assert store.get(queued["id"]) == queued_before
    assert store.recover_stale(60, now=NOW) == []


def test_recover_stale_reads_offset_heartbeats_and_falls_back_to_start(store: SqliteStore) -> None:
    """Heartbeats written with +00:00 count; a job with no heartbeat is judged by its start time."""
    offset = store.create("/offset", "scan")
    no_beat = store.create("/no-beat", "scan")
    store.claim(PID, ("scan",))
    store.claim(PID, ("scan",))
    set_columns(store, offset["id"], worker_heartbeat=plus(ago(minutes=5)))
    set_columns(store, no_beat["id"], worker_heartbeat=None, started_at=plus(ago(minutes=5)))
    recovered = store.recover_stale(60, now=NOW)
    assert {job["id"] for job in recovered} == {offset["id"], no_beat["id"]}
    assert "last heartbeat never" in store.get(no_beat["id"])["error_message"]  # type: ignore[index]


def test_recover_stale_uses_the_real_clock_by_default(store: SqliteStore, running: dict[str, Any]) -> None:
    """A job that just heartbeat is not stale; one silent for longer than the threshold is."""
    assert store.recover_stale(10) == []
    set_columns(store, running["id"], worker_heartbeat=z(datetime.now(UTC) - timedelta(seconds=30)))
    assert [job["id"] for job in store.recover_stale(10)] == [running["id"]]


# --- log_path ---------------------------------------------------------------------------------


def test_the_log_mark_changes_when_the_log_grows(sqlite_store: SqliteStore) -> None:
    job = sqlite_store.create("/m", "scan")
    assert sqlite_store.log_mark(job) is None  # no log yet
    with sqlite_store.open_log(job) as log:
        log.write("one")
    first = sqlite_store.log_mark(job)
    assert first is not None and sqlite_store.log_mark(job) == first
    with sqlite_store.open_log(job) as log:
        log.write("two")
    assert sqlite_store.log_mark(job) not in (None, first)


def test_log_path_default_is_in_the_logs_dir(sqlite_store: SqliteStore) -> None:
    """With no stored log_path the log is <data dir>/logs/<id>.log."""
    job = sqlite_store.create("/m", "scan")
    assert sqlite_store.log_path(job) == sqlite_store.data_dir / "logs" / f"{job['id']}.log"
    assert sqlite_store.log_path({**job, "log_path": ""}) == sqlite_store.data_dir / "logs" / f"{job['id']}.log"


def test_log_path_relative_is_under_the_data_dir(sqlite_store: SqliteStore) -> None:
    """A relative stored log_path is relative to the data directory."""
    job = sqlite_store.create("/m", "scan")
    set_columns(sqlite_store, job["id"], log_path="custom/job.log")
    assert sqlite_store.log_path(sqlite_store.get(job["id"])) == sqlite_store.data_dir / "custom" / "job.log"  # type: ignore[arg-type]


def test_log_path_absolute_is_kept(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    """An absolute stored log_path is used as is."""
    job = sqlite_store.create("/m", "scan")
    target = tmp_path / "elsewhere" / "x.log"
    set_columns(sqlite_store, job["id"], log_path=str(target))
    assert sqlite_store.log_path(sqlite_store.get(job["id"])) == target  # type: ignore[arg-type]


def test_log_path_default_refuses_a_non_uuid_id(sqlite_store: SqliteStore) -> None:
    """A non-UUID id never becomes a file name under logs/."""
    with pytest.raises(ValueError, match="not a UUID"):
        sqlite_store.log_path({"id": "../../etc/passwd", "log_path": None})


# --- version ----------------------------------------------------------------------------------


def test_version_moves_on_every_store_write(store: SqliteStore) -> None:
    """create, claim, progress, finish, cancel and release each move the counter."""
    seen = [store.version()]

    def moved() -> None:
        seen.append(store.version())
        assert seen[-1] > seen[-2]

    job = store.create("/a", "scan")
    moved()
    store.claim(PID, ("scan",))
    moved()
    store.progress(job["id"], 1, 2)
    moved()
    store.release(job["id"])
    moved()
    store.claim(PID, ("scan",))
    moved()
    store.finish(job["id"], "completed")
    moved()
    other = store.create("/b", "scan")
    moved()
    store.cancel(other["id"])
    moved()


def test_a_heartbeat_leaves_the_version_alone(store: SqliteStore) -> None:
    """A heartbeat changes nothing any reader is shown: kept answers stay valid."""
    job = store.create("/a", "scan")
    store.claim(PID, ("scan",))
    before = store.version()
    assert store.heartbeat(job["id"])
    assert store.version() == before
    assert store.progress(job["id"], 1, 2)
    assert store.version() > before


def test_version_moves_for_writes_by_another_connection(store: SqliteStore) -> None:
    """Rows inserted, updated or deleted by another process move the counter too."""
    start = store.version()
    job_id = str(uuid.uuid4())
    with other_writer(store) as conn:
        conn.execute(
            "INSERT INTO jobs (id, file_path, job_type, created_at) VALUES (?, '/x', 'scan', ?)",
            (job_id, z(NOW)),
        )
    after_insert = store.version()
    assert after_insert > start
    with other_writer(store) as conn:
        conn.execute("UPDATE jobs SET status = 'failed' WHERE id = ?", (job_id,))
    after_update = store.version()
    assert after_update > after_insert
    with other_writer(store) as conn:
        conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
    assert store.version() > after_update


def test_version_is_stable_without_writes(store: SqliteStore) -> None:
    """Reads and no-op calls leave the counter alone."""
    store.create("/a", "scan")
    version = store.version()
    store.list(ListQuery())
    store.get(str(uuid.uuid4()))
    assert store.claim(PID, ("move",)) is None
    assert store.cancel(str(uuid.uuid4())) is None
    assert store.version() == version


# --- ids_with_prefix ---------------------------------------------------------------------------


def test_ids_with_prefix(store: SqliteStore) -> None:
    """A short id (as `jobdash jobs` prints) finds its job; limit caps the matches."""
    ids = []
    for first in "0a0f":
        job = store.create("/m", "scan")
        new_id = first + job["id"][1:]
        set_columns(store, job["id"], id=new_id)
        ids.append(new_id)
    a_id, f_id = ids[1], ids[3]
    assert store.ids_with_prefix(a_id[:8]) == [a_id]
    assert store.ids_with_prefix(a_id) == [a_id]
    assert store.ids_with_prefix("f") == [f_id]
    assert store.ids_with_prefix("0") == sorted([ids[0], ids[2]])
    assert store.ids_with_prefix("0", limit=1) == [min(ids[0], ids[2])]
    assert len(store.ids_with_prefix("", limit=10)) == 4
    assert store.ids_with_prefix("b") == []
    assert store.ids_with_prefix("%") == [] and store.ids_with_prefix("_") == []


def test_data_written_by_other_processes_is_as_real(store: SqliteStore) -> None:
    """A job created by another process can be read, claimed and finished through the store."""
    job_id = str(uuid.uuid4())
    with other_writer(store) as conn:
        conn.execute(
            "INSERT INTO jobs (id, file_path, job_type, created_at, priority) VALUES (?, '/o', 'scan', ?, 0)",
            (job_id, plus(NOW)),
        )
    assert store.get(job_id) is not None
    assert store.claim(os.getpid(), ("scan",))["id"] == job_id  # type: ignore[index]
    assert store.finish(job_id, "completed") is True


def test_totals_match_the_table_after_any_mix_of_writes(store: SqliteStore) -> None:
    """Every listing's total equals a real COUNT(*), after the store's own writes and
    inserts, updates and deletes by another process."""
    import itertools
    import random

    from jobdash.model.states import JOB_TYPES, STATUSES

    rng = random.Random(7)
    ids = [store.create(f"/m/{i}", rng.choice(JOB_TYPES))["id"] for i in range(120)]
    while store.claim(PID, ("scan", "move")) is not None:
        pass
    for job_id in ids[:30]:
        store.cancel(job_id)
    with other_writer(store) as conn:
        for job_id in ids[30:60]:
            conn.execute(
                "UPDATE jobs SET status = ?, job_type = ? WHERE id = ?",
                (rng.choice(STATUSES), rng.choice(JOB_TYPES), job_id),
            )
        conn.execute("DELETE FROM jobs WHERE id IN (?, ?, ?)", tuple(ids[60:63]))
        conn.execute(
            "INSERT INTO jobs (id, file_path, job_type, status, created_at)"
            " VALUES ('0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11', '/x', 'prune', 'failed', '2026-01-01T00:00:00Z')"
        )
    with other_writer(store) as conn:
        actual = dict(
            ((s, t), n) for s, t, n in conn.execute("SELECT status, job_type, COUNT(*) FROM jobs GROUP BY 1, 2")
        )
    for statuses, types in itertools.product(
        [(), ("failed",), ("queued", "running")], [(), ("scan",), ("move", "prune")]
    ):
        expected = sum(
            n for (s, t), n in actual.items() if (not statuses or s in statuses) and (not types or t in types)
        )
        _, total = store.list(ListQuery(statuses=statuses, types=types))
        assert total == expected, (statuses, types)
