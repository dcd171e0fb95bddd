"""Drills on the PostgreSQL store: many hosts, one database, real processes throughout.

Each drill runs real ``jobdash serve --no-worker --database URL`` replicas and real
``jobdash worker --database URL`` processes against a database of the session's private
PostgreSQL server (tests/support/postgres.py), each process with its own empty
``--data-dir``: nothing is shared but the database.

1. A worker on "host A" is SIGKILLed mid-job; "host B" takes over. Two worker processes
   play two hosts (``--hostname`` through ``JOBDASH_HOSTNAME``; the job types are in
   tests/support/drill_jobs.py). Host A runs a ``replay`` job (declared
   ``on_worker_lost="requeue"``) and a ``scan`` (the default: fail); both of A's workers
   are killed at once, as a host that loses power. Once their heartbeats are older than
   ``--stale-after`` (10 s, the smallest allowed), the replay is queued again and host B
   runs it to ``completed``; the scan ends ``failed`` with "Worker lost". The replay's log,
   read through a replica's API, holds host A's lines, the "queued to run again" line and
   host B's lines, in that order; the drill's journal shows that A and B never ran it at
   the same time and that B ran it once, to its end. The data directories stay empty.
2. PostgreSQL is restarted under load: a replica and a worker are busy, a few threads
   poll the API as pages would (10 s timeout each), and the database server is stopped
   (``fast``) and started again. Meanwhile every answer is a 503 with ``Retry-After``
   (never a 500, never a request left hanging to the client's timeout); after the start
   the same processes answer 200 again and the same worker finishes the queue: every job
   ``completed`` exactly once, none left running.
3. Two API replicas behind Debian's nginx (round robin, ``proxy_next_upstream``) with the
   dashboard open in Chromium through the proxy: one replica is SIGKILLed and the page
   stays ``live`` and keeps showing changes, answered by the other.
"""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import support.drill_jobs
from jobdash.model.items import list_item
from jobdash.model.list_query import ListQuery
from jobdash.store.factory import open_store
from support.browser_drills import ServerProcess
from support.dashboard import Dashboard, running_job
from support.drill_jobs import read_journal
from support.drills import (
    WorkerProc,
    all_log_lines,
    get_json,
    job,
    scan_library,
    wait_for,
)
from support.live_server import build_frontend
from support.nginx import NOT_INSTALLED, NginxProxy, nginx_binary

pytestmark = pytest.mark.slow

JOB_MODULE = str(Path(support.drill_jobs.__file__).resolve())
STALE_AFTER_S = 10  # the smallest --stale-after the CLI allows
HEARTBEAT_S = 5  # the worker's heartbeat interval (jobdash.worker.loop.HEARTBEAT_INTERVAL_S)
REQUEST_TIMEOUT_S = 10.0  # a page's request timeout


def _empty_dirs(tmp_path: Path, *names: str) -> dict[str, Path]:
    dirs = {}
    for name in names:
        dirs[name] = tmp_path / f"{name}-data"
        dirs[name].mkdir()
    return dirs


def _row(store: Any, job_id: str) -> dict[str, Any]:
    row = store.get(job_id)
    assert row is not None, job_id
    return row


def _index(lines: list[str], needle: str) -> int:
    found = [n for n, line in enumerate(lines) if needle in line]
    assert len(found) == 1, (needle, found, lines)
    return found[0]


# --- 1. a host dies mid-job ------------------------------------------------------------------


def test_worker_killed_on_host_a_is_taken_over_by_host_b(tmp_path: Path, database_url: str) -> None:
    started = time.monotonic()
    library = scan_library(tmp_path / "library", 400)  # 8 s at 50 files/s: killed part-way
    journal = tmp_path / "journal.txt"
    dirs = _empty_dirs(tmp_path, "host-a", "host-b", "replica")
    stale = ("--stale-after", str(STALE_AFTER_S))
    replica = ServerProcess(dirs["replica"], tmp_path / "replica.log", database_url=database_url, extra=stale)
    workers: dict[str, WorkerProc] = {}

    def worker(name: str, host: str, *flags: str) -> WorkerProc:
        workers[name] = WorkerProc(
            dirs[host],
            tmp_path / f"{name}.log",
            "--job-module",
            JOB_MODULE,
            *stale,
            *flags,
            database_url=database_url,
            env={"JOBDASH_HOSTNAME": host},
        )
        return workers[name]

    def diagnostics() -> str:
        logs = "\n".join(f"--- {name} (pid {w.pid}):\n{w.output()}" for name, w in workers.items())
        return f"--- replica:\n{replica.output()}\n{logs}"

    try:
        replica.start()
        base, store = replica.base, replica.store
        steps = 25  # 5 s a run
        replay = store.create(
            "/media/clip.mkv", "replay", params={"steps": str(steps), "pause": "0.2", "journal": str(journal)}
        )["id"]
        scan = store.create(library["path"], "scan")["id"]

        # Host A: one worker per type, so both jobs run there at once.
        a_replay = worker("a-replay", "host-a", "--types", "replay")
        a_scan = worker("a-scan", "host-a", "--types", "scan", "--max-files-per-second", "50")

        def both_running_on_a() -> bool:
            r, s = _row(store, replay), _row(store, scan)
            return (
                r["status"] == "running"
                and r["worker_pid"] == a_replay.pid
                and (r["progress_percent"] or 0) >= 100 * 3 / steps
                and s["status"] == "running"
                and s["worker_pid"] == a_scan.pid
                and (s["progress_percent"] or 0) > 0
            )

        wait_for(both_running_on_a, 30, "both jobs to run part-way on host A", diagnostics=diagnostics)

        # Host B is up and idle before A dies: it must not take a job that A still holds.
        b = worker("b", "host-b")

        def b_registered() -> bool:
            status, _, body = get_json(base, "/api/workers")
            return status == 200 and any(w["host"] == "host-b" and w["state"] == "alive" for w in body["workers"])

        wait_for(b_registered, 20, "host B's worker to register", diagnostics=diagnostics)
        assert _row(store, replay)["worker_pid"] == a_replay.pid, "host B took a job host A still ran"

        # Host A loses power: both its workers die at once.
        killed_at_wall = time.time()
        killed_at = time.monotonic()
        assert a_replay.kill() == -signal.SIGKILL and a_scan.kill() == -signal.SIGKILL
        frozen = _row(store, replay)
        assert frozen["status"] == "running" and frozen["worker_pid"] == a_replay.pid, frozen

        taken_over = wait_for(
            lambda: (row := _row(store, replay))["worker_pid"] not in (a_replay.pid,) and row,
            STALE_AFTER_S + HEARTBEAT_S,
            "the replay to leave host A's dead worker",
            every=0.1,
            diagnostics=diagnostics,
        )
        requeued_after = time.monotonic() - killed_at
        failed = wait_for(
            lambda: (item := job(base, scan))["status"] != "running" and item,
            STALE_AFTER_S + HEARTBEAT_S,
            "the scan to be failed",
            every=0.1,
            diagnostics=diagnostics,
        )
        failed_after = time.monotonic() - killed_at
        assert taken_over["status"] in ("queued", "running"), taken_over
        completed = wait_for(
            lambda: (item := job(base, replay))["status"] in ("completed", "failed") and item,
            30,
            "host B to finish the replay",
            diagnostics=diagnostics,
        )
        done_after = time.monotonic() - killed_at

        # The scan: failed, saying why, not run again.
        assert failed["status"] == "failed", failed
        message = failed["error_message"]
        assert message.startswith(f"Worker lost: no heartbeat for over {STALE_AFTER_S} s"), message
        assert f"worker pid {a_scan.pid}" in message and "marked failed" in message, message
        scan_log = all_log_lines(base, scan)
        assert f"started by worker {a_scan.pid} on host-a" in scan_log[0], scan_log[:2]
        assert scan_log[-1].endswith(message), scan_log[-3:]
        assert sum("started by worker" in line for line in scan_log) == 1, "the scan ran once only"

        # The replay: completed on host B, after host A's partial run.
        assert completed["status"] == "completed", completed
        assert completed["summary_raw"] == {"steps": steps, "host": "host-b"}, completed
        lines = all_log_lines(base, replay)
        on_a = _index(lines, f"started by worker {a_replay.pid} on host-a")
        a_steps = [n for n, line in enumerate(lines) if line.endswith(f"of {steps} on host-a")]
        requeue_line = _index(lines, f"no heartbeat for over {STALE_AFTER_S} s; the job was queued to run again")
        on_b = _index(lines, f"started by worker {b.pid} on host-b")
        b_steps = [n for n, line in enumerate(lines) if line.endswith(f"of {steps} on host-b")]
        finished = _index(lines, "job completed in")
        shown = "\n".join(lines)
        assert a_steps and on_a < min(a_steps) and max(a_steps) < requeue_line < on_b < min(b_steps), shown
        assert len(b_steps) == steps and max(b_steps) < finished == len(lines) - 1, shown
        assert sum("started by worker" in line for line in lines) == 2, shown

        # Never two runs at once: host A's run ended with the kill, host B's began after the
        # heartbeat went stale, and ran once, start to end.
        entries = [e for e in read_journal(journal) if e[1] == replay]
        a_run = [e for e in entries if e[2] == "host-a"]
        b_run = [e for e in entries if e[2] == "host-b"]
        assert [e[3] for e in a_run] == [a_replay.pid] * len(a_run) and a_run[0][4] == "start", a_run
        assert all(e[4] != "end" for e in a_run) and max(e[0] for e in a_run) < killed_at_wall, a_run
        assert [e[4] for e in b_run] == ["start", *[f"step {n}" for n in range(1, steps + 1)], "end"], b_run
        assert {e[3] for e in b_run} == {b.pid}
        assert b_run[0][0] > killed_at_wall + STALE_AFTER_S - HEARTBEAT_S - 1, "host B started before A was stale"
        assert entries == a_run + b_run, "the runs interleaved"

        # The registry knows both hosts; nothing was written to any data directory.
        status, _, body = get_json(base, "/api/workers")
        hosts = Counter((w["host"], w["state"]) for w in body["workers"])
        assert status == 200 and hosts == {("host-a", "gone"): 2, ("host-b", "alive"): 1}, body
        assert {name: sorted(p.name for p in d.iterdir()) for name, d in dirs.items()} == {n: [] for n in dirs}
        assert "Traceback" not in b.output(), diagnostics()
        assert b.stop() == 0, diagnostics()
        print(
            f"\ndrill 1 (host A killed): replay taken from host A {requeued_after:.1f} s after SIGKILL, "
            f"scan failed after {failed_after:.1f} s, replay completed on host B after {done_after:.1f} s; "
            f"{len(lines)} log lines ({len(a_steps)} of host A's {len(a_run) - 1} steps logged before the kill, "
            f"{len(b_steps)} on B); "
            f"{time.monotonic() - started:.1f} s"
        )
    finally:
        for w in workers.values():
            w.stop()
        replica.close()


# --- 2. the database restarts under load -----------------------------------------------------


class Hammer:
    """A few threads polling the API as pages would, each request timing out after 10 s,
    until :meth:`stop`. Every answer is recorded: (started, ended, path, status or the
    exception's name, Retry-After, error text)."""

    def __init__(self, base: str, paths: list[str], *, pause: float = 0.05, max_s: float = 60.0) -> None:
        self.base = base
        self.records: list[tuple[float, float, str, int | str, str | None, str | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._deadline = time.monotonic() + max_s  # bounded whatever happens
        self._pause = pause
        self._threads = [threading.Thread(target=self._run, args=(path,), daemon=True) for path in paths]
        for thread in self._threads:
            thread.start()

    def _run(self, path: str) -> None:
        etag: str | None = None
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            headers = {"If-None-Match": etag} if etag else {}
            begun = time.monotonic()
            outcome: int | str
            retry_after = error = None
            try:
                request = urllib.request.Request(self.base + path, headers=headers)
                with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                    outcome = response.status
                    etag = response.headers.get("ETag") or etag
                    response.read()
            except urllib.error.HTTPError as failure:
                outcome, retry_after = failure.code, failure.headers.get("Retry-After")
                error = failure.read().decode(errors="replace")
            except OSError as failure:  # a timeout, a refused or reset connection
                outcome = type(failure).__name__
            with self._lock:
                self.records.append((begun, time.monotonic(), path, outcome, retry_after, error))
            self._stop.wait(self._pause)

    def stop(self) -> list[tuple[float, float, str, int | str, str | None, str | None]]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
        with self._lock:
            return list(self.records)


def test_database_restart_under_load(tmp_path: Path, pg_cluster: Any, database_url: str) -> None:
    started = time.monotonic()
    journal = tmp_path / "journal.txt"
    dirs = _empty_dirs(tmp_path, "replica", "worker")
    server = ServerProcess(dirs["replica"], tmp_path / "replica.log", database_url=database_url)
    worker: WorkerProc | None = None
    hammer: Hammer | None = None
    database_down = False

    def diagnostics() -> str:
        return f"--- replica:\n{server.output()}\n--- worker:\n{worker.output() if worker else ''}"

    try:
        server.start()
        base, store = server.base, server.store
        params = {"steps": "5", "pause": "0.2", "journal": str(journal)}  # 1 s a job
        queued = [store.create(f"/media/clip-{n:02}.mkv", "replay", params=params)["id"] for n in range(10)]
        worker = WorkerProc(
            dirs["worker"], tmp_path / "worker.log", "--job-module", JOB_MODULE, database_url=database_url
        )
        paths = ["/api/jobs", "/api/jobs?status=running,queued", f"/api/jobs/{queued[-1]}", "/healthz"]
        hammer = Hammer(base, paths)

        def completed() -> int:
            return sum(_row(store, job_id)["status"] == "completed" for job_id in queued)

        def mid_job() -> str | None:
            """The job the worker is in the middle of (its last journal entry is a step)."""
            entries = read_journal(journal)
            return entries[-1][1] if entries and entries[-1][4].startswith("step ") else None

        wait_for(lambda: completed() >= 2 and mid_job(), 30, "two jobs done, a third mid-way", diagnostics=diagnostics)
        interrupted = mid_job()

        # PostgreSQL goes away for a few seconds, mid-job.
        stopping_at = time.monotonic()
        database_down = True
        pg_cluster.stop_server("fast")
        down_at = time.monotonic()

        def every_path_answered_503() -> bool:
            return {r[2] for r in list(hammer.records) if r[1] >= stopping_at and r[3] == 503} == set(paths)

        def answers() -> str:
            seen = [(round(r[0] - down_at, 2), round(r[1] - r[0], 2), r[2], r[3]) for r in list(hammer.records)]
            return f"answers since the stop (start, took, path, outcome): {[a for a in seen if a[0] > -1]}"

        wait_for(
            every_path_answered_503,
            REQUEST_TIMEOUT_S + 5,
            "a 503 on every path while the database is down",
            diagnostics=lambda: f"{answers()}\n{diagnostics()}",
        )
        time.sleep(max(0.0, down_at + 3.0 - time.monotonic()))  # down for 3 s at least
        pg_cluster.start_server()
        database_down = False
        up_at = time.monotonic()

        def answered_200_since(moment: float) -> float | None:
            times = [r[1] for r in list(hammer.records) if r[0] >= moment and r[3] == 200 and r[2] == "/api/jobs"]
            return min(times) if times else None

        back = wait_for(lambda: answered_200_since(up_at), 15, "/api/jobs to answer 200 again", diagnostics=diagnostics)
        recovered_after = back - up_at
        wait_for(lambda: completed() == len(queued), 60, "every job to complete", diagnostics=diagnostics)
        records = hammer.stop()
        hammer = None

        # Every request had an answer in time: 200, 304, or a 503 that says when to retry.
        outcomes = Counter(r[3] for r in records)
        assert set(outcomes) <= {200, 304, 503}, (outcomes, [r for r in records if r[3] not in (200, 304, 503)])
        unavailable = [r for r in records if r[3] == 503]
        assert unavailable, "no 503 seen while the database was down"
        for _, _, path, _, retry_after, error in unavailable:
            assert retry_after is not None and retry_after.isdigit() and int(retry_after) > 0, (path, retry_after)
            assert error is not None and '"job store unavailable: ' in error, (path, error)
        slowest = max(r[1] - r[0] for r in records)
        slowest_503 = max(r[1] - r[0] for r in unavailable)
        assert slowest < REQUEST_TIMEOUT_S, f"a request took {slowest:.1f} s"
        outage = [r for r in records if stopping_at <= r[0] and r[1] <= up_at]

        # The same worker finished every job, each exactly once; none is left running.
        assert worker.process.poll() is None, "the worker died"
        assert interrupted in queued
        for job_id in queued:
            item = job(base, job_id)
            assert item["status"] == "completed" and item["summary_raw"]["steps"] == 5, item
            lines = all_log_lines(base, job_id)
            starts = [line for line in lines if "started by worker" in line]
            assert len(starts) == 1 and f"started by worker {worker.pid} " in starts[0], lines
            assert sum("job completed in" in line for line in lines) == 1, lines
        runs = Counter((e[1], e[4]) for e in read_journal(journal) if e[4] in ("start", "end"))
        assert runs == {(job_id, event): 1 for job_id in queued for event in ("start", "end")}, runs
        assert store.list(ListQuery(statuses=("running",)))[1] == 0
        assert "Traceback" not in server.output() + worker.output(), diagnostics()
        assert worker.stop() == 0, diagnostics()
        print(
            f"\ndrill 2 (database restart): {len(records)} requests ({dict(outcomes)}); "
            f"{len(outage)} during the {up_at - stopping_at:.1f} s outage (pg_ctl stop took {down_at - stopping_at:.1f} s), slowest 503 {slowest_503:.2f} s, "
            f"slowest request {slowest:.2f} s; /api/jobs 200 again {recovered_after:.1f} s after the restart; "
            f"{len(queued)} jobs completed once each; {time.monotonic() - started:.1f} s"
        )
    finally:
        if hammer is not None:
            hammer.stop()
        if database_down:
            pg_cluster.start_server()  # the cluster serves the whole session
        if worker is not None:
            worker.stop()
        server.close()


# --- 3. two replicas behind nginx, one killed under an open page ------------------------------

INTERVAL_MS = 5000  # the build's default poll interval


class Proxied:
    """The dashboard's site as the page drivers want it: pages and API through the proxy,
    jobs written straight to the database (as a worker on another host would)."""

    def __init__(self, proxy: NginxProxy, store: Any) -> None:
        self.proxy = proxy
        self.store = store

    def url(self, path: str = "") -> str:
        return self.proxy.url(path)


def _jobs_seen(source: str | Any) -> list[tuple[str, str, int | None]]:
    """Given a server's base URL or a store, return its jobs list as (id, status, processed)."""
    if isinstance(source, str):
        rows = get_json(source, "/api/jobs")[2]["jobs"]
    else:
        rows = [list_item(row) for row in source.list(ListQuery())[0]]
    return [(row["id"], row["status"], row["processed_count"]) for row in rows]


@pytest.fixture
def nginx_installed() -> None:
    if nginx_binary() is None:
        pytest.skip(NOT_INSTALLED)


@pytest.mark.browser
@pytest.mark.usefixtures("nginx_installed")
def test_page_stays_live_through_nginx_when_a_replica_dies(tmp_path: Path, database_url: str, page: Any) -> None:
    started = time.monotonic()
    dist = tmp_path / "dist"
    build_frontend(dist)
    dirs = _empty_dirs(tmp_path, "replica-1", "replica-2")
    replicas = [
        ServerProcess(dirs[name], tmp_path / f"{name}.log", dist=dist, database_url=database_url)
        for name in ("replica-1", "replica-2")
    ]
    doomed, survivor = replicas
    proxy = NginxProxy(tmp_path / "nginx", [f"127.0.0.1:{r.port}" for r in replicas])
    store = open_store(tmp_path, database_url=database_url)

    def diagnostics() -> str:
        return "\n".join([*(f"--- {r.base}:\n{r.output()}" for r in replicas), proxy.output()])

    try:
        for replica in replicas:
            replica.start()
        proxy.start()
        running = running_job(store, "/media/Running", processed=2, total=20)
        queued = store.create("/media/Queued", "scan")["id"]

        dash = Dashboard(page, Proxied(proxy, store)).open()
        assert sorted(dash.row_ids()) == sorted([running, queued])
        expect(dash.status).to_have_attribute("data-state", "live")
        bar = dash.cell(running, "progress_percent").locator('[role="progressbar"]')
        expect(bar).to_have_attribute("aria-valuenow", "10")
        dash.tag_rows()

        # A replica hears of another host's commit by NOTIFY, a moment later: before the
        # page's poll (which either may answer), those that are up have (their jobs list is
        # the store's).
        def caught_up(up: list[ServerProcess]) -> None:
            wanted = _jobs_seen(store)
            wait_for(
                lambda: all(_jobs_seen(r.base) == wanted for r in up),
                10,
                "the replicas to hear of the change",
                diagnostics=diagnostics,
            )

        # Both replicas answer, in turn; unchanged polls are 304s whichever answers.
        for processed in (2, 4, 4):
            store.progress(running, processed, 20)
            caught_up(replicas)
            assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]
            expect(bar).to_have_attribute("aria-valuenow", str(processed * 5))
            expect(dash.status).to_have_attribute("data-state", "live")
        before = proxy.access_log()
        answered_by = Counter(e["upstreams"][-1] for e in before if e["uri"].startswith("/api/"))
        assert set(answered_by) == set(proxy.upstreams), (answered_by, diagnostics())
        # The replicas agree on ETags: one's answer revalidates as a 304 at the other.
        for path in ("/api/jobs", f"/api/jobs/{running}", "/api/workers"):
            status, headers, _ = get_json(doomed.base, path)
            assert status == 200, (path, status)
            assert get_json(survivor.base, path, {"If-None-Match": headers["etag"]})[0] == 304, path

        # One replica dies at once (no graceful shutdown); the page goes on through the other.
        assert doomed.kill() == -signal.SIGKILL
        new = None
        for step in range(4):
            if step == 0:
                store.progress(running, 12, 20)
            elif step == 1:
                store.cancel(queued)
            elif step == 2:
                new = store.create("/media/New", "scan")["id"]
            else:
                store.finish(running, "completed", summary={"files_found": 20})
            caught_up([survivor])
            assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS], diagnostics()
            expect(dash.status).to_have_attribute("data-state", "live")
        expect(dash.cell(running, "status").locator(".badge")).to_have_attribute("data-status", "completed")
        expect(dash.cell(queued, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
        assert new is not None and dash.row_ids()[0] == new, "the new job, newest, on top"
        assert dash.same_rows() == {running: True, queued: True}, "rows updated in place"
        assert dash.row_ids() == [row["id"] for row in store.list(ListQuery())[0]]

        after = proxy.access_log()[len(before) :]
        assert after and all(e["status"] in (200, 304) for e in after), after
        dead = f"127.0.0.1:{doomed.port}"
        assert all(e["upstreams"][-1] == f"127.0.0.1:{survivor.port}" for e in after), after
        failovers = [e for e in after if e["upstreams"][0] == dead]
        assert failovers, "no request tried the dead replica first"
        api_304 = sum(e["status"] == 304 for e in before + after if e["uri"].startswith("/api/"))
        print(
            f"\ndrill 3 (nginx, replica killed): before the kill {dict(answered_by)} API answers per replica; "
            f"after it {len(after)} requests all answered by the survivor, {len(failovers)} after trying the "
            f"dead one first (nginx then holds it out); {api_304} API 304s in all; page live throughout; "
            f"{time.monotonic() - started:.1f} s"
        )
    finally:
        store.close()
        proxy.close()
        for replica in replicas:
            replica.close()
