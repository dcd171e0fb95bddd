"""A VPO library database beside jobdash's own store: list / 304 / detail at a million jobs.

    .venv/bin/python bench/vpo.py            # 1,000,000 jobs in each store (about 4 minutes on a quiet machine)
    .venv/bin/python bench/vpo.py --quick    # 100,000 jobs, short loads (a smoke run)

The question: served with ``jobdash serve --vpo-db PATH``, is a VPO library database of
1,000,000 jobs within 1.5x of jobdash's own store of the same size, on the rows of
bench/scale.py? Everything runs in one go, over real HTTP against the real server (one
uvicorn process, ``--no-worker``), with bench/scale.py's load settings (wrk -t2 -c50
-d10s --latency) on the same machine:

1. Seeding. A copy of a real VPO database made by VPO's own code (schema 27, its 15 jobs;
   /work/shared/fixtures/vpo-library, never touched) gets N more jobs in VPO's exact
   formats (uuid4 ids, ``isoformat()`` timestamps with microseconds and ``+00:00``,
   VPO's job types and statuses, ffmpeg progress of running transcodes, VPO's summaries
   of scans / process / prune jobs, ``logs/<id>.log``, ``origin``, ``batch_id``),
   ``executemany`` in big transactions, the database staying in WAL mode as VPO keeps
   it. Then it is checkpointed and closed: no ``-wal`` is left, as when VPO is stopped,
   so jobdash opens it ``immutable``. jobdash's own store gets N jobs through
   bench/harness.py's seeding (as bench/scale.py does).
2. VPO stopped (immutable): both servers up, each row measured on the native server and
   then on the VPO one: the bare Starlette limit (bench/bare_app.py), ``GET /api/jobs``
   with ``If-None-Match`` (304), the full list unchanged (the read cache answers),
   ``?status=running``, a job's detail.
3. VPO running: a writer connection is kept open on the copy (it wrote once: ``-wal`` and
   ``-shm`` exist), and a fresh VPO server reads it in shared read-only mode, the live
   path: the 304 and the unchanged list; a VPO-format progress write every 0.5 s under
   load (beside bench/writer.py on the native store); and the first request after a
   change: one client commits a progress update (VPO's ``update_job_progress``, through a
   separate sqlite3 connection; the native store's ``progress()``) then asks for the list
   with its previous ETag, 50 rounds: every request is a cache miss.
4. A cache miss of each dashboard view (bench/scale.py's tab lists and filtered case,
   ``?status=completed``) and of the detail, in-process on both stores, and the VPO SQL
   behind it as VpoStore runs it (traced), with its time and ``EXPLAIN QUERY PLAN``.
   The first request after a change can only be measured with VPO running: a commit
   from another connection creates the ``-wal``.

Ratios are VPO / native. A wrk row is within 1.5x when VPO's req/s is at least native's
/ 1.5 and its p99 at most 1.5x native's; a probe row (one client), when its p50 and p99
are. Rows measured while other processes used more than 10% of the CPUs are taken again
(bench/scale.py's rule). Temporary files and every process started are removed on exit,
Ctrl-C included. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 (after the path set-up)
    HOST,
    NOISE_MAX,
    TRIES,
    Client,
    LoadSettings,
    Meter,
    Result,
    api_server_command,
    background,
    bare_server_command,
    fmt_ms,
    format_table,
    free_port,
    http_get,
    load,
    measure,
    memory_kib,
    newest_ids,
    percentile,
    say,
    seed,
    server,
)
from jobdash.model.list_query import ListQuery, parse_list_query  # noqa: E402
from jobdash.store.sqlite.store import SqliteStore  # noqa: E402
from jobdash.store.vpo.store import VpoStore, open_vpo  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vpo-library" / "library.db"
FIXTURE_JOBS = 15  # the jobs VPO's own code wrote into the fixture

WITHIN = 1.5  # the target: VPO within 1.5x of the native store
WRITER_INTERVAL_S = 0.5


@dataclass(frozen=True)
class Sizes:
    jobs: int
    wrk_seconds: int
    rounds: int


FULL = Sizes(1_000_000, 10, 50)
QUICK = Sizes(100_000, 2, 50)

T = TypeVar("T")

# ---------------------------------------------------------------- VPO's rows

# Every column of VPO's jobs table (schema 27), in its order.
VPO_COLUMNS = (
    "id",
    "file_id",
    "file_path",
    "job_type",
    "status",
    "priority",
    "policy_name",
    "policy_json",
    "progress_percent",
    "progress_json",
    "created_at",
    "started_at",
    "completed_at",
    "worker_pid",
    "worker_heartbeat",
    "output_path",
    "backup_path",
    "error_message",
    "files_affected_json",
    "summary_json",
    "log_path",
    "origin",
    "batch_id",
)
VPO_TYPES = (("process", 35), ("scan", 20), ("transcode", 20), ("apply", 10), ("move", 10), ("prune", 5))
VPO_STATUSES = (("completed", 86), ("failed", 7), ("cancelled", 4), ("queued", 3))
NEWEST_ACTIVE = 50  # as in bench/harness.py: only the newest jobs are queued or running
FILE_IDS = (2, 3, 4)  # the fixture's files rows (jobs.file_id references files.id)
SCAN_POLICY = '{"incremental": true, "prune": false, "verify_hash": false}'
TITLES = ("Silent", "Crimson", "Harbor", "Garden", "Signal", "Empire", "River", "Letters", "Machine", "Summer")
EXTENSIONS = ("mkv", "mkv", "mkv", "mp4", "avi", "m4v")
VPO_ERRORS = {
    "process": (
        "File not in database (run 'vpo scan' first)",
        "Input file not found: {path} (policy: /srv/library/noop-policy.yaml)",
    ),
    "transcode": ("ffmpeg exited with code 1: Conversion failed!", "Input file not found: {path}"),
    "apply": ("Unknown job type: JobType.APPLY",),
    "move": ("Destination exists: {path}",),
    "scan": ("Directory not found: {path}",),
    "prune": ("database is locked",),
}


def vpo_time(moment: datetime) -> str:
    """An instant as VPO writes it: ``datetime.now(timezone.utc).isoformat()``, microseconds shown."""
    return moment.isoformat(timespec="microseconds")


def ffmpeg_progress(rng: random.Random, percent: float, duration: float) -> str:
    """A running transcode's ``progress_json`` as VPO writes it (ffmpeg's figures, in its key order)."""
    out_time = round(duration * percent / 100, 2)
    return json.dumps(
        {
            "frame": int(out_time * 24),
            "fps": round(rng.uniform(20, 120), 1),
            "bitrate": f"{rng.uniform(800, 12000):.1f}kbits/s",
            "speed": round(rng.uniform(0.5, 4), 2),
            "out_time_seconds": out_time,
        }
    )


def vpo_rows(
    count: int, first: int, last: int, start: datetime, span_s: float, seed: int = 13
) -> list[tuple[Any, ...]]:
    """Rows ``first .. last-1`` of ``count`` VPO jobs created over ``span_s`` seconds from
    ``start`` (oldest first, ``created_at`` strictly increasing); each slice deterministic
    on its own, so slices can be generated in another process."""
    rng = random.Random(f"{seed}:{first}")
    types, type_weights = zip(*VPO_TYPES, strict=True)
    statuses, status_weights = zip(*VPO_STATUSES, strict=True)
    batch = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    rows: list[tuple[Any, ...]] = []
    for index in range(first, last):
        job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        created = start + timedelta(seconds=span_s * (index + 0.9 * rng.random()) / count)
        if index == count - 1:  # the newest: a running transcode, on the first page
            job_type, status = "transcode", "running"
        else:
            job_type = rng.choices(types, weights=type_weights)[0]
            status = (
                rng.choices(statuses, weights=status_weights)[0]
                if index < count - NEWEST_ACTIVE
                else rng.choice(("queued", "running"))
            )
        title = f"{rng.choice(TITLES)} {rng.choice(TITLES)} ({rng.randrange(1950, 2026)})"
        file_id = None
        if job_type == "scan":
            file_path = "/srv/library/media" if rng.random() < 0.7 else f"/srv/library/media/{title}"
        elif job_type == "prune":
            file_path = "library"
        else:
            file_path = f"/srv/library/media/{title}/{title}.{rng.choice(EXTENSIONS)}"
            file_id = rng.choice(FILE_IDS) if rng.random() < 0.8 else None
        origin = rng.choices(("daemon", "cli", None), weights=(60, 25, 15))[0]
        if origin == "cli" and rng.random() < 0.1:
            batch = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        priority = {"scan": 100, "prune": 50, "apply": 10}.get(job_type, 5 if rng.random() < 0.1 else 100)
        policy_name = {
            "process": "jobdash-noop" if origin == "cli" else "/srv/library/noop-policy.yaml",
            "transcode": "hevc",
            "move": "organize",
            "apply": "jobdash-noop",
        }.get(job_type)
        policy_json = {"scan": SCAN_POLICY, "apply": "[]"}.get(job_type)
        percent, progress_json = 0.0, None
        started = completed = heartbeat = pid = output = error = summary = None
        duration = rng.uniform(1200, 9000)  # a transcode's media seconds
        ran = status in ("running", "completed", "failed") or (status == "cancelled" and rng.random() < 0.5)
        if ran:
            started = created + timedelta(seconds=rng.uniform(0.0005, 30))
        if status == "running":
            percent = round(rng.uniform(0.5, 99.5), 1)
            pid = rng.randrange(1000, 60000)
            heartbeat = vpo_time(datetime.now(UTC) - timedelta(seconds=rng.uniform(0, 5)))
            if job_type == "transcode":
                progress_json = ffmpeg_progress(rng, percent, duration)
        elif status in ("completed", "failed", "cancelled"):
            completed = (started or created) + timedelta(seconds=rng.expovariate(1 / 60))
            percent = 100.0 if status in ("completed", "failed") and job_type != "transcode" else 0.0
        if status == "completed":
            percent = 100.0
            if job_type == "transcode":
                progress_json = ffmpeg_progress(rng, 100.0, duration)
                output = file_path
            elif job_type == "move":
                output = file_path.replace("/media/", "/sorted/", 1)
            elif job_type == "scan":
                found = rng.randrange(1, 5000)
                scanned = rng.randrange(0, found + 1)
                summary = json.dumps(
                    {
                        "total_discovered": found,
                        "scanned": scanned,
                        "skipped": found - scanned,
                        "added": rng.randrange(0, scanned + 1),
                        "removed": rng.randrange(0, 3),
                        "errors": 0,
                    }
                )
            elif job_type == "process":
                summary = json.dumps(
                    {
                        "phases_completed": rng.randrange(1, 4),
                        "total_changes": rng.randrange(0, 12),
                        "stats_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    }
                )
            elif job_type == "prune":
                summary = json.dumps({"files_pruned": rng.randrange(0, 20)})
        if status == "failed":
            if job_type == "transcode":
                percent = round(rng.uniform(0, 99), 1)
            error = rng.choice(VPO_ERRORS[job_type]).format(path=file_path)
            if job_type == "process":
                summary = json.dumps({"phases_completed": 0, "total_changes": 0})
        log_path = f"logs/{job_id}.log" if ran and job_type != "scan" and rng.random() < 0.9 else None
        rows.append(
            (
                job_id,
                file_id,
                file_path,
                job_type,
                status,
                priority,
                policy_name,
                policy_json,
                percent,
                progress_json,
                vpo_time(created),
                vpo_time(started) if started else None,
                vpo_time(completed) if completed else None,
                pid,
                heartbeat,
                output,
                None,
                error,
                None,
                summary,
                log_path,
                origin,
                batch if origin == "cli" else None,
            )
        )
    return rows


def _vpo_slice(task: tuple[int, int, int, datetime, float]) -> list[tuple[Any, ...]]:
    count, first, last, start, span_s = task
    return vpo_rows(count, first, last, start, span_s)


def wal_files(db: Path) -> str:
    """Which of ``-wal`` / ``-shm`` sit beside ``db`` (for the notes)."""
    present = [suffix for suffix in ("-wal", "-shm") if Path(f"{db}{suffix}").exists()]
    return ", ".join(present) if present else "no -wal, no -shm"


def seed_vpo(fixture: Path, folder: Path, count: int, chunk_rows: int = 100_000) -> tuple[Path, str]:
    """Copy VPO's database (and its logs) into ``folder``, insert ``count`` jobs in VPO's
    formats, checkpoint and close; return the copy's path and a line for the notes."""
    began = time.monotonic()
    folder.mkdir(parents=True)
    db = folder / fixture.name
    shutil.copyfile(fixture, db)  # copyfile: the copy is writable, whatever the fixture's mode
    for suffix in ("-wal", "-shm"):
        if Path(f"{fixture}{suffix}").exists():
            shutil.copyfile(f"{fixture}{suffix}", f"{db}{suffix}")
    if (fixture.parent / "logs").is_dir():
        (folder / "logs").mkdir()
        for log in (fixture.parent / "logs").iterdir():
            shutil.copyfile(log, folder / "logs" / log.name)
    now = datetime.now(UTC)
    span_s = timedelta(days=30).total_seconds()
    start = now - timedelta(seconds=span_s + 60)  # the newest jobs started before now
    tasks = [(count, first, min(count, first + chunk_rows), start, span_s) for first in range(0, count, chunk_rows)]
    insert = f"INSERT INTO jobs ({', '.join(VPO_COLUMNS)}) VALUES ({', '.join('?' * len(VPO_COLUMNS))})"
    inserting = 0.0
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            raise SystemExit(f"{fixture} is not in WAL mode ({mode}); VPO keeps its database in WAL mode")
        conn.execute("PRAGMA synchronous = OFF")  # seeding only: a crash means seeding again
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes stay in memory
        conn.execute("PRAGMA foreign_keys = ON")  # as VPO: file_id must name a files row
        with multiprocessing.get_context("fork").Pool(1) as pool:
            for chunk in pool.imap(_vpo_slice, tasks):
                t0 = time.monotonic()
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(insert, chunk)
                conn.execute("COMMIT")
                inserting += time.monotonic() - t0
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        conn.close()
    assert total == count + FIXTURE_JOBS, total
    left = wal_files(db)
    size = db.stat().st_size / 1e6
    return db, (
        f"VPO seeding: {count:,} jobs into a copy of {fixture} in {time.monotonic() - began:.1f} s "
        f"(inserts {inserting:.1f} s, {count / inserting:,.0f} rows/s, 7 VPO indexes + the primary key); "
        f"{size:,.0f} MB, WAL mode, after checkpoint and close: {left}"
    )


# ---------------------------------------------------------------- servers


def vpo_server_command(db: Path, port: int) -> list[str]:
    """bench/harness.py's server command, serving VPO's database instead of a data dir."""
    command = api_server_command(Path("unused"), port)
    at = command.index("--data-dir")
    command[at : at + 2] = ["--vpo-db", str(db)]
    return command


def list_cases(port: int, total: int) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Check a server of ``total`` jobs; return its cases by key: (name, path, headers)."""
    status, headers, body = http_get(port, "/api/jobs")
    assert status == 200, body[:200]
    assert json.loads(body)["total"] == total, (json.loads(body)["total"], total)
    etag = headers["etag"]
    assert http_get(port, "/api/jobs", {"If-None-Match": etag})[0] == 304
    status, _, body = http_get(port, "/api/jobs?status=completed&type=scan&limit=1")
    job_id = json.loads(body)["jobs"][0]["id"]
    assert http_get(port, f"/api/jobs/{job_id}")[0] == 200
    status, _, body = http_get(port, "/api/jobs?status=running")
    assert status == 200 and json.loads(body)["total"] > 0, body[:200]
    return {
        "304": ("GET /api/jobs + If-None-Match (304)", "/api/jobs", {"If-None-Match": etag}),
        "list": ("GET /api/jobs (unchanged: read cache)", "/api/jobs", {}),
        "filtered": ("GET /api/jobs?status=running", "/api/jobs?status=running", {}),
        "detail": ("GET /api/jobs/{id}", f"/api/jobs/{job_id}", {}),
    }


# ---------------------------------------------------------------- measuring


@dataclass
class Figures:
    """One side of a row: wrk's figures, or a sequential probe's."""

    rps: float | None
    p50: float
    p99: float
    errors: int
    other: Meter

    @classmethod
    def of(cls, measured: tuple[Result, Meter]) -> Figures:
        result, other = measured
        return cls(result.rps, result.p50_ms, result.p99_ms, result.errors, other)


def probe_figures(rounds: int, step: Callable[[int], tuple[float, bool]]) -> Figures:
    """Run ``step(i)`` -> (ms, as expected) ``rounds`` times, under bench/scale.py's noise rule."""

    def run(_: int) -> tuple[list[float], int]:
        times, anomalies = [], 0
        for i in range(rounds):
            ms, expected = step(i)
            times.append(ms)
            anomalies += not expected
        return sorted(times), anomalies

    (times, anomalies), other = measure(run)
    return Figures(None, percentile(times, 0.50), percentile(times, 0.99), anomalies, other)


@dataclass
class Row:
    figure: str
    mode: str
    native: Figures | None = None
    vpo: Figures | None = None
    note: str = ""

    def ratios(self) -> tuple[float | None, float, float]:
        assert self.native and self.vpo
        rps = self.vpo.rps / self.native.rps if self.vpo.rps and self.native.rps else None
        return rps, self.vpo.p50 / self.native.p50, self.vpo.p99 / self.native.p99

    def met(self) -> bool:
        rps, p50, p99 = self.ratios()
        first = rps >= 1 / WITHIN if rps is not None else p50 <= WITHIN
        return first and p99 <= WITHIN

    def target(self) -> str:
        assert self.native
        return f"req/s >= 1/{WITHIN:g}, p99 <= {WITHIN:g}x" if self.native.rps else f"p50, p99 <= {WITHIN:g}x"

    def noisy(self) -> bool:
        return any(side.other.others > NOISE_MAX for side in (self.native, self.vpo) if side)

    def cells(self) -> list[str]:
        def side(figures: Figures | None) -> list[str]:
            if figures is None:
                return ["", "", ""]
            rps = "" if figures.rps is None else f"{figures.rps:,.0f}"
            return [rps, fmt_ms(figures.p50), fmt_ms(figures.p99)]

        if self.native is None or self.vpo is None:  # the limit: one side only
            return [self.figure, self.mode, *side(self.native), "", "", "", "", "", "", "", "", "", self.note]
        rps, p50, p99 = self.ratios()
        errors = f"{self.native.errors} / {self.vpo.errors}"
        other = f"{self.native.other.describe()} / {self.vpo.other.describe()}"
        return [
            self.figure,
            self.mode,
            *side(self.native),
            *side(self.vpo),
            "" if rps is None else f"{rps:.2f}",
            f"{p50:.2f}",
            f"{p99:.2f}",
            self.target(),
            ("met" if self.met() else "MISSED") + ("*" if self.noisy() else ""),
            errors,
            other,
            self.note,
        ]


HEADER = (
    "figure",
    "VPO mode",
    "native req/s",
    "p50",
    "p99",
    "VPO req/s",
    "p50",
    "p99",
    "req/s ratio",
    "p50 ratio",
    "p99 ratio",
    "target",
    "met?",
    "errors n / v",
    "others' CPU n / v",
    "notes",
)


# ---------------------------------------------------------------- VPO as it runs


def vpo_progress_update(conn: sqlite3.Connection, job_id: str, step: int) -> None:
    """One commit of VPO's ``update_job_progress`` for a running transcode (autocommit)."""
    rng = random.Random(step)
    percent = round(1 + (step * 0.37) % 98, 1)
    conn.execute(
        "UPDATE jobs SET progress_percent = ?, progress_json = ? WHERE id = ?",
        (percent, ffmpeg_progress(rng, percent, 5400.0), job_id),
    )


def vpo_connection(db: Path) -> sqlite3.Connection:
    """A writer connection as VPO opens one (WAL, its 10 s busy timeout, autocommit here)."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def vpo_writer_main(db: Path, job_id: str, interval: float) -> int:
    """Internal (``--vpo-writer``): VPO's daemon recording a transcode's progress every
    ``interval`` seconds from another process, until SIGTERM; prints one JSON line."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    conn = vpo_connection(db)
    writes, slowest, started = 0, 0.0, time.monotonic()
    while not stop.is_set():
        began = time.perf_counter()
        vpo_progress_update(conn, job_id, writes + 1)
        writes += 1
        slowest = max(slowest, time.perf_counter() - began)
        stop.wait(max(0.0, started + writes * interval - time.monotonic()))
    conn.close()
    print(json.dumps({"writes": writes, "slowest_write_ms": round(slowest * 1000, 2)}), flush=True)
    return 0


@contextmanager
def vpo_running(db: Path, job_id: str) -> Iterator[sqlite3.Connection]:
    """VPO running: a writer connection kept open after one write, so ``-wal`` and ``-shm`` exist."""
    conn = vpo_connection(db)
    try:
        conn.execute("UPDATE jobs SET worker_heartbeat = ? WHERE id = ?", (vpo_time(datetime.now(UTC)), job_id))
        assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists(), wal_files(db)
        yield conn
    finally:
        conn.close()


# ---------------------------------------------------------------- the SQL on a miss

# The dashboard's views: bench/scale.py's tab lists and its filtered case, and the biggest status.
VIEWS = (
    "/api/jobs",
    "/api/jobs?status=running",
    "/api/jobs?status=running&type=scan",
    "/api/jobs?status=failed",
    "/api/jobs?status=completed",
    "/api/jobs?type=scan",
    "/api/jobs?since=24h",
    "/api/jobs?offset=50",
)
SLOW_MS = 50.0  # a call slower than this is timed over fewer runs


def view_query(path: str) -> ListQuery:
    return parse_list_query(parse_qs(urlsplit(path).query))


class TracedVpo:
    """VpoStore with its statements traced as SQLite runs them (values bound)."""

    def __init__(self, db: Path) -> None:
        self.store = open_vpo(db)
        self.seen: list[str] | None = None
        read = self.store._conn.read

        def tracing(fn: Callable[..., Any], *args: Any) -> Any:
            def wrapped(conn: sqlite3.Connection, *inner: Any) -> Any:
                if self.seen is None:
                    return fn(conn, *inner)
                conn.set_trace_callback(self.seen.append)
                try:
                    return fn(conn, *inner)
                finally:
                    conn.set_trace_callback(None)

            return read(wrapped, *args)

        self.store._conn.read = tracing  # type: ignore[method-assign]

    def statements(self, call: Callable[[VpoStore], Any]) -> list[str]:
        """The SELECTs that ``call(store)`` runs."""
        self.seen = []
        try:
            call(self.store)
            return [sql for sql in self.seen if sql.lstrip().upper().startswith("SELECT")]
        finally:
            self.seen = None


def timed(call: Callable[[], Any], runs: int = 7) -> float:
    """Median milliseconds of ``call()`` (after one warm-up run; 2 runs when it is slow)."""
    began = time.perf_counter()
    call()
    if (time.perf_counter() - began) * 1000 > SLOW_MS:
        runs = 2
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def short_sql(sql: str) -> str:
    """The statement with its long SELECT list elided."""
    head, sep, tail = sql.partition(" FROM ")
    if sep and head.upper().startswith("SELECT") and head.count(",") > 3:
        head = "SELECT <19 columns>"
    return " ".join(f"{head}{sep}{tail}".split())


def listing(query: ListQuery) -> Callable[[Any], Any]:
    return lambda store: store.list_snapshot(query)


def sql_report(db: Path, native_dir: Path, detail_ids: tuple[str, str]) -> list[str]:
    """For each dashboard view (and the detail): the whole cache miss in-process on both
    stores, then each VPO statement with its EXPLAIN QUERY PLAN and time."""
    lines: list[str] = []
    traced, native = TracedVpo(db), SqliteStore(native_dir)
    plain = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    vpo_detail, native_detail = detail_ids
    cases: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
        (path, listing(view_query(path)), listing(view_query(path))) for path in VIEWS
    ]
    cases.append(
        (
            "/api/jobs/{id}",
            lambda store: store.get_snapshot(vpo_detail),
            lambda store: store.get_snapshot(native_detail),
        )
    )
    try:
        for label, on_vpo, on_native in cases:
            say(f"SQL of {label} ...")
            v = timed(lambda on_vpo=on_vpo: on_vpo(traced.store))
            n = timed(lambda on_native=on_native: on_native(native))
            lines.append(f"  {label}: a miss in-process: VPO {fmt_ms(v)}, native {fmt_ms(n)} ({v / n:.1f}x)")
            for sql in traced.statements(on_vpo):
                plan = "; ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}"))
                ms = timed(lambda sql=sql: plain.execute(sql).fetchall())
                lines.append(f"      {fmt_ms(ms):>9}  {short_sql(sql)}")
                lines.append(f"                 plan: {plan}")
    finally:
        plain.close()
        traced.store.close()
        native.close()
    return lines


# ---------------------------------------------------------------- the run


@dataclass
class Run:
    sizes: Sizes
    workdir: Path
    fixture: Path
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.wrk = LoadSettings(threads=2, connections=50, duration=self.sizes.wrk_seconds)
        self.native_dir = self.workdir / "native"

    def wrk_on(self, port: int, path: str, headers: dict[str, str] | None = None) -> Figures:
        return Figures.of(measure(lambda _: load(f"http://{HOST}:{port}{path}", self.wrk, headers)))

    def server(self, command: list[str], port: int, label: str, ready: str = "/healthz") -> Any:
        return server(command, port, ready, self.workdir / f"server-{label}.log")

    def seed(self) -> None:
        n = self.sizes.jobs
        say(f"seeding a copy of VPO's database with {n:,} jobs ...")
        self.db, note = seed_vpo(self.fixture, self.workdir / "vpo", n)
        say(note)
        self.notes.append(note)
        say(f"seeding jobdash's own store with {n:,} jobs ...")
        report = seed(self.native_dir, n)
        self.notes.append(f"native seeding (bench/harness.py): {report.describe()}")
        say(f"seeded {report.describe()}")
        conn = sqlite3.connect(f"{self.db.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            self.vpo_job = conn.execute(
                "SELECT id FROM jobs WHERE status = 'running' AND job_type = 'transcode' "
                "ORDER BY created_at DESC LIMIT 1"
            ).fetchone()[0]
            mix = conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY 2 DESC").fetchall()
        finally:
            conn.close()
        self.notes.append("VPO statuses: " + ", ".join(f"{s} {c:,}" for s, c in mix))
        self.native_job = newest_ids(self.native_dir, "running", 1)[0]

    def run(self) -> None:
        n = self.sizes.jobs
        size = f"{n:,}"
        self.seed()
        port = free_port()
        with self.server(bare_server_command(port), port, "bare", "/constant"):
            say("bare Starlette (constant 5 KB JSON) ...")
            self.limit = self.wrk_on(port, "/constant")
        self.rows.append(Row("bare Starlette, constant 5 KB JSON (the limit)", "-", self.limit))

        native_port, vpo_port = free_port(), free_port()
        with self.server(api_server_command(self.native_dir, native_port), native_port, "native") as native:
            native_cases = list_cases(native_port, n)
            self.native_detail_id = native_cases["detail"][1].rsplit("/", 1)[1]
            # 2. VPO stopped: no -wal beside the copy, so jobdash opens it immutable.
            assert wal_files(self.db) == "no -wal, no -shm", wal_files(self.db)
            with self.server(vpo_server_command(self.db, vpo_port), vpo_port, "vpo-immutable") as vpo:
                vpo_cases = list_cases(vpo_port, n + FIXTURE_JOBS)
                self.detail_id = vpo_cases["detail"][1].rsplit("/", 1)[1]
                stopped: dict[str, Row] = {}
                for key in ("304", "list", "filtered", "detail"):
                    name, path, headers = native_cases[key]
                    say(f"{size} jobs: {name}: native ...")
                    native_figures = self.wrk_on(native_port, path, headers)
                    _, path, headers = vpo_cases[key]
                    say(f"{size} jobs: {name}: VPO (immutable) ...")
                    row = Row(name, "stopped (immutable)", native_figures, self.wrk_on(vpo_port, path, headers))
                    self.rows.append(row)
                    stopped[key] = row
                left = wal_files(self.db)
                rss = memory_kib(vpo.pid)["VmHWM"] / 1024, memory_kib(native.pid)["VmHWM"] / 1024
            self.notes.append(
                f"VPO stopped: beside the copy while it was served: {left} (jobdash created nothing); "
                f"peak RSS VPO server {rss[0]:.0f} MB, native {rss[1]:.0f} MB"
            )

            # 3. VPO running: a writer connection stays open; a fresh server shares -wal/-shm.
            with vpo_running(self.db, self.vpo_job) as writer:
                self.notes.append(f"VPO running: a writer connection kept open: {wal_files(self.db)} beside the copy")
                with self.server(vpo_server_command(self.db, vpo_port), vpo_port, "vpo-live"):
                    vpo_cases = list_cases(vpo_port, n + FIXTURE_JOBS)
                    for key in ("304", "list"):
                        name, path, headers = vpo_cases[key]
                        say(f"{size} jobs: {name}: VPO (running) ...")
                        self.rows.append(
                            Row(
                                name,
                                "running (-wal/-shm)",
                                stopped[key].native,
                                self.wrk_on(vpo_port, path, headers),
                                note="native: the row above",
                            )
                        )
                    self.moving(native_port, vpo_port)
                    self.first_after_change(native_port, vpo_port, writer)
        self.sql = sql_report(self.db, self.native_dir, (self.detail_id, self.native_detail_id))
        self.notes.append(f"after the run: {wal_files(self.db)} beside the copy")

    def moving(self, native_port: int, vpo_port: int) -> None:
        name = f"GET /api/jobs, a writer every {WRITER_INTERVAL_S:g} s, under load"
        say(f"{name}: native (bench/writer.py) ...")
        command = [sys.executable, str(BENCH_DIR / "writer.py"), "--data-dir", str(self.native_dir)]
        command += ["--job-id", self.native_job, "--interval", str(WRITER_INTERVAL_S)]
        with background(command, self.workdir / "writer-native.log"):
            time.sleep(1)
            native = self.wrk_on(native_port, "/api/jobs")
        say(f"{name}: VPO (running; VPO-format progress writes from another process) ...")
        command = [sys.executable, __file__, "--vpo-writer", str(self.db), "--job-id", self.vpo_job]
        command += ["--interval", str(WRITER_INTERVAL_S)]
        with background(command, self.workdir / "writer-vpo.log"):
            time.sleep(1)
            vpo = self.wrk_on(vpo_port, "/api/jobs")
        self.rows.append(Row(name, "running (-wal/-shm)", native, vpo, note="each write: a cache miss under load"))

    def first_after_change(self, native_port: int, vpo_port: int, writer: sqlite3.Connection) -> None:
        rounds = self.sizes.rounds
        name = f"first request after a change (1 client, {rounds} rounds)"

        def prober(port: int, commit: Callable[[int], None]) -> Figures:
            client = Client(port)
            etag = client.get("/api/jobs").headers["etag"]

            def step(i: int) -> tuple[float, bool]:
                nonlocal etag
                commit(i)
                reply = client.get("/api/jobs", {"If-None-Match": etag})
                etag = reply.headers.get("etag", etag)
                return reply.ms, reply.status == 200

            try:
                return probe_figures(rounds, step)
            finally:
                client.close()

        say(f"{name}: native (SqliteStore.progress) ...")
        store = SqliteStore(self.native_dir)
        try:
            native = prober(native_port, lambda i: store.progress(self.native_job, 10_000 + i, 1_000_000))
        finally:
            store.close()
        say(f"{name}: VPO (update_job_progress through a separate connection) ...")
        conn = vpo_connection(self.db)
        try:
            vpo = prober(vpo_port, lambda i: vpo_progress_update(conn, self.vpo_job, 10_000 + i))
        finally:
            conn.close()
        self.rows.append(Row(name, "running (-wal/-shm)", native, vpo, note="each one a cache miss"))

    def table(self) -> str:
        cells = [row.cells() for row in self.rows]
        return format_table(HEADER, cells, left=2, left_last=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 jobs and short loads (a smoke run)")
    parser.add_argument("--fixture", type=Path, default=FIXTURE, help=f"VPO's database to copy (default {FIXTURE})")
    parser.add_argument("--vpo-writer", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--job-id", help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=float, default=WRITER_INTERVAL_S, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.vpo_writer:
        return vpo_writer_main(args.vpo_writer, args.job_id, args.interval)
    if not Path("/usr/bin/wrk").exists():
        raise SystemExit("bench/vpo.py needs wrk at /usr/bin/wrk (Debian: apt-get install wrk)")
    if not args.fixture.is_file():
        raise SystemExit(f"no VPO database at {args.fixture}")
    # SIGTERM ends the run as Ctrl-C does: every server, writer and temporary file is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = QUICK if args.quick else FULL
    started, load_before = time.monotonic(), Path("/proc/loadavg").read_text().split()[0]
    workdir = Path(tempfile.mkdtemp(prefix="jobdash-vpo-"))
    run = Run(sizes, workdir, args.fixture)
    try:
        run.run()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"jobdash: VPO library database vs the native store at {sizes.jobs:,} jobs"
        f"{' (--quick)' if args.quick else ''}: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; load average {load_before} before, "
        f"{Path('/proc/loadavg').read_text().split()[0]} after; {time.monotonic() - started:.0f} s in all"
    )
    print(f"{run.wrk.describe()}; ratios = VPO / native; VPO has the fixture's {FIXTURE_JOBS} jobs more")
    print(run.table())
    for note in run.notes:
        print(f"- {note}")
    print(
        "A cache miss of each dashboard view in-process (median), and the VPO SQL behind it (traced from "
        "VpoStore; median time; EXPLAIN QUERY PLAN); no sqlite_stat1 (neither VPO nor jobdash runs ANALYZE):"
    )
    for line in run.sql:
        print(line)
    print(
        f"others' CPU: the share of the machine's CPU that processes outside the benchmark used during the "
        f"measurement (native / VPO); above {NOISE_MAX:.0%} it was taken again (at most {TRIES} tries) and the "
        "quietest try is shown; * = a verdict judged on such a measurement"
    )
    missed = [f"{row.figure} [{row.mode}]" for row in run.rows if row.native and row.vpo and not row.met()]
    print(f"targets missed: {len(missed)}" + (f" ({'; '.join(missed)})" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
