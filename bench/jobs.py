"""Job-type plugins, submitting over HTTP: submit throughput and no-op job throughput — one table.

    .venv/bin/python bench/jobs.py            # the full run (about a minute; 3 at most with retries)
    .venv/bin/python bench/jobs.py --quick    # a smoke run: short loads, fewer jobs

A plugin module is written to the run's temporary directory at start (``@job_type()
def noop(ctx): return {}``) and given as ``--job-module`` to the server and the workers,
as an operator would. Prints one table:

1. Submissions over real HTTP: ``POST /api/jobs`` ``{"type": "noop", "target": "x"}`` with
   a bearer token (``--api-token-file``, mode 600) against the real server (``python -m
   jobdash serve --no-worker``, one uvicorn process), driven by wrk with a Lua script
   (keep-alive; the same ``-t -c -d`` for every row, on the same 2 cores as the server):
   without a key, with a unique ``Idempotency-Key`` per request (a counter in the
   script), and with one key for every request (replays: one job, then 201 +
   ``Idempotent-Replayed``). req/s, p50, p99, each one's req/s ratio to the bare
   Starlette limit measured with the same wrk settings in the same run
   (bench/bare_app.py: a GET of a constant 5 KB JSON — a ceiling, not a like-for-like
   POST), and the 201s beside the jobs that ended up in the store. Then one client
   alone, sequential requests on one connection: there every 201 must be exactly one
   stored job.
2. No-op jobs through 1, then 2, worker processes (``python -m jobdash worker
   --job-module <the plugin> --types noop``): N jobs queued through the store
   (``SqliteStore.create``) on a fresh data directory, the workers started, the store's
   counts polled every 50 ms until every job ended. Jobs per second from the workers'
   start to the last completion, the time to the first claim (process start, imports,
   registration included), the steady rate (first claim to last completion), the
   per-job time from claim to completion (p50/p99, from the jobs' own timestamps) and
   the workers' CPU per job. Each job also writes its log file and the worker's
   registry heartbeat, so this is the worker's whole per-job cost.

Other processes on the machine share its cores: each row says how much of the CPU
processes outside the benchmark used while it was measured ("others' CPU", as
bench/scale.py); a measurement taken while they used more than 10% is taken again (up to
3 tries) and the quietest try is shown, starred when it is still noisy.

Ctrl-C (or SIGTERM) stops every process the benchmark started; the temporary directory
is removed. Never part of the test run; no timed assertions.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 (after the path set-up)
    HOST,
    WRK,
    LoadSettings,
    Meter,
    Result,
    api_server_command,
    background,
    bare_server_command,
    cpu_seconds,
    fmt_ms,
    format_table,
    free_port,
    metered,
    parse_wrk,
    percentile,
    server,
)
from jobdash.store.sqlite.store import DB_FILENAME, SqliteStore  # noqa: E402

JOB_TYPE = "noop"
PLUGIN = f'''"""A job type that does nothing (written by bench/jobs.py)."""

from jobdash import job_type


@job_type()
def {JOB_TYPE}(ctx):
    return {{}}
'''
BODY = json.dumps({"type": JOB_TYPE, "target": "x"})

NOISE_MAX = 0.10
TRIES = 3
POLL_S = 0.05
WORKERS_TIMEOUT_S = 600.0

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    wrk_seconds: int
    sequential: int  # POSTs of the lone client
    jobs: int  # no-op jobs queued for the workers


FULL = Sizes(wrk_seconds=10, sequential=500, jobs=2000)
QUICK = Sizes(wrk_seconds=3, sequential=200, jobs=300)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def measure(attempt: Callable[[int], tuple[T, Meter]], tries: int = TRIES) -> tuple[T, Meter]:
    """Run ``attempt(i)`` (it meters its own timed part), again while other processes
    were busy; return the quietest attempt's value and meter."""
    best: tuple[T, Meter] | None = None
    for index in range(tries):
        value, meter = attempt(index)
        if best is None or meter.others < best[1].others:
            best = (value, meter)
        if meter.others <= NOISE_MAX:
            break
        if index + 1 < tries:
            say(f"  other processes used {meter.describe()} of the CPUs meanwhile: measuring again")
    assert best is not None
    return best


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to a new file readable by its owner only (mode 600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def stored_jobs(data_dir: Path, status: str | None = None) -> int:
    """Count the no-op jobs in the store (from ``job_counts``, which triggers keep)."""
    conn = sqlite3.connect(f"{(data_dir / DB_FILENAME).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        sql, args = "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE job_type = ?", [JOB_TYPE]
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        return int(conn.execute(sql, args).fetchone()[0])
    finally:
        conn.close()


def settled_jobs(data_dir: Path, quiet_polls: int = 4, timeout: float = 10.0) -> int:
    """Count the no-op jobs once the count stopped moving: the requests wrk left in
    flight when it stopped are still committed by the server afterwards."""
    deadline = time.monotonic() + timeout
    last, same = stored_jobs(data_dir), 0
    while same < quiet_polls and time.monotonic() < deadline:
        time.sleep(POLL_S)
        now = stored_jobs(data_dir)
        same = same + 1 if now == last else 0
        last = now
    return last


def ended_jobs(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status, n FROM job_counts WHERE job_type = ? AND status IN ('completed', 'failed', 'cancelled')",
        (JOB_TYPE,),
    )
    return {status: int(n) for status, n in rows}


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stamp_ms(value: float) -> str:
    """A duration between two of the store's timestamps (millisecond resolution)."""
    return "<1 ms" if value < 1 else f"{value:.0f} ms"


# ---------------------------------------------------------------- wrk with a Lua script


def lua_script(token: str, key: str | None) -> str:
    """The wrk script of a submission row. ``key``: None for no Idempotency-Key, ``"unique"``
    for a fresh key per request (thread number + counter), else that one key every time."""
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(BODY)}",
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {token}"',
    ]
    if key == "unique":
        nonce = secrets.token_hex(6)  # keys never repeat across rows and tries
        lines += [
            "local threads = 0",
            "function setup(thread)",
            "  threads = threads + 1",
            '  thread:set("tid", threads)',
            "end",
            "local counter = 0",
            "function request()",
            "  counter = counter + 1",
            f'  wrk.headers["Idempotency-Key"] = "bench-{nonce}-" .. tid .. "-" .. counter',
            "  return wrk.format()",
            "end",
        ]
    elif key is not None:
        lines.append(f'wrk.headers["Idempotency-Key"] = "{key}"')
    return "\n".join(lines) + "\n"


@dataclass
class Load:
    result: Result
    non_2xx: int
    socket_errors: int


def run_wrk_script(url: str, settings: LoadSettings, script: Path | None) -> Load:
    """wrk ``-t -c -d --latency`` on ``url`` (with ``-s script``); its figures."""
    command = [
        WRK,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{settings.duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=settings.duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", done.stdout)
    return Load(
        parse_wrk(done.stdout),
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


# ---------------------------------------------------------------- the table


@dataclass
class Row:
    case: str
    value: str = ""
    p50: float | str | None = None  # ms, or a preformatted cell
    p99: float | str | None = None
    ratio: str = ""
    check: str = ""
    other: Meter | None = None
    note: str = ""

    def cells(self) -> list[str]:
        noisy = self.other is not None and self.other.others > NOISE_MAX
        return [
            self.case,
            self.value,
            *("" if v is None else v if isinstance(v, str) else fmt_ms(v) for v in (self.p50, self.p99)),
            self.ratio,
            self.check,
            "" if self.other is None else self.other.describe() + ("*" if noisy else ""),
            self.note,
        ]


HEADER = ("figure", "value", "p50", "p99", "ratio", "check", "others' CPU", "note")


class Run:
    """One benchmark run: a temporary directory, the sizes, the rows of each section."""

    def __init__(self, sizes: Sizes, workdir: Path) -> None:
        self.sizes = sizes
        self.workdir = workdir
        self.wrk = LoadSettings(threads=2, connections=16, duration=sizes.wrk_seconds)
        self.plugin = workdir / "bench_noop_jobs.py"
        self.plugin.write_text(PLUGIN)
        self.token = secrets.token_urlsafe(32)
        self.token_file = write_private(workdir / "api-tokens", self.token + "\n")
        self.submits: list[Row] = []
        self.workers: list[Row] = []
        self.problems: list[str] = []

    def script(self, name: str, key: str | None) -> Path:
        return write_private(self.workdir / f"{name}-{secrets.token_hex(3)}.lua", lua_script(self.token, key))

    # ------------------------------------------------------------ 1. submissions over HTTP

    def bare(self) -> None:
        port = free_port()
        with server(bare_server_command(port), port, "/constant", self.workdir / "bare.log"):
            say(f"bare Starlette, GET of a constant 5 KB JSON ({self.wrk.describe()}) ...")

            def attempt(_: int) -> tuple[Load, Meter]:
                with metered() as meter:
                    done = run_wrk_script(f"http://{HOST}:{port}/constant", self.wrk, None)
                return done, meter

            self.limit, other = measure(attempt)
        result = self.limit.result
        self.submits.append(
            Row(
                "bare Starlette GET /constant (the limit)",
                f"{result.rps:,.0f} req/s",
                result.p50_ms,
                result.p99_ms,
                "1.00 (ref)",
                other=other,
                note="a GET of constant 5 KB JSON, no database: a ceiling, not a like-for-like POST",
            )
        )

    def submissions(self) -> None:
        data_dir = self.workdir / "api-data"
        data_dir.mkdir()
        SqliteStore(data_dir).close()
        port = free_port()
        command = api_server_command(data_dir, port) + [
            "--api-token-file",
            str(self.token_file),
            "--job-module",
            str(self.plugin),
        ]
        with server(command, port, "/healthz", self.workdir / "server.log"):
            self.sequential(port, data_dir)  # also the warm-up
            plain = self.wrk_row(port, data_dir, "POST /api/jobs", None)
            self.wrk_row(port, data_dir, "POST /api/jobs + unique Idempotency-Key", "unique", plain)
            self.wrk_row(port, data_dir, "POST /api/jobs + the same key (replays)", "replay", plain)

    def sequential(self, port: int, data_dir: Path) -> None:
        count = self.sizes.sequential
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.token}",
        }
        say(f"one client, {count} sequential POST /api/jobs ...")

        def attempt(_: int) -> tuple[tuple[list[float], int, int, int, float], Meter]:
            before = settled_jobs(data_dir)
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            times: list[float] = []
            created = 0
            with metered() as meter:
                began = time.perf_counter()
                for _ in range(count):
                    start = time.perf_counter()
                    conn.request("POST", "/api/jobs", body=BODY, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    times.append((time.perf_counter() - start) * 1000)
                    created += response.status == 201
                elapsed = time.perf_counter() - began
            conn.close()
            return (sorted(times), count, created, settled_jobs(data_dir) - before, elapsed), meter

        (times, sent, created, stored, elapsed), other = measure(attempt)
        ok = created == sent == stored
        if not ok:
            self.problems.append(f"sequential: {sent} sent, {created} answered 201, {stored} stored")
        self.submits.append(
            Row(
                "POST /api/jobs, one client, sequential",
                f"{sent / elapsed:,.0f} req/s",
                percentile(times, 0.5),
                percentile(times, 0.99),
                check="ok" if ok else "MISMATCH",
                other=other,
                note=f"{sent} sent on one keep-alive connection: {created} answered 201, {stored} jobs stored",
            )
        )

    def wrk_row(self, port: int, data_dir: Path, case: str, key: str | None, plain: Load | None = None) -> Load:
        say(f"{case} ({self.wrk.describe()}) ...")

        def attempt(_: int) -> tuple[tuple[Load, int], Meter]:
            script_key = f"bench-replay-{secrets.token_hex(6)}" if key == "replay" else key
            script = self.script(key or "plain", script_key)
            before = settled_jobs(data_dir)
            with metered() as meter:
                done = run_wrk_script(f"http://{HOST}:{port}/api/jobs", self.wrk, script)
            return (done, settled_jobs(data_dir) - before), meter

        (done, stored), other = measure(attempt)
        result = done.result
        answered_201 = result.requests - done.non_2xx  # every 2xx here is a 201
        bad = done.non_2xx + done.socket_errors
        if key == "replay":
            ok = stored == 1 and bad == 0
            stored_note = f"{stored} job stored (every other answer a replay of it)"
        else:
            # wrk stops with up to -c requests in flight: the server stored those jobs,
            # but wrk never counted their answers.
            in_flight = stored - answered_201
            ok = bad == 0 and 0 <= in_flight <= self.wrk.connections
            stored_note = f"{stored:,} jobs stored (+{in_flight} in flight when wrk stopped)"
        if not ok:
            self.problems.append(f"{case}: {answered_201} answered 201, {stored} stored, {bad} errors")
        note = f"{answered_201:,} answered 201, {stored_note}"
        if bad:
            note += f"; {done.non_2xx} non-2xx, {done.socket_errors} socket errors"
        if plain is not None:
            extra_us = (1 / result.rps - 1 / plain.result.rps) * 1e6 if result.rps and plain.result.rps else 0.0
            note += f"; {result.rps / plain.result.rps:.2f}x the plain POST's req/s ({extra_us:+.0f} µs per request)"
        self.submits.append(
            Row(
                case,
                f"{result.rps:,.0f} req/s",
                result.p50_ms,
                result.p99_ms,
                f"{result.rps / self.limit.result.rps:.2f}",
                check="ok" if ok else "MISMATCH",
                other=other,
                note=note,
            )
        )
        return done

    # ------------------------------------------------------------ 2. no-op jobs through workers

    def worker_command(self, data_dir: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jobdash",
            "worker",
            "--log-level",
            "warning",
            "--data-dir",
            str(data_dir),
            "--job-module",
            str(self.plugin),
            "--types",
            JOB_TYPE,
        ]

    def queue(self, data_dir: Path) -> None:
        data_dir.mkdir()
        store = SqliteStore(data_dir)
        try:
            for _ in range(self.sizes.jobs):
                store.create("x", JOB_TYPE)
        finally:
            store.close()

    def drain(self, count: int, attempt: int) -> tuple[dict[str, Any], Meter]:
        """Queue the jobs on a fresh data directory, start ``count`` workers, poll until
        every job ended; return the figures."""
        n = self.sizes.jobs
        data_dir = self.workdir / f"workers-{count}-{attempt}"
        self.queue(data_dir)
        conn = sqlite3.connect(f"{(data_dir / DB_FILENAME).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            with metered() as meter, ExitStack() as stack:
                spawned = datetime.now(UTC)
                began = time.monotonic()
                processes = [
                    stack.enter_context(
                        background(self.worker_command(data_dir), self.workdir / f"worker-{count}-{attempt}-{i}.log")
                    )
                    for i in range(count)
                ]
                while True:
                    ended = ended_jobs(conn)
                    if sum(ended.values()) >= n:
                        break
                    for index, process in enumerate(processes):
                        if process.poll() is not None:
                            log = self.workdir / f"worker-{count}-{attempt}-{index}.log"
                            raise SystemExit(
                                f"worker exited with {process.returncode}:\n{log.read_text(errors='replace')}"
                            )
                    if time.monotonic() - began > WORKERS_TIMEOUT_S:
                        raise SystemExit(f"{count} worker(s): {ended} of {n} jobs ended in {WORKERS_TIMEOUT_S:g} s")
                    time.sleep(POLL_S)
                cpu = sum(cpu_seconds(process.pid) for process in processes)
            stamps = conn.execute(
                "SELECT started_at, completed_at FROM jobs WHERE job_type = ? AND started_at IS NOT NULL",
                (JOB_TYPE,),
            ).fetchall()
        finally:
            conn.close()
        started = [parse_stamp(s) for s, _ in stamps]
        completed = [parse_stamp(c) for _, c in stamps if c]
        first, last = min(started), max(completed)
        per_job = sorted((parse_stamp(c) - parse_stamp(s)).total_seconds() * 1000 for s, c in stamps if c)
        return {
            "total": (last - spawned).total_seconds(),
            "ended": ended,
            "first_claim": (first - spawned).total_seconds(),
            "steady": (last - first).total_seconds(),
            "per_job": per_job,
            "cpu": cpu,
        }, meter

    def worker_rows(self) -> None:
        n = self.sizes.jobs
        one_rate: float | None = None
        for count in (1, 2):
            say(f"{n:,} no-op jobs through {count} worker process{'es' if count > 1 else ''} ...")
            figures, other = measure(lambda attempt, count=count: self.drain(count, attempt))
            rate = n / figures["total"]
            completed = figures["ended"].get("completed", 0)
            ok = completed == n
            if not ok:
                self.problems.append(f"{count} worker(s): {figures['ended']} of {n} jobs")
            ratio = "1.00 (ref)" if one_rate is None else f"{rate / one_rate:.2f}"
            one_rate = one_rate or rate
            steady = n / figures["steady"] if figures["steady"] > 0 else 0.0
            self.workers.append(
                Row(
                    f"{count} worker{'s' if count > 1 else ''}: {n:,} no-op jobs, start to last completion",
                    f"{rate:,.0f} jobs/s",
                    stamp_ms(percentile(figures["per_job"], 0.5)),
                    stamp_ms(percentile(figures["per_job"], 0.99)),
                    ratio,
                    check="ok" if ok else "MISMATCH",
                    other=other,
                    note=(
                        f"{figures['total']:.2f} s in all; first claim {figures['first_claim']:.2f} s after the "
                        f"start; then {steady:,.0f} jobs/s; worker CPU {figures['cpu'] * 1000 / n:.2f} ms per job; "
                        f"{completed:,} completed"
                    ),
                )
            )

    # ------------------------------------------------------------ the whole run

    def run(self) -> None:
        self.bare()
        self.submissions()
        self.worker_rows()

    def table(self) -> str:
        rows: list[Row | str] = [
            f"1. Submissions over HTTP ({self.wrk.describe()}, keep-alive, bearer token; "
            "ratio = req/s / the bare limit's; p50/p99 per request)",
            *self.submits,
            f"2. No-op jobs through worker processes ({self.sizes.jobs:,} queued; p50/p99 = one job's claim to "
            "completion; ratio = jobs/s / 1 worker's)",
            *self.workers,
        ]
        cells = [[row] if isinstance(row, str) else row.cells() for row in rows]
        return format_table(HEADER, cells, left=1, left_last=True)


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """While the block runs, SIGTERM unwinds like Ctrl-C (so every process gets stopped)."""

    def stop(signum: int, _frame: Any) -> None:
        say("terminated: stopping every process started")
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short loads and fewer jobs (a smoke run)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if not Path(WRK).exists():
        raise SystemExit(f"bench/jobs.py needs wrk at {WRK} (Debian: apt-get install wrk)")
    started, load_before = time.monotonic(), loadavg()
    workdir = Path(tempfile.mkdtemp(prefix="jobdash-jobs-"))
    try:
        with sigterm_as_exit():
            run = Run(sizes, workdir)
            run.run()
    except KeyboardInterrupt:
        say("interrupted: every process started was stopped")
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"jobdash job types, submitting over HTTP{' (--quick)' if args.quick else ''}: "
        f"{platform.python_implementation()} {platform.python_version()}, nproc {len(os.sched_getaffinity(0))}; "
        f"load average {load_before} before, {loadavg()} after; {time.monotonic() - started:.0f} s in all"
    )
    print(run.table())
    print(
        "- workers: each job is a claim, its log file (opened, two lines written), the worker's registry "
        "heartbeat, a heartbeat thread started and joined, and the completion: the worker's whole per-job cost"
    )
    print(
        f"- others' CPU: the share of the machine's CPU that processes outside the benchmark used during the "
        f"measurement; above {NOISE_MAX:.0%} it was taken again (at most {TRIES} tries) and the quietest try is "
        "shown; * = still noisy, run again on a quiet machine before trusting it"
    )
    print(f"checks failed: {len(run.problems)}" + (f" ({'; '.join(run.problems)})" if run.problems else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
