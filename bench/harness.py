"""What the benchmarks share: seeding, servers, wrk, process figures, tables.

bench/api.py and bench/scale.py both use this module; each piece of logic lives here
once. Never part of the test run.

- Seeding: realistic job rows inserted with ``executemany`` through one sqlite3
  connection, in big transactions, after :class:`SqliteStore` created the schema (so the
  triggers that keep ``jobs_version`` and ``job_counts`` run as for any other writer).
  ``created_at`` is written in the store's own format, so the normalising trigger's
  ``WHEN`` is false and it never fires an ``UPDATE`` per row. Another process generates
  the next rows meanwhile; 1,000,000 jobs take about 25 s.
- Servers: the real one (``python -m jobdash serve --no-worker``) and the bare
  Starlette reference (bench/bare_app.py), both one uvicorn process, started and stopped
  by :func:`server`.
- Load: wrk (``-t -c -d --latency``) and its output parsed into a :class:`Result`;
  a fallback generator (http.client threads in another process) when wrk is missing.
- Process figures from /proc: CPU seconds (utime + stime) and peak RSS (VmHWM), and
  :func:`metered`: the CPU share other processes on the machine took meanwhile.
- Job logs: realistic scan-log lines (~90 bytes), written in big blocks.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT / "backend") not in sys.path:  # this checkout's jobdash, installed or not
    sys.path.insert(0, str(ROOT / "backend"))

from jobdash.store.sqlite.store import DB_FILENAME, SqliteStore  # noqa: E402

WRK = "/usr/bin/wrk"
READY_TIMEOUT_S = 60.0
HOST = "127.0.0.1"

# ---------------------------------------------------------------- seeding

TYPES = (("scan", 40), ("apply", 15), ("transcode", 20), ("move", 10), ("process", 10), ("prune", 5))
# Older jobs have ended, or wait in the queue behind higher priorities; only the newest
# few are running, as with a handful of workers (so the stale-job check, which visits
# every running row, sees what it would see in production).
STATUSES = (("completed", 86), ("failed", 7), ("cancelled", 4), ("queued", 3))
CONTAINERS = ("matroska", "mp4", "avi", "mpegts", "webm", "quicktime")
WORDS = (
    "Silent",
    "Crimson",
    "Harbor",
    "Garden",
    "Signal",
    "Empire",
    "River",
    "Letters",
    "Machine",
    "Summer",
    "Northern",
    "Iron",
    "Paper",
    "Midnight",
    "Frozen",
    "Wild",
    "Station",
    "Horizon",
)
# The newest jobs are the ones still queued or running (the top of the default page).
NEWEST_ACTIVE = 50
SEED_CHUNK_ROWS = 100_000

COLUMNS = (
    "id",
    "file_path",
    "job_type",
    "status",
    "priority",
    "policy_name",
    "created_at",
    "started_at",
    "completed_at",
    "progress_percent",
    "progress_json",
    "worker_pid",
    "worker_heartbeat",
    "output_path",
    "error_message",
    "summary_json",
    "log_path",
)


def iso(moment: datetime) -> str:
    """Given an aware datetime, return it in the store's one format (``...SS.mmmZ``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def job_rows(
    count: int, first: int = 0, last: int | None = None, *, now: datetime | None = None, seed: int = 7
) -> list[tuple[Any, ...]]:
    """Return rows ``first .. last-1`` of ``count`` realistic jobs spread over the 30 days
    before ``now`` (oldest first). Each slice is deterministic on its own, so slices can
    be generated in parallel."""
    rng = random.Random(f"{seed}:{first}")
    last = count if last is None else last
    types, statuses = [t for t, _ in TYPES], [s for s, _ in STATUSES]
    type_cum = list(itertools.accumulate(w for _, w in TYPES))
    status_cum = list(itertools.accumulate(w for _, w in STATUSES))
    now = now or datetime.now(UTC)
    span = timedelta(days=30).total_seconds()
    rows: list[tuple[Any, ...]] = []
    for index in range(first, last):
        job_type = rng.choices(types, cum_weights=type_cum)[0]
        created = now - timedelta(seconds=span * (1 - (index + rng.random()) / count))
        status = (
            rng.choices(statuses, cum_weights=status_cum)[0]
            if index < count - NEWEST_ACTIVE
            else rng.choice(("queued", "running"))
        )
        title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} ({rng.randrange(1950, 2025)})"
        file_path = (
            f"/media/library/Movies/{title}" if job_type == "scan" else f"/media/library/Movies/{title}/{title}.mkv"
        )
        priority = 100 if rng.random() < 0.8 else rng.randrange(0, 1001)
        started = completed = progress_json = summary_json = error = output = heartbeat = pid = None
        percent = 0.0
        if status != "queued":
            started = created + timedelta(seconds=rng.uniform(0.1, 120))
            pid = rng.randrange(1000, 60000)
        if status == "running":
            total = rng.randrange(10, 5000)
            processed = rng.randrange(0, total)
            percent = round(100 * processed / total, 2)
            progress_json = json.dumps({"processed": processed, "total": total, "unit": "files"}, sort_keys=True)
            heartbeat = iso(now - timedelta(seconds=rng.uniform(0, 5)))
        if status in ("completed", "failed", "cancelled"):
            assert started is not None
            completed = started + timedelta(seconds=rng.expovariate(1 / 90))
        if status == "completed":
            percent = 100.0
            total = rng.randrange(1, 5000)
            progress_json = json.dumps({"processed": total, "total": total, "unit": "files"}, sort_keys=True)
            if job_type == "scan":
                counts = {name: rng.randrange(0, total) for name in rng.sample(CONTAINERS, 3)}
                summary_json = json.dumps(
                    {
                        "root": file_path,
                        "files_found": total,
                        "files_scanned": total,
                        "errors": 0,
                        "bytes": rng.randrange(10**6, 10**12),
                        "containers": dict(sorted(counts.items())),
                        "mismatched": 0,
                        "elapsed_seconds": round(rng.uniform(0.5, 600), 3),
                        "error_samples": [],
                    },
                    sort_keys=True,
                )
            else:
                output = file_path.rsplit(".", 1)[0] + ".out.mkv"
        if status == "failed":
            error = rng.choice(
                (
                    "source file is missing",
                    "target volume is full",
                    "Worker lost: no heartbeat for over 60 s; the job was abandoned and marked failed.",
                )
            )
        job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        rows.append(
            (
                job_id,
                file_path,
                job_type,
                status,
                priority,
                None,
                iso(created),
                iso(started) if started else None,
                iso(completed) if completed else None,
                percent,
                progress_json,
                pid,
                heartbeat,
                output,
                error,
                summary_json,
                None,
            )
        )
    return rows


def _row_slice(task: tuple[int, int, int, datetime]) -> list[tuple[Any, ...]]:
    count, first, last, now = task
    return job_rows(count, first, last, now=now)


@dataclass
class SeedReport:
    count: int
    seconds: float  # wall time of the whole seeding
    insert_seconds: float  # time spent in executemany + COMMIT (triggers included)

    def describe(self) -> str:
        rate = self.count / self.insert_seconds if self.insert_seconds else 0
        return (
            f"{self.count:,} jobs in {self.seconds:.1f} s "
            f"(inserts {self.insert_seconds:.1f} s, {rate:,.0f} rows/s, triggers included)"
        )


def seed(data_dir: Path, count: int, *, chunk_rows: int = SEED_CHUNK_ROWS) -> SeedReport:
    """Create the schema with SqliteStore, then insert ``count`` rows.

    One connection, ``executemany`` in transactions of ``chunk_rows`` rows, while another
    process generates the next rows. The store's triggers run for every row (as for any
    writer); no ANALYZE afterwards, because the application never runs one either: the
    query plans measured are the ones it gets.
    """
    started = time.monotonic()
    data_dir.mkdir(parents=True, exist_ok=True)
    SqliteStore(data_dir).close()
    now = datetime.now(UTC)
    tasks = [(count, first, min(count, first + chunk_rows), now) for first in range(0, count, chunk_rows)]
    inserting = 0.0
    conn = sqlite3.connect(data_dir / DB_FILENAME, isolation_level=None)
    try:
        # Seeding only (a crash would just mean seeding again): no journal, no syncs.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes stay in memory
        insert = f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        with multiprocessing.get_context("fork").Pool(1) as pool:
            for chunk in pool.imap(_row_slice, tasks):
                began = time.monotonic()
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(insert, chunk)
                conn.execute("COMMIT")
                inserting += time.monotonic() - began
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return SeedReport(count, time.monotonic() - started, inserting)


def newest_ids(data_dir: Path, status: str, count: int) -> list[str]:
    """Return the ids of the ``count`` newest jobs with ``status`` (newest first)."""
    conn = sqlite3.connect(f"{(data_dir / DB_FILENAME).resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT id FROM jobs WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (status, count),
        ).fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One GET on a fresh connection: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def api_server_command(data_dir: Path, port: int) -> list[str]:
    """The server under test: one uvicorn process, no worker child."""
    return [
        sys.executable,
        "-m",
        "jobdash",
        "serve",
        "--log-level",
        "warning",
        "--no-worker",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        # Keep the seeded running jobs running: no stale-job recovery mid-run.
        "--stale-after",
        "86400",
    ]


def bare_server_command(port: int) -> list[str]:
    """The reference limit: bare Starlette answering a constant 5 KB JSON (bench/bare_app.py)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def stop_process(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it does not end within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def server(command: list[str], port: int, ready_path: str, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``; wait until ``ready_path`` answers 200; stop it (SIGTERM) afterwards."""
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    LIVE.add(process.pid)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                if http_get(port, ready_path)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server not ready in {READY_TIMEOUT_S} s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield process
    finally:
        LIVE.discard(process.pid)
        stop_process(process)
        log.close()


def endpoint_cases(port: int, count: int) -> list[tuple[str, str, dict[str, str]]]:
    """Check a freshly seeded server of ``count`` jobs; return its throughput cases:
    (name, path, request headers) for the list, a filtered list, a detail and a 304."""
    status, headers, body = http_get(port, "/api/jobs")
    assert status == 200, body[:200]
    etag = headers["etag"]
    assert json.loads(body)["total"] == count, body[:200]
    status, _, body = http_get(port, "/api/jobs?status=completed&type=scan&limit=1")
    job_id = json.loads(body)["jobs"][0]["id"]
    assert http_get(port, "/api/jobs", {"If-None-Match": etag})[0] == 304
    return [
        ("GET /api/jobs + If-None-Match (304)", "/api/jobs", {"If-None-Match": etag}),
        ("GET /api/jobs", "/api/jobs", {}),
        ("GET /api/jobs?status=running&type=scan", "/api/jobs?status=running&type=scan", {}),
        ("GET /api/jobs/{id}", f"/api/jobs/{job_id}", {}),
    ]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    ms: float  # from sending the request to the last body byte
    wire_bytes: int  # status line + headers + body, as received


class Client:
    """One keep-alive HTTP/1.1 connection that times each GET (for sequential probes)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self._conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        """GET ``path``; on a connection the server closed meanwhile, retry once afresh."""
        for attempt in (0, 1):
            began = time.perf_counter()
            try:
                self._conn.request("GET", path, headers=headers or {})
                response = self._conn.getresponse()
                body = response.read()
            except (ConnectionError, http.client.RemoteDisconnected):
                self._conn.close()
                self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                if attempt:
                    raise
                continue
            ms = (time.perf_counter() - began) * 1000
            pairs = response.getheaders()
            head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + 2
            head += sum(len(k) + len(v) + 4 for k, v in pairs)
            return Reply(response.status, {k.lower(): v for k, v in pairs}, body, ms, head + len(body))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._conn.close()


@contextmanager
def background(command: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (a helper process) while the block runs; SIGTERM it afterwards."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        LIVE.add(process.pid)
        try:
            yield process
        finally:
            LIVE.discard(process.pid)
            stop_process(process)


# ---------------------------------------------------------------- job logs

LOG_BLOCK_LINES = 100_000
_EXTENSIONS = (("mkv", "matroska"), ("mp4", "mp4"), ("avi", "avi"), ("ts", "mpegts"), ("webm", "webm"))
_LOG_EPOCH = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


def log_lines(first: int, count: int, seed: int = 11) -> bytes:
    """Return scan-log lines ``first .. first+count-1`` (about 90 bytes each), as the
    scan handler writes them: ``<time> INFO <file> <container> <size> <fingerprint>``."""
    rng = random.Random(f"{seed}:{first}")
    out: list[str] = []
    for number in range(first, first + count):
        seconds, tenth = divmod(number, 10)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(_LOG_EPOCH + seconds)) + f".{tenth * 100:03d}Z"
        extension, container = _EXTENSIONS[rng.randrange(len(_EXTENSIONS))]
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} ({rng.randrange(1950, 2025)})"
        out.append(
            f"{stamp} INFO {name}.{extension} {container} {rng.randrange(10**6, 10**10)} {rng.getrandbits(64):016x}\n"
        )
    return "".join(out).encode()


def write_log(path: Path, lines: int) -> int:
    """Write a log of ``lines`` lines in big blocks (a 10-million-line log is ~0.9 GB);
    return its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = log_lines(0, min(lines, LOG_BLOCK_LINES))
    whole, rest = divmod(lines, LOG_BLOCK_LINES)
    with open(path, "wb", buffering=0) as handle:
        for _ in range(whole):
            handle.write(block)
        if rest:
            handle.write(log_lines(0, rest))
    return path.stat().st_size


# ---------------------------------------------------------------- process figures

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Given a live pid, return its CPU time so far (user + system), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5) (utime, stime); the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """Given a live pid, return its ``VmRSS`` and ``VmHWM`` (peak RSS) in KiB."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found


# Long-lived helper processes of this benchmark (servers, writers) while they run. The
# ones that ended were reaped, so their CPU time shows in RUSAGE_CHILDREN instead.
LIVE: set[int] = set()


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores; steal included)."""
    with open("/proc/stat") as handle:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, handle.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def _own_seconds() -> float:
    """CPU seconds used so far by this benchmark: itself, its reaped children, its live helpers."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime
    for pid in list(LIVE):
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


@dataclass
class Meter:
    """How much of the machine's CPU other processes used while a measurement ran."""

    others: float = 0.0  # share of all cores, 0..1

    def describe(self) -> str:
        return f"{self.others:.0%}"


@contextmanager
def metered() -> Iterator[Meter]:
    """Measure, around the block, the CPU share used by processes outside this benchmark."""
    meter = Meter()
    wall, busy, own = time.monotonic(), _busy_seconds(), _own_seconds()
    yield meter
    wall = time.monotonic() - wall
    others = (_busy_seconds() - busy) - (_own_seconds() - own)
    meter.others = max(0.0, others) / (wall * (os.cpu_count() or 1)) if wall > 0 else 0.0


T = TypeVar("T")

# A measurement taken while other processes used more than this share of the CPUs is
# taken again (up to TRIES times); the quietest attempt is kept.
NOISE_MAX = 0.10
TRIES = 3


def say(text: str) -> None:
    """Print a progress line to stderr (the tables go to stdout)."""
    print(text, file=sys.stderr, flush=True)


def measure(what: Callable[[int], T], tries: int = TRIES) -> tuple[T, Meter]:
    """Run ``what(attempt)`` under a CPU meter, again while other processes were busy;
    return the quietest attempt's value and its meter."""
    best: tuple[T, Meter] | None = None
    for attempt in range(tries):
        with metered() as meter:
            value = what(attempt)
        if best is None or meter.others < best[1].others:
            best = (value, meter)
        if meter.others <= NOISE_MAX:
            break
        if attempt + 1 < tries:
            say(f"  other processes used {meter.describe()} of the CPUs meanwhile: measuring again")
    assert best is not None
    return best


# ---------------------------------------------------------------- load generation


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    bytes_per_response: float
    errors: int
    max_ms: float = 0.0


@dataclass(frozen=True)
class LoadSettings:
    """The same settings for every throughput row: wrk ``-t -c -d``."""

    threads: int = 2
    connections: int = 50
    duration: int = 10
    generator: str = "wrk" if Path(WRK).exists() else "python"

    def describe(self) -> str:
        if self.generator == "wrk":
            return f"wrk -t{self.threads} -c{self.connections} -d{self.duration}s --latency"
        return f"python generator, {self.connections} connections, {self.duration} s"


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"cannot read a wrk duration from {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Result:
    """Given wrk --latency output, return its figures (p50/p99 from 'Latency Distribution')."""
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB|TB) read", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    stats = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.MULTILINE)
    if not (done and rps and "50" in percentiles and "99" in percentiles):
        raise ValueError(f"unexpected wrk output:\n{output}")
    requests = int(done.group(1))
    seconds = _ms(done.group(2) + done.group(3)) / 1000
    read = float(done.group(4)) * _SIZE[done.group(5)]
    errors = 0
    for pattern in (
        r"Non-2xx or 3xx responses: (\d+)",
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
    ):
        match = re.search(pattern, output)
        if match:
            errors += sum(int(n) for n in match.groups())
    return Result(
        requests,
        seconds,
        float(rps.group(1)),
        _ms(percentiles["50"]),
        _ms(percentiles["99"]),
        read / max(requests, 1),
        errors,
        _ms(stats.group(3)) if stats else 0.0,
    )


def run_wrk(url: str, settings: LoadSettings, headers: dict[str, str]) -> Result:
    command = [
        WRK,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{settings.duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=settings.duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Given ascending values, return the value at ``fraction`` (nearest rank); 0 if empty."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def load_worker(url: str, connections: int, duration: float, headers: dict[str, str]) -> dict[str, Any]:
    """Fallback generator: ``connections`` threads, each a keep-alive http.client loop."""
    parts = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)", url)
    assert parts, url
    host, port, path = parts.group(1), int(parts.group(2)), parts.group(3)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    sizes = [0] * connections
    errors = [0] * connections
    stop_at = time.monotonic() + duration

    def loop(slot: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                continue
            latencies[slot].append((time.perf_counter() - began) * 1000)
            head = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
            sizes[slot] += head + len(body)
            if response.status >= 400:
                errors[slot] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    every = sorted(x for slot in latencies for x in slot)
    count = len(every)
    return {
        "requests": count,
        "seconds": elapsed,
        "rps": count / elapsed,
        "p50_ms": percentile(every, 0.50),
        "p99_ms": percentile(every, 0.99),
        "bytes_per_response": sum(sizes) / max(count, 1),
        "errors": sum(errors),
        "max_ms": every[-1] if every else 0.0,
    }


def run_fallback(url: str, settings: LoadSettings, headers: dict[str, str]) -> Result:
    command = [
        sys.executable,
        __file__,
        "--load-worker",
        url,
        "--connections",
        str(settings.connections),
        "--duration",
        str(settings.duration),
        "--headers",
        json.dumps(headers),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=settings.duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"load generator failed: {done.stderr}")
    return Result(**json.loads(done.stdout))


def load(url: str, settings: LoadSettings, headers: dict[str, str] | None = None) -> Result:
    """Load ``url`` with the configured generator; return its figures."""
    headers = headers or {}
    if settings.generator == "wrk":
        return run_wrk(url, settings, headers)
    return run_fallback(url, settings, headers)


# ---------------------------------------------------------------- tables


def fmt_ms(value: float) -> str:
    """Given milliseconds, return them readably (µs below 1 ms)."""
    return f"{value * 1000:.0f} µs" if value < 1 else f"{value:.1f} ms"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1, left_last: bool = False) -> str:
    """Given a header and rows of cells, return an aligned text table.

    The first ``left`` columns (and the last one, with ``left_last``) are left-aligned,
    the others right-aligned; a row of one cell is a section title spanning the table.
    """
    cells = [list(header)] + [list(row) for row in rows if len(row) > 1]
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(header))]
    last = len(header) - 1
    rule = "  ".join("-" * w for w in widths)
    out: list[str] = []
    for index, row in enumerate([list(header)] + [list(r) for r in rows]):
        if len(row) == 1:
            out.append(row[0])
            continue
        out.append(
            "  ".join(
                c.ljust(widths[i]) if i < left or (left_last and i == last) else c.rjust(widths[i])
                for i, c in enumerate(row)
            ).rstrip()
        )
        if index == 0:
            out.append(rule)
    return "\n".join(out)


def _main(argv: list[str] | None = None) -> int:
    """Entry point of the fallback load generator's child process."""
    parser = argparse.ArgumentParser(description="fallback load generator (internal)")
    parser.add_argument("--load-worker", metavar="URL", required=True)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--headers", default="{}")
    args = parser.parse_args(argv)
    print(json.dumps(load_worker(args.load_worker, args.connections, args.duration, json.loads(args.headers))))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
