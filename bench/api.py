"""Benchmark the JSON API over real HTTP and compare it with bare Starlette.

    python bench/api.py [--jobs 1000,100000] [--duration 10] [--connections 50] [--threads 2]

For each job count N: seed a temporary data directory with N realistic jobs (direct
``executemany`` inserts after ``JobStore`` created the schema), start the real server
(``python -m backend serve --no-worker``) on a free port, and load it with wrk (or, when
/usr/bin/wrk is missing, a fallback load generator of http.client threads in another
process) on:

- ``GET /api/jobs``                             (a page of 50, newest first, with the total)
- ``GET /api/jobs?status=running&type=scan``    (filtered)
- ``GET /api/jobs/{id}``                        (one job's detail)
- ``GET /api/jobs`` with ``If-None-Match``      (a poll that finds nothing new: 304)

and a bare Starlette app answering a constant 5 KB JSON (bench/bare_app.py, started the
same way with uvicorn) as the reference limit. Prints a table: endpoint, N, req/s, p50,
p99, bytes per response (as read off the wire, headers included), and the ratio of
req/s to the bare app's. Never part of the test run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from backend.store import DB_FILENAME, JobStore  # noqa: E402

WRK = "/usr/bin/wrk"
READY_TIMEOUT_S = 30.0

TYPES = (("scan", 40), ("apply", 15), ("transcode", 20), ("move", 10), ("process", 10), ("prune", 5))
STATUSES = (("completed", 76), ("failed", 7), ("cancelled", 3), ("queued", 10), ("running", 4))
CONTAINERS = ("matroska", "mp4", "avi", "mpegts", "webm", "quicktime")
WORDS = ("Silent", "Crimson", "Harbor", "Garden", "Signal", "Empire", "River", "Letters", "Machine",
         "Summer", "Northern", "Iron", "Paper", "Midnight", "Frozen", "Wild", "Station", "Horizon")


# ---------------------------------------------------------------- seeding


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _rows(count: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """Yield ``count`` realistic job rows spread over the last 30 days (oldest first)."""
    rng = random.Random(seed)
    types, type_weights = zip(*TYPES)
    statuses, status_weights = zip(*STATUSES)
    now = datetime.now(timezone.utc)
    span = timedelta(days=30).total_seconds()
    for index in range(count):
        job_type = rng.choices(types, type_weights)[0]
        # The newest jobs are the ones still queued or running.
        created = now - timedelta(seconds=span * (1 - (index + rng.random()) / count))
        status = rng.choices(statuses, status_weights)[0] if index < count - 50 else rng.choice(("queued", "running"))
        title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} ({rng.randrange(1950, 2025)})"
        file_path = (f"/media/library/Movies/{title}" if job_type == "scan"
                     else f"/media/library/Movies/{title}/{title}.mkv")
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
            heartbeat = _iso(now - timedelta(seconds=rng.uniform(0, 5)))
        if status in ("completed", "failed", "cancelled"):
            assert started is not None
            completed = started + timedelta(seconds=rng.expovariate(1 / 90))
        if status == "completed":
            percent = 100.0
            total = rng.randrange(1, 5000)
            progress_json = json.dumps({"processed": total, "total": total, "unit": "files"}, sort_keys=True)
            if job_type == "scan":
                counts = {name: rng.randrange(0, total) for name in rng.sample(CONTAINERS, 3)}
                summary_json = json.dumps({
                    "root": file_path, "files_found": total, "files_scanned": total, "errors": 0,
                    "bytes": rng.randrange(10**6, 10**12), "containers": dict(sorted(counts.items())),
                    "mismatched": 0, "elapsed_seconds": round(rng.uniform(0.5, 600), 3), "error_samples": [],
                }, sort_keys=True)
            else:
                output = file_path.rsplit(".", 1)[0] + ".out.mkv"
        if status == "failed":
            error = rng.choice(("source file is missing", "target volume is full",
                                "Worker lost: no heartbeat for over 60 s; the job was abandoned and marked failed."))
        job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        yield (
            job_id, file_path, job_type, status, priority, None, _iso(created),
            _iso(started) if started else None, _iso(completed) if completed else None,
            percent, progress_json, pid, heartbeat, output, error, summary_json, None,
        )


COLUMNS = ("id", "file_path", "job_type", "status", "priority", "policy_name", "created_at", "started_at",
           "completed_at", "progress_percent", "progress_json", "worker_pid", "worker_heartbeat",
           "output_path", "error_message", "summary_json", "log_path")


def seed(data_dir: Path, count: int) -> float:
    """Create the schema with JobStore, then insert ``count`` rows; return seconds taken."""
    started = time.monotonic()
    JobStore(data_dir).close()
    conn = sqlite3.connect(data_dir / DB_FILENAME, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            _rows(count),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.monotonic() - started


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@contextmanager
def server(command: list[str], port: int, ready_path: str, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``; wait until ``ready_path`` answers 200; stop it (SIGTERM) afterwards."""
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
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
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


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
    if not (done and rps and "50" in percentiles and "99" in percentiles):
        raise ValueError(f"unexpected wrk output:\n{output}")
    requests = int(done.group(1))
    seconds = _ms(done.group(2) + done.group(3)) / 1000
    read = float(done.group(4)) * _SIZE[done.group(5)]
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"):
        match = re.search(pattern, output)
        if match:
            errors += sum(int(n) for n in match.groups())
    return Result(requests, seconds, float(rps.group(1)), _ms(percentiles["50"]), _ms(percentiles["99"]),
                  read / max(requests, 1), errors)


def run_wrk(url: str, args: argparse.Namespace, headers: dict[str, str]) -> Result:
    command = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
               "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=args.duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


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
        "requests": count, "seconds": elapsed, "rps": count / elapsed,
        "p50_ms": every[count // 2] if every else 0.0,
        "p99_ms": every[min(count - 1, int(count * 0.99))] if every else 0.0,
        "bytes_per_response": sum(sizes) / max(count, 1), "errors": sum(errors),
    }


def run_fallback(url: str, args: argparse.Namespace, headers: dict[str, str]) -> Result:
    command = [sys.executable, __file__, "--load-worker", url, "--connections", str(args.connections),
               "--duration", str(args.duration), "--headers", json.dumps(headers)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"load generator failed: {done.stderr}")
    return Result(**json.loads(done.stdout))


def load(url: str, args: argparse.Namespace, headers: dict[str, str] | None = None) -> Result:
    headers = headers or {}
    if args.generator == "wrk":
        return run_wrk(url, args, headers)
    return run_fallback(url, args, headers)


# ---------------------------------------------------------------- main


def _fmt_ms(value: float) -> str:
    return f"{value * 1000:.0f} µs" if value < 1 else f"{value:.1f} ms"


def print_table(rows: list[tuple[str, str, Result, float | None]]) -> None:
    header = ("endpoint", "N", "req/s", "p50", "p99", "bytes/resp", "vs bare", "errors")
    lines = [header]
    for endpoint, n, result, ratio in rows:
        lines.append((
            endpoint, n, f"{result.rps:,.0f}", _fmt_ms(result.p50_ms), _fmt_ms(result.p99_ms),
            f"{result.bytes_per_response:,.0f}", f"{ratio:.2f}" if ratio is not None else "1.00 (ref)",
            str(result.errors),
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", default="1000,100000", help="comma-separated job counts (default: 1000,100000)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per endpoint (default: 10)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default: 50)")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="wrk threads")
    parser.add_argument("--generator", choices=("wrk", "python"),
                        default="wrk" if Path(WRK).exists() else "python",
                        help="load generator (default: wrk when /usr/bin/wrk exists)")
    parser.add_argument("--load-worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.load_worker:
        print(json.dumps(load_worker(args.load_worker, args.connections, args.duration, json.loads(args.headers))))
        return 0
    try:
        counts = [int(part) for part in args.jobs.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--jobs must be comma-separated whole numbers; got {args.jobs!r}")
    if not counts or min(counts) < 1:
        parser.error("--jobs needs at least one count of 1 or more")
    if args.duration <= 0 or args.connections < 1:
        parser.error("--duration and --connections must be positive")
    args.threads = max(1, min(args.threads, args.connections))
    if args.duration != int(args.duration) and args.generator == "wrk":
        parser.error("wrk takes whole seconds: give --duration as a whole number")
    args.duration = int(args.duration) if args.generator == "wrk" else args.duration

    print(f"jobdash API benchmark: {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, generator {args.generator}"
          + (f" ({args.threads} threads)" if args.generator == "wrk" else "")
          + f", {args.connections} connections, {args.duration} s per endpoint", flush=True)

    rows: list[tuple[str, str, Result, float | None]] = []
    workdir = Path(tempfile.mkdtemp(prefix="jobdash-bench-"))
    try:
        port = free_port()
        bare_cmd = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(BENCH_DIR),
                    "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        with server(bare_cmd, port, "/constant", workdir / "bare.log"):
            print("bare Starlette (constant 5 KB JSON) ...", flush=True)
            bare = load(f"http://127.0.0.1:{port}/constant", args)
        rows.append(("bare Starlette, constant 5 KB JSON", "-", bare, None))

        for count in counts:
            data_dir = workdir / f"data-{count}"
            data_dir.mkdir()
            took = seed(data_dir, count)
            print(f"seeded {count:,} jobs in {took:.1f} s", flush=True)
            port = free_port()
            command = [sys.executable, "-m", "backend", "--log-level", "warning", "serve", "--no-worker",
                       "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
                       # Keep the seeded running jobs running: no stale-job recovery mid-run.
                       "--stale-after", "86400"]
            with server(command, port, "/healthz", workdir / f"server-{count}.log"):
                status, headers, body = http_get(port, "/api/jobs")
                assert status == 200, body[:200]
                etag = headers["etag"]
                page = json.loads(body)
                assert page["total"] == count, page["total"]
                status, _, body = http_get(port, "/api/jobs?status=completed&type=scan&limit=1")
                job_id = json.loads(body)["jobs"][0]["id"]
                assert http_get(port, "/api/jobs", {"If-None-Match": etag})[0] == 304
                base = f"http://127.0.0.1:{port}"
                cases = [
                    ("GET /api/jobs", "/api/jobs", {}),
                    ("GET /api/jobs?status=running&type=scan", "/api/jobs?status=running&type=scan", {}),
                    ("GET /api/jobs/{id}", f"/api/jobs/{job_id}", {}),
                    ("GET /api/jobs + If-None-Match (304)", "/api/jobs", {"If-None-Match": etag}),
                ]
                for name, path, extra in cases:
                    print(f"N={count:,}: {name} ...", flush=True)
                    result = load(base + path, args, extra)
                    rows.append((name, f"{count:,}", result, result.rps / bare.rps if bare.rps else 0.0))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print_table(rows)
    errors = sum(result.errors for _, _, result, _ in rows)
    if errors:
        print(f"\nwarning: {errors} failed or non-2xx/3xx responses; see the errors column")
    return 0


if __name__ == "__main__":
    sys.exit(main())
