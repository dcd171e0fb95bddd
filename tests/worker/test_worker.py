"""The worker: claiming, running handlers, recording outcomes, heartbeats, stopping (jobdash.worker.loop)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jobdash.jobs.sample_library import make_library
from jobdash.model.staleness import recovery_interval
from jobdash.store.interface import StoreUnavailable
from jobdash.store.postgres.log_writer import DatabaseJobLog
from jobdash.store.sqlite.store import SqliteStore
from jobdash.util.timestamps import parse_iso, to_iso
from jobdash.worker import loop as worker_module
from jobdash.worker.context import JobContext, JobFailed
from jobdash.worker.loop import Worker
from support.sqlhelpers import set_columns

T = TypeVar("T")
Handler = Callable[[JobContext], dict[str, Any]]
DEADLINE_S = 20.0


def wait_for(check: Callable[[], T | None], what: str, timeout: float = DEADLINE_S) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    give_up = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def make_worker(store: SqliteStore, handlers: dict[str, Handler], **options: float) -> Worker:
    """A Worker with fast heartbeat and idle polling, for tests."""
    settings: dict[str, float] = {"stale_after": 10.0, "heartbeat_interval": 0.05, "idle_poll": 0.01}
    settings.update(options)
    return Worker(store, handlers=handlers, **settings)  # type: ignore[arg-type]


@contextlib.contextmanager
def running_worker(worker: Worker) -> Iterator[threading.Thread]:
    """Run `worker.run()` in a thread; stop and join it on exit."""
    thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop()
        thread.join(DEADLINE_S)
        assert not thread.is_alive(), "worker did not stop"


def status_of(store: SqliteStore, job_id: str) -> str:
    """Return a job's status."""
    row = store.get(job_id)
    assert row is not None
    return str(row["status"])


def log_text(store: SqliteStore, job_id: str) -> str:
    """Return a job's whole log."""
    row = store.get(job_id)
    assert row is not None
    return "\n".join(store.read_log(row, 0, 10_000).lines)


def long_handler(started: threading.Event, *, force: bool = False) -> Handler:
    """A handler that reports progress in a loop until it is stopped (or gives up after the deadline)."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        started.set()
        give_up = time.monotonic() + DEADLINE_S
        step = 0
        while time.monotonic() < give_up:
            step += 1
            ctx.progress(step, 1_000_000, force=force)
            time.sleep(0.005)
        return {"never": "stopped"}

    return handler


# --- outcomes --------------------------------------------------------------------------------


def test_completed_job_has_its_summary(store: SqliteStore) -> None:
    """A handler that returns records completed, with its summary, progress and log lines."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        ctx.log("working on it")
        ctx.progress(0, 2, force=True)
        ctx.progress(2, 2, force=True)
        return {"files": 2, "note": "done"}

    job = store.create("/media", "scan")
    worker = make_worker(store, {"scan": handler})
    assert worker.run_once() is True
    row = store.get(job["id"])
    assert row is not None
    assert row["status"] == "completed"
    assert json.loads(row["summary_json"]) == {"files": 2, "note": "done"}
    assert row["progress_percent"] == 100 and row["completed_at"] is not None
    assert row["worker_pid"] == os.getpid()
    text = log_text(store, job["id"])
    assert f"job {job['id']} (scan /media) started by worker {os.getpid()}" in text
    assert "working on it" in text
    assert "job completed in" in text


def test_run_once_without_jobs_is_false(store: SqliteStore) -> None:
    """With nothing queued, run_once() claims nothing."""
    assert make_worker(store, {"scan": lambda ctx: {}}).run_once() is False


def test_only_handled_types_are_claimed(store: SqliteStore) -> None:
    """A worker leaves jobs of types it has no handler for in the queue."""
    move = store.create("/m", "move")
    assert make_worker(store, {"scan": lambda ctx: {}}).run_once() is False
    assert status_of(store, move["id"]) == "queued"


def test_job_failed_records_the_error_message(store: SqliteStore) -> None:
    """JobFailed ends the job as failed with its message, logged as an error."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        raise JobFailed("directory /media does not exist")

    job = store.create("/media", "scan")
    make_worker(store, {"scan": handler}).run_once()
    row = store.get(job["id"])
    assert row is not None
    assert (row["status"], row["error_message"]) == ("failed", "directory /media does not exist")
    assert "ERROR directory /media does not exist" in log_text(store, job["id"])


def test_job_failed_without_a_message(store: SqliteStore) -> None:
    """An empty JobFailed still gives the operator a message."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        raise JobFailed()

    job = store.create("/media", "scan")
    make_worker(store, {"scan": handler}).run_once()
    assert store.get(job["id"])["error_message"] == "the job failed"  # type: ignore[index]


def test_unexpected_exception_fails_the_job_and_the_worker_keeps_going(store: SqliteStore) -> None:
    """A handler bug fails its job with the exception's message (traceback in the log); the next job still runs."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        if ctx.job["file_path"] == "/buggy":
            return {"ratio": 1 / 0}
        return {"ok": True}

    buggy = store.create("/buggy", "scan", priority=0)
    fine = store.create("/fine", "scan", priority=1)
    worker = make_worker(store, {"scan": handler})
    with running_worker(worker) as thread:
        wait_for(lambda: status_of(store, fine["id"]) == "completed", "the second job to complete")
        assert thread.is_alive()
    row = store.get(buggy["id"])
    assert row is not None and row["status"] == "failed"
    assert row["error_message"].startswith("ZeroDivisionError: division by zero (in the scan handler")
    text = log_text(store, buggy["id"])
    assert "Traceback (most recent call last)" in text
    assert "ZeroDivisionError: division by zero" in text


def test_cancellation_seen_by_the_heartbeat(store: SqliteStore) -> None:
    """Cancelling a running job from another thread stops it at its next progress step: cancelled."""
    started = threading.Event()
    job = store.create("/media", "scan")
    worker = make_worker(store, {"scan": long_handler(started)}, heartbeat_interval=0.02)
    with running_worker(worker):
        assert started.wait(DEADLINE_S)
        assert store.cancel(job["id"]) is not None
        wait_for(lambda: "job cancelled by the operator" in log_text(store, job["id"]), "the cancellation")
    row = store.get(job["id"])
    assert row is not None and row["status"] == "cancelled" and row["summary_json"] is None


def test_cancellation_seen_by_a_progress_write(store: SqliteStore) -> None:
    """With a slow heartbeat, the next progress write notices the cancellation."""
    started = threading.Event()
    job = store.create("/media", "scan")
    worker = make_worker(store, {"scan": long_handler(started, force=True)}, heartbeat_interval=5.0)
    with running_worker(worker):
        assert started.wait(DEADLINE_S)
        wait_for(lambda: store.get(job["id"])["progress_json"], "a progress write")  # type: ignore[index]
        store.cancel(job["id"])
        wait_for(lambda: "job cancelled by the operator" in log_text(store, job["id"]), "the cancellation")
    assert status_of(store, job["id"]) == "cancelled"


def test_cancelled_just_before_finishing_keeps_the_summary(store: SqliteStore) -> None:
    """A job cancelled as its handler returns stays cancelled, with the summary of the work done."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        store.cancel(ctx.id)  # the operator's cancel lands between the last step and the end
        return {"files": 3}

    job = store.create("/media", "scan")
    make_worker(store, {"scan": handler}, heartbeat_interval=5.0).run_once()
    row = store.get(job["id"])
    assert row is not None
    assert row["status"] == "cancelled" and json.loads(row["summary_json"]) == {"files": 3}


def test_stop_while_running_releases_the_job(store: SqliteStore) -> None:
    """stop() during a job puts it back in the queue (for the next worker) and ends run()."""
    started = threading.Event()
    job = store.create("/media", "scan")
    worker = make_worker(store, {"scan": long_handler(started)})
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert started.wait(DEADLINE_S)
    worker.stop()
    thread.join(DEADLINE_S)
    assert not thread.is_alive()
    row = store.get(job["id"])
    assert row is not None
    assert row["status"] == "queued"
    assert (row["started_at"], row["worker_pid"], row["worker_heartbeat"]) == (None, None, None)
    assert "worker is stopping; job returned to the queue" in log_text(store, job["id"])


def test_heartbeat_refreshes_worker_heartbeat(store: SqliteStore) -> None:
    """While a handler runs without reporting progress, the heartbeat thread keeps worker_heartbeat fresh."""
    started, release = threading.Event(), threading.Event()

    def quiet(ctx: JobContext) -> dict[str, Any]:
        started.set()
        release.wait(DEADLINE_S)
        return {}

    job = store.create("/media", "scan")
    old = "2000-01-01T00:00:00.000Z"
    worker = make_worker(store, {"scan": quiet}, heartbeat_interval=0.02, stale_after=10.0)
    with running_worker(worker):
        assert started.wait(DEADLINE_S)
        set_columns(store, job["id"], worker_heartbeat=old)
        beat = wait_for(
            lambda: (lambda b: b if b != old else None)(store.get(job["id"])["worker_heartbeat"]),  # type: ignore[index]
            "a new heartbeat",
        )
        moment = parse_iso(beat)
        assert moment is not None and moment > datetime.now(UTC) - timedelta(seconds=10)
        assert store.recover_stale(10) == []
        release.set()
        wait_for(lambda: status_of(store, job["id"]) == "completed", "completion")


def test_stale_after_must_exceed_the_heartbeat_interval(store: SqliteStore) -> None:
    """A live worker must never look stale: stale_after <= heartbeat_interval is refused."""
    with pytest.raises(AssertionError):
        Worker(store, handlers={"scan": lambda ctx: {}}, stale_after=5.0, heartbeat_interval=5.0)


# --- recovery ---------------------------------------------------------------------------------


def abandoned_job(store: SqliteStore, *, age_s: float = 60.0) -> dict[str, Any]:
    """A running job of a dead worker whose last heartbeat is `age_s` seconds old."""
    job = store.create("/media", "scan")
    store.claim(999_999, ("scan",))
    old = to_iso(datetime.now(UTC) - timedelta(seconds=age_s))
    set_columns(store, job["id"], worker_heartbeat=old)
    return job


def test_recovery_interval() -> None:
    """Recovery runs at a quarter of the threshold, between 1 and 10 seconds."""
    assert recovery_interval(60) == 10.0  # found within --stale-after + 10 s
    assert recovery_interval(20) == 5.0
    assert recovery_interval(4) == 1.0
    assert recovery_interval(1000) == 10.0


def test_recover_if_due_fails_stale_jobs_and_logs_it(store: SqliteStore) -> None:
    """Due recovery fails abandoned jobs and writes the reason into each job's log."""
    stale = abandoned_job(store)
    worker = make_worker(store, {"scan": lambda ctx: {}}, stale_after=10.0)
    failed = worker.recover_if_due(now=100.0)
    assert [job["id"] for job in failed] == [stale["id"]]
    row = store.get(stale["id"])
    assert row is not None and row["status"] == "failed"
    assert "Worker lost" in row["error_message"]
    lines = log_text(store, stale["id"]).split("\n")
    assert len(lines) == 1
    assert " ERROR Worker lost: no heartbeat for over 10 s" in lines[0]


def test_recover_if_due_waits_for_its_interval(store: SqliteStore) -> None:
    """Between checks (every stale_after/4 s) recovery does not run again."""
    worker = make_worker(store, {"scan": lambda ctx: {}}, stale_after=10.0)
    assert worker.recover_if_due(now=100.0) == []
    stale = abandoned_job(store)
    assert worker.recover_if_due(now=101.0) == []
    assert status_of(store, stale["id"]) == "running"
    assert [job["id"] for job in worker.recover_if_due(now=102.5)] == [stale["id"]]


def test_run_recovers_at_start(store: SqliteStore) -> None:
    """A worker that starts finds and fails jobs its dead predecessor left running."""
    stale = abandoned_job(store)
    worker = make_worker(store, {"scan": lambda ctx: {}})
    with running_worker(worker):
        wait_for(lambda: status_of(store, stale["id"]) == "failed", "recovery at start")


def test_run_stops_when_stop_is_called(store: SqliteStore) -> None:
    """run() returns soon after stop(), whether idle or between jobs."""
    worker = make_worker(store, {"scan": lambda ctx: {}}, idle_poll=0.05)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    job = store.create("/m", "scan")
    wait_for(lambda: status_of(store, job["id"]) == "completed", "the job")
    worker.stop()
    thread.join(DEADLINE_S)
    assert not thread.is_alive()


def test_run_survives_an_unavailable_store(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy or read-only store makes the worker wait and retry, not die."""
    monkeypatch.setattr(worker_module, "STORE_RETRY_S", 0.01)
    real_claim = store.claim
    failures = []

    def flaky_claim(pid: int, types: tuple[str, ...], **kwargs: Any) -> dict[str, Any] | None:
        if len(failures) < 2:
            failures.append(1)
            raise StoreUnavailable("job store unavailable: the database is busy")
        return real_claim(pid, types, **kwargs)

    monkeypatch.setattr(store, "claim", flaky_claim)
    job = store.create("/m", "scan")
    with running_worker(make_worker(store, {"scan": lambda ctx: {"ok": 1}})):
        wait_for(lambda: status_of(store, job["id"]) == "completed", "the job after retries")
    assert len(failures) == 2


def test_outcome_is_retried_while_the_store_is_unavailable(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """An outcome that cannot be written at once is retried until it is recorded."""
    monkeypatch.setattr(worker_module, "STORE_RETRY_S", 0.01)
    real_finish = store.finish
    attempts = []

    def flaky_finish(job_id: str, status: str, **kwargs: Any) -> bool:
        attempts.append(status)
        if len(attempts) < 3:
            raise StoreUnavailable("job store unavailable: the database is busy")
        return real_finish(job_id, status, **kwargs)

    monkeypatch.setattr(store, "finish", flaky_finish)
    job = store.create("/m", "scan")
    make_worker(store, {"scan": lambda ctx: {"ok": 1}}).run_once()
    assert attempts == ["completed"] * 3
    assert status_of(store, job["id"]) == "completed"


class BufferedLogStore:
    """A SQLite store whose job logs buffer their lines as the PostgreSQL store's do (with
    a clock that never moves, so nothing is written before a flush), and which notes how
    many lines of a job's log were written when its end was recorded."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.written: dict[str, list[str]] = {}
        self.lines_at_end: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def open_log(self, job: dict[str, Any]) -> DatabaseJobLog:
        lines = self.written.setdefault(job["id"], [])
        return DatabaseJobLog(lambda batch: lines.extend(batch) or len(batch), clock=lambda: 0.0)

    def finish(self, job_id: str, status: str, **fields: Any) -> bool:
        self.lines_at_end[job_id] = len(self.written.get(job_id, []))
        return self._store.finish(job_id, status, **fields)


@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_every_log_line_is_written_before_the_end_is_recorded(store: SqliteStore, outcome: str) -> None:
    """A reader that sees a job's end (a page's last log fetch) finds every line of its log."""
    buffered = BufferedLogStore(store)
    job = store.create("/m", "scan")

    def handler(ctx: JobContext) -> dict[str, Any]:
        for number in range(50):
            ctx.log(f"file {number}")
        if outcome == "failed":
            raise JobFailed("disk full")
        return {"files": 50}

    worker = make_worker(buffered, {"scan": handler})  # type: ignore[arg-type]
    assert worker.run_once() is True
    assert status_of(store, job["id"]) == outcome
    # The start line, 50 files, the end line: all written before the end was recorded.
    assert buffered.lines_at_end[job["id"]] == len(buffered.written[job["id"]]) == 52


def test_a_job_whose_log_cannot_be_written_still_ends(sqlite_store: SqliteStore) -> None:
    """A log that cannot be written (here its path is a directory) must not kill the worker or strand the job."""
    store = sqlite_store
    blocked = store.create("/blocked", "scan", priority=0)
    after = store.create("/after", "scan", priority=1)
    (store.data_dir / "not-a-file").mkdir()
    set_columns(store, blocked["id"], log_path="not-a-file")
    worker = make_worker(store, {"scan": lambda ctx: {"ok": 1}})
    assert worker.run_once() is True
    assert status_of(store, blocked["id"]) in ("completed", "failed")
    assert worker.run_once() is True
    assert status_of(store, after["id"]) == "completed"


# --- real processes -----------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The environment for child processes, without any JOBDASH_* settings of the caller."""
    return {k: v for k, v in os.environ.items() if not k.startswith("JOBDASH_")}


def test_jobdash_worker_process_scans_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`jobdash worker` runs a queued scan of a real tree to completion and exits 0 promptly on SIGTERM."""
    library = tmp_path / "library"
    made = make_library(library, files=6)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = SqliteStore(data_dir)
    output = (tmp_path / "worker.out").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobdash", "worker", "--data-dir", str(data_dir), "--stale-after", "10"],
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        cwd=tmp_path,
    )
    try:
        job = store.create(str(library), "scan")
        row = wait_for(
            lambda: (lambda r: r if r and r["status"] not in ("queued", "running") else None)(store.get(job["id"])),
            "the scan to end",
        )
        assert row["status"] == "completed", row["error_message"]
        assert row["worker_pid"] == proc.pid
        summary = json.loads(row["summary_json"])
        assert summary["files_found"] == made["media_files"] == 6
        assert summary["files_scanned"] == 6 and summary["errors"] == 0
        assert summary["containers"] == made["by_container"]
        assert summary["bytes"] == made["bytes"]
        assert row["progress_percent"] == 100
        assert json.loads(row["progress_json"])["processed"] == 6
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        output.close()
        store.close()


KILLABLE_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from jobdash.store.factory import open_store
    from jobdash.worker.loop import Worker

    def long_job(ctx):
        ctx.progress(1, 100, force=True)
        while True:
            ctx.check()
            time.sleep(0.05)

    store = open_store(Path(sys.argv[1]), database_url=sys.argv[2] or None)
    Worker(store, stale_after=10, heartbeat_interval=1, idle_poll=0.02, handlers={"scan": long_job}).run()
    """
)


def test_sigkilled_worker_leaves_job_running_until_recovery(
    store: SqliteStore, store_url: str | None, tmp_path: Path
) -> None:
    """A worker killed mid-job leaves it running; once its heartbeat is old, recover_stale fails it as worker lost."""
    job = store.create("/media", "scan")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_WORKER, str(tmp_path), store_url or ""],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    try:
        wait_for(lambda: store.get(job["id"])["progress_json"], "the job to report progress")  # type: ignore[index]
        proc.kill()
        proc.wait(timeout=DEADLINE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    row = store.get(job["id"])
    assert row is not None
    assert (row["status"], row["worker_pid"]) == ("running", proc.pid)
    assert store.recover_stale(10) == []  # its last heartbeat is still recent
    assert status_of(store, job["id"]) == "running"

    old = to_iso(datetime.now(UTC) - timedelta(seconds=11))
    set_columns(store, job["id"], worker_heartbeat=old)
    recovered = store.recover_stale(10)
    assert [r["id"] for r in recovered] == [job["id"]]
    row = store.get(job["id"])
    assert row is not None and row["status"] == "failed"
    assert "Worker lost" in row["error_message"] and f"worker pid {proc.pid}" in row["error_message"]
    assert old in row["error_message"]


# --- the public JobContext and the plugin contract -------------------------------------


def test_the_context_exposes_the_job(store: SqliteStore) -> None:
    """A handler reads its job's id, type, target, params and priority from the context."""
    seen: dict[str, Any] = {}

    def handler(ctx: JobContext) -> dict[str, Any]:
        seen.update(id=ctx.id, type=ctx.type, target=ctx.target, params=ctx.params, priority=ctx.priority)
        return {}

    job = store.create("/media/x", "checksum", params={"algorithm": "md5"}, priority=9)
    make_worker(store, {"checksum": handler}).run_once()
    assert seen == {
        "id": job["id"],
        "type": "checksum",
        "target": "/media/x",
        "params": {"algorithm": "md5"},
        "priority": 9,
    }


def test_the_last_progress_report_is_recorded_even_when_throttled(store: SqliteStore) -> None:
    """Handlers report per item without force; the job still ends showing 250 of 250."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        for done in range(1, 251):
            ctx.progress(done, 250, unit="bytes")
        return {}

    job = store.create("/m", "checksum")
    make_worker(store, {"checksum": handler}).run_once()
    row = store.get(job["id"])
    assert json.loads(row["progress_json"]) == {"processed": 250, "total": 250, "unit": "bytes"}


class BusyProgressStore:
    """A store whose progress writes fail as a locked database's do (at once here)."""

    def __init__(self) -> None:
        self.attempts: list[float] = []
        self.now = 0.0

    def progress(self, *args: Any, **kwargs: Any) -> bool:
        self.attempts.append(self.now)
        raise StoreUnavailable("job store unavailable: the database is busy")


def test_a_busy_store_is_asked_for_progress_again_only_after_a_pause() -> None:
    """Each failed progress write waits out the busy timeout: after one, the next waits
    PROGRESS_RETRY_S, so a locked store cannot slow the work to one item per timeout."""
    busy = BusyProgressStore()
    log_lines: list[str] = []

    class Log:
        def write(self, message: str, *, level: str = "INFO") -> None:
            log_lines.append(message)

    ctx = JobContext(busy, {"id": "j", "job_type": "scan"}, Log(), threading.Event(), clock=lambda: busy.now)  # type: ignore[arg-type]
    for item in range(1, 301):  # one item every 0.1 s for 30 s
        busy.now = item / 10
        ctx.progress(item, 300)
    assert busy.attempts == [0.1, 10.1, 20.1]
    assert sum("progress not recorded" in line for line in log_lines) == 3
    ctx.flush_progress()  # the end still tries once
    assert len(busy.attempts) == 4


def test_a_bad_progress_unit_fails_the_job_naming_it(store: SqliteStore) -> None:
    def handler(ctx: JobContext) -> dict[str, Any]:
        ctx.progress(1, 2, unit="Files!")
        return {}

    job = store.create("/m", "checksum")
    make_worker(store, {"checksum": handler}).run_once()
    assert "progress unit must be a short lower-case word" in store.get(job["id"])["error_message"]


def test_output_path_is_recorded(store: SqliteStore) -> None:
    def handler(ctx: JobContext) -> dict[str, Any]:
        ctx.output_path = "/out/x.mp4"
        return {"ok": True}

    job = store.create("/m", "checksum")
    make_worker(store, {"checksum": handler}).run_once()
    assert store.get(job["id"])["output_path"] == "/out/x.mp4"


@pytest.mark.parametrize(
    "returned, words", [([1, 2], "returned a list"), ({"t": object()}, "not JSON"), ("done", "a str")]
)
def test_a_summary_that_is_not_a_json_object_fails_the_job(store: SqliteStore, returned: Any, words: str) -> None:
    job = store.create("/m", "checksum")
    make_worker(store, {"checksum": lambda ctx: returned}).run_once()
    row = store.get(job["id"])
    assert row["status"] == "failed" and words in row["error_message"]
    assert "a handler returns a JSON object" in row["error_message"]


def test_a_handler_returning_nothing_completes_with_an_empty_summary(store: SqliteStore) -> None:
    job = store.create("/m", "checksum")
    make_worker(store, {"checksum": lambda ctx: None}).run_once()
    row = store.get(job["id"])
    assert row["status"] == "completed" and json.loads(row["summary_json"]) == {}


def test_sleep_raises_at_once_on_cancel(store: SqliteStore) -> None:
    """ctx.sleep waits, but a cancellation ends it within a heartbeat."""

    def handler(ctx: JobContext) -> dict[str, Any]:
        store.cancel(ctx.id)
        ctx.sleep(60)
        return {}

    job = store.create("/m", "checksum")
    started = time.monotonic()
    make_worker(store, {"checksum": handler}).run_once()
    assert status_of(store, job["id"]) == "cancelled"
    assert time.monotonic() - started < 30  # far below the 60 s asked for


# --- job types per worker, and the workers registry ----------------------------------------


def test_a_worker_claims_only_its_types_and_others_wait(store: SqliteStore) -> None:
    """A job whose type this worker does not run stays queued — never failed for that."""
    other = store.create("/m", "transcode")
    mine = store.create("/m", "checksum")
    worker = make_worker(store, {"checksum": lambda ctx: {}})
    assert worker.run_once() is True and worker.run_once() is False
    assert status_of(store, mine["id"]) == "completed" and status_of(store, other["id"]) == "queued"


def test_a_running_worker_registers_beats_and_marks_itself_stopped(store: SqliteStore) -> None:
    """The registry shows the worker (host, pid, types) and the job it runs; stopped at the end."""
    gate = threading.Event()

    def handler(ctx: JobContext) -> dict[str, Any]:
        gate.wait(10)
        return {}

    worker = make_worker(store, {"checksum": handler, "scan": handler}, host="farm-1")
    job = store.create("/m", "checksum")
    with running_worker(worker):
        row = wait_for(lambda: next((r for r in store.workers() if r["current_job_id"] == job["id"]), None), "the beat")
        assert (row["host"], row["pid"], json.loads(row["types_json"])) == ("farm-1", os.getpid(), ["checksum", "scan"])
        gate.set()
        wait_for(lambda: store.workers()[0]["current_job_id"] is None or None, "the job to clear")
    (row,) = store.workers()
    assert row["stopped_at"] is not None
