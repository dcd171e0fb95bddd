"""The PostgreSQL store beside the SQLite store, in one run: claims, wake-ups, the API, replicas.

    python bench/postgres.py [--quick] [--json FILE]

Starts a private PostgreSQL server of its own (``initdb`` into a temporary folder, the
server's default durable settings: fsync and synchronous commits on) and prints:

1. Claims + completions per second of no-op jobs with 1, 2 and 4 worker processes, each
   store side by side: the queue itself (claim, then finish, in a loop of store calls),
   and the real worker loop (claim, job log lines, registry heartbeat, finish).
2. Enqueue-to-start latency, p50/p99 over 200 jobs queued one at a time while 4 idle
   workers wait: woken by LISTEN/NOTIFY on PostgreSQL, polling every second on SQLite.
3. ``GET /api/jobs`` at 1,000, 100,000 and 1,000,000 jobs on each store, beside the bare
   Starlette limit (wrk): the 304 revalidation, the full list (kept answer), and the list
   query itself (a probe of 200 sequential requests that all miss the read cache), with
   the 1M/1k latency ratio.
4. Two API replicas behind nginx (round robin), 1,000 simulated tabs (bench/tabs.py)
   while a writer moves a job: errors, p99, each replica's CPU.

Targets: at least 1,000 jobs/s with 4 workers; enqueue-to-start p50 under 10 ms; 304s at
least 0.7x the limit; full list p99 under 25 ms; latency ratio at most 1.3; 0 errors
behind nginx. Never part of the test run.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from harness import (  # noqa: E402 (after the path set-up)
    BENCH_DIR,
    COLUMNS,
    HOST,
    ROOT,
    Client,
    LoadSettings,
    api_server_command,
    bare_server_command,
    cpu_seconds,
    fmt_ms,
    format_table,
    free_port,
    http_get,
    job_rows,
    load,
    percentile,
    say,
    seed,
    server,
    stop_process,
)
from jobdash.store.factory import open_store  # noqa: E402
from support.nginx import NginxProxy, nginx_binary  # noqa: E402
from support.postgres import PrivateCluster  # noqa: E402

SEED_CHUNK = 50_000
TAB_LISTS = [["/api/jobs", 60], ["/api/jobs?status=running", 20], ["/api/jobs?status=failed", 20]]


# ---------------------------------------------------------------- the database


def seed_postgres(url: str, count: int) -> float:
    """Insert ``count`` realistic jobs with COPY (the store's triggers run per statement,
    as for any writer); ANALYZE as autovacuum would; return the seconds it took."""
    import psycopg

    started = time.monotonic()
    open_store(Path("."), database_url=url).close()  # the schema
    with psycopg.connect(url) as conn, multiprocessing.get_context("fork").Pool(1) as pool:
        tasks = [(count, first, min(count, first + SEED_CHUNK)) for first in range(0, count, SEED_CHUNK)]
        for chunk in pool.imap(_rows_text, tasks):
            with conn.cursor() as cursor, cursor.copy(f"COPY jobs ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(chunk)
            conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE jobs")
    return time.monotonic() - started


def _rows_text(task: tuple[int, int, int]) -> str:
    count, first, last = task
    out = io.StringIO()
    for row in job_rows(count, first, last):
        out.write("\t".join("\\N" if value is None else _copy_text(value) for value in row) + "\n")
    return out.getvalue()


def _copy_text(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


@contextmanager
def cluster(root: Path) -> Iterator[PrivateCluster]:
    """A private PostgreSQL server with its default (durable) settings."""
    pg = PrivateCluster(root / "pg", settings=("max_connections=200", "shared_buffers=256MB"))
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


def new_database(pg: PrivateCluster, name: str) -> str:
    pg.admin(f"CREATE DATABASE {name}")
    return pg.url(name)


# ---------------------------------------------------------------- 1. claims


QUEUE_LOOP = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from jobdash.store.factory import open_store
    store = open_store(Path(sys.argv[1]), database_url=sys.argv[2] or None)
    worker = store.register_worker("bench", os.getpid(), ("noop",))
    print("ready", flush=True)
    sys.stdin.readline()
    done, began = 0, time.monotonic()
    while (job := store.claim(os.getpid(), ("noop",), worker_id=worker)) is not None:
        store.finish(job["id"], "completed", summary={}, worker_id=worker)
        done += 1
    print(json.dumps({"done": done, "seconds": time.monotonic() - began}), flush=True)
    store.close()
    """
)

WORKER_LOOP = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from jobdash.store.factory import open_store
    from jobdash.worker.loop import Worker
    store = open_store(Path(sys.argv[1]), database_url=sys.argv[2] or None)
    worker = Worker(store, handlers={"noop": lambda ctx: {}}, stale_after=600)
    print("ready", flush=True)
    sys.stdin.readline()
    done, began = 0, time.monotonic()
    while worker.run_once():
        done += 1
    print(json.dumps({"done": done, "seconds": time.monotonic() - began}), flush=True)
    store.close()
    """
)


def run_claimers(program: str, data_dir: Path, url: str | None, processes: int) -> dict[str, float]:
    """Start ``processes`` claiming processes on a queued backlog; return jobs/s overall."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", program, str(data_dir), url or ""],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        began = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [json.loads(proc.communicate(timeout=600)[0].strip().splitlines()[-1]) for proc in procs]
        wall = time.monotonic() - began
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    done = sum(out["done"] for out in outputs)
    return {"done": done, "seconds": wall, "rate": done / wall}


def claims(root: Path, pg: PrivateCluster, jobs: int) -> list[list[str]]:
    rows = []
    for label, program in (("queue (claim + finish)", QUEUE_LOOP), ("worker loop", WORKER_LOOP)):
        for processes in (1, 2, 4):
            cells = [label, str(processes)]
            for kind in ("sqlite", "postgresql"):
                name = f"claims_{label[:5]}_{processes}_{kind}".replace(" ", "_").replace("(", "")
                data_dir = root / name
                data_dir.mkdir()
                url = new_database(pg, name) if kind == "postgresql" else None
                store = open_store(data_dir, database_url=url)
                for _ in range(jobs):
                    store.create("/bench/noop", "noop")
                store.close()
                say(f"claims: {label}, {processes} process(es), {kind}: {jobs:,} jobs ...")
                result = run_claimers(program, data_dir, url, processes)
                assert result["done"] == jobs, result
                cells.append(f"{result['rate']:,.0f}")
            target = "≥ 1,000/s" if processes == 4 and program is QUEUE_LOOP else ""
            ok = "" if not target else ("met" if float(cells[-1].replace(",", "")) >= 1000 else "MISSED")
            rows.append([*cells, target, ok])
    return rows


# ---------------------------------------------------------------- 2. wake-up latency


IDLE_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from jobdash.store.factory import open_store
    from jobdash.worker.loop import Worker
    store = open_store(Path(sys.argv[1]), database_url=sys.argv[2] or None)
    worker = Worker(store, handlers={"noop": lambda ctx: {}}, stale_after=600)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()
    store.close()
    """
)


def wake_latency(root: Path, pg: PrivateCluster, count: int) -> list[list[str]]:
    from jobdash.util.timestamps import parse_iso

    rows = []
    for kind in ("sqlite", "postgresql"):
        data_dir = root / f"wake_{kind}"
        data_dir.mkdir()
        url = new_database(pg, f"wake_{kind}") if kind == "postgresql" else None
        store = open_store(data_dir, database_url=url)
        workers = [
            subprocess.Popen([sys.executable, "-c", IDLE_WORKER, str(data_dir), url or ""], cwd=ROOT) for _ in range(4)
        ]
        try:
            time.sleep(3)  # registered, idle, listening
            say(f"wake-up: {count} jobs queued one by one, 4 idle workers, {kind} ...")
            ids = []
            for _ in range(count):
                ids.append(store.create("/bench/noop", "noop")["id"])
                time.sleep(0.05)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all((store.get(job_id) or {}).get("status") == "completed" for job_id in ids[-5:]):
                    break
                time.sleep(0.2)
            latencies = []
            for job_id in ids:
                job = store.get(job_id)
                assert job is not None and job["status"] == "completed", job
                created, started = parse_iso(job["created_at"]), parse_iso(job["started_at"])
                assert created is not None and started is not None
                latencies.append((started - created).total_seconds() * 1000)
        finally:
            for proc in workers:
                stop_process(proc)
            store.close()
        latencies.sort()
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        how = "LISTEN/NOTIFY" if kind == "postgresql" else "polling every 1 s"
        target = "p50 < 10 ms" if kind == "postgresql" else ""
        ok = ("met" if p50 < 10 else "MISSED") if target else ""
        rows.append([kind, how, fmt_ms(p50), fmt_ms(p99), target, ok])
    return rows


# ---------------------------------------------------------------- 3. the API


def pg_server_command(url: str, data_dir: Path, port: int) -> list[str]:
    return [*api_server_command(data_dir, port), "--database", url]


def api_rows(root: Path, pg: PrivateCluster, sizes: list[int], wrk: LoadSettings) -> list[list[str]]:
    rows: list[list[str]] = []
    port = free_port()
    with server(bare_server_command(port), port, "/constant", root / "bare.log"):
        limit = load(f"http://{HOST}:{port}/constant", wrk)
    rows.append(["bare Starlette (the limit)", "", "", f"{limit.rps:,.0f}", fmt_ms(limit.p99_ms), "", ""])
    probes: dict[str, dict[int, float]] = {"sqlite": {}, "postgresql": {}}
    for count in sizes:
        for kind in ("sqlite", "postgresql"):
            data_dir = root / f"api_{kind}_{count}"
            port = free_port()
            if kind == "sqlite":
                report = seed(data_dir, count)
                seeded = report.seconds
                command = api_server_command(data_dir, port)
            else:
                data_dir.mkdir()
                url = new_database(pg, f"api_{count}")
                seeded = seed_postgres(url, count)
                command = pg_server_command(url, data_dir, port)
            say(f"api: {count:,} jobs on {kind} (seeded in {seeded:.0f} s) ...")
            with server(command, port, "/healthz", root / f"api_{kind}_{count}.log"):
                status, headers, _ = http_get(port, "/api/jobs")
                assert status == 200
                time.sleep(1.5)  # the change watcher is connected
                etag = http_get(port, "/api/jobs")[1]["etag"]
                not_modified = load(f"http://{HOST}:{port}/api/jobs", wrk, {"If-None-Match": etag})
                full = load(f"http://{HOST}:{port}/api/jobs", wrk)
                client = Client(port)
                for offset in range(10):  # warm the connection and the plans
                    client.get(f"/api/jobs?offset={offset + 1000}")
                times = sorted(client.get(f"/api/jobs?offset={offset}").ms for offset in range(200))
                client.close()
            p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
            probes[kind][count] = p50
            size = f"{count:,}"
            rows.append(
                [
                    f"{kind}: 304 (If-None-Match)",
                    size,
                    f"{not_modified.rps / limit.rps:.2f}x",
                    f"{not_modified.rps:,.0f}",
                    fmt_ms(not_modified.p99_ms),
                    "≥ 0.7x the limit",
                    "met" if not_modified.rps >= 0.7 * limit.rps else "MISSED",
                ]
            )
            rows.append(
                [
                    f"{kind}: full list (kept answer)",
                    size,
                    f"{full.rps / limit.rps:.2f}x",
                    f"{full.rps:,.0f}",
                    fmt_ms(full.p99_ms),
                    "p99 < 25 ms",
                    "met" if full.p99_ms < 25 else "MISSED",
                ]
            )
            rows.append(
                [f"{kind}: list query (cache miss), p50 {fmt_ms(p50)}", size, "", "", fmt_ms(p99), "p99 < 25 ms", ""]
            )
            rows[-1][-1] = "met" if p99 < 25 else "MISSED"
    for kind, by_size in probes.items():
        small, large = by_size[min(by_size)], by_size[max(by_size)]
        ratio = large / small if small else 0
        rows.append(
            [
                f"{kind}: list latency {max(by_size):,} / {min(by_size):,} jobs",
                "",
                f"{ratio:.2f}",
                "",
                "",
                "ratio ≤ 1.3",
                "met" if ratio <= 1.3 else "MISSED",
            ]
        )
    return rows


# ---------------------------------------------------------------- 4. replicas behind nginx


def replicas(root: Path, pg: PrivateCluster, tabs: int, seconds: int) -> list[list[str]]:
    if nginx_binary() is None:
        return [["two replicas behind nginx", "not measured: nginx is not installed (Debian: nginx)", "", "", ""]]
    url = new_database(pg, "replicas")
    seed_postgres(url, 100_000)
    data_dir = root / "replicas"
    data_dir.mkdir()
    ports = [free_port(), free_port()]
    store = open_store(data_dir, database_url=url)
    moving = store.create("/bench/moving", "scan")
    store.claim(os.getpid(), ("scan",))
    stop = threading.Event()

    def writer() -> None:
        step = 0
        while not stop.wait(0.5):
            step += 1
            store.progress(moving["id"], step % 100, 100)

    with (
        server(pg_server_command(url, data_dir, ports[0]), ports[0], "/healthz", root / "replica-1.log") as one,
        server(pg_server_command(url, data_dir, ports[1]), ports[1], "/healthz", root / "replica-2.log") as two,
    ):
        proxy = NginxProxy(root / "nginx", [f"{HOST}:{port}" for port in ports], connections=4096, keepalive=64)
        proxy.start()
        front = proxy.port
        try:
            plan = root / "plan.json"
            plan.write_text(json.dumps({"lists": TAB_LISTS, "watch": [[moving["id"], 1]], "dashboard_share": 0.8}))
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
            cpu = [cpu_seconds(one.pid), cpu_seconds(two.pid)]
            say(f"replicas: {tabs:,} tabs through nginx for {seconds} s ...")
            done = subprocess.run(
                [
                    sys.executable,
                    str(BENCH_DIR / "tabs.py"),
                    "--port",
                    str(front),
                    "--plan",
                    str(plan),
                    "--tabs",
                    str(tabs),
                    "--duration",
                    str(seconds),
                ],
                capture_output=True,
                text=True,
                timeout=seconds + 120,
                check=False,
            )
            used = [cpu_seconds(one.pid) - cpu[0], cpu_seconds(two.pid) - cpu[1]]
            stop.set()
            thread.join()
        finally:
            proxy.close()
    store.close()
    if done.returncode != 0:
        raise SystemExit(f"tabs.py failed:\n{done.stderr}")
    stats = json.loads(done.stdout)
    share = ", ".join(f"{value / seconds:.0%}" for value in used)
    return [
        [
            f"{tabs:,} tabs, 2 replicas behind nginx",
            f"{stats['rps']:,.0f}",
            fmt_ms(stats["p99_ms"]),
            str(stats["errors"]),
            f"{share} of a core",
            "met" if stats["errors"] == 0 else "MISSED",
        ]
    ]


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter loads (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON to this file")
    args = parser.parse_args(argv)
    if not Path("/usr/bin/wrk").exists():
        raise SystemExit("bench/postgres.py needs wrk at /usr/bin/wrk (Debian: apt-get install wrk)")
    jobs = 1000 if args.quick else 4000
    sizes = [1000, 100_000] if args.quick else [1000, 100_000, 1_000_000]
    wrk = LoadSettings(threads=2, connections=50, duration=3 if args.quick else 10)
    tabs, tab_seconds = (300, 15) if args.quick else (1000, 60)
    root = Path(tempfile.mkdtemp(prefix="jobdash-bench-pg-"))
    os.chmod(root, 0o755)
    tables: dict[str, Any] = {}
    try:
        with cluster(root) as pg:
            tables["claims"] = claims(root, pg, jobs)
            tables["wake"] = wake_latency(root, pg, 50 if args.quick else 200)
            tables["api"] = api_rows(root, pg, sizes, wrk)
            tables["replicas"] = replicas(root, pg, tabs, tab_seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n1. Claims + completions per second of no-op jobs ({jobs:,} queued; jobs/s)")
    print(format_table(["loop", "processes", "SQLite", "PostgreSQL", "target", ""], tables["claims"], left=1))
    print("\n2. Enqueue-to-start latency (4 idle workers, jobs queued one at a time)")
    print(format_table(["store", "wake-up", "p50", "p99", "target", ""], tables["wake"], left=2))
    print(f"\n3. GET /api/jobs ({wrk.describe()}; ratio = req/s / the limit's)")
    print(format_table(["case", "jobs", "ratio", "req/s", "p99", "target", ""], tables["api"], left=1))
    print("\n4. Two replicas behind nginx (round robin), simulated tabs polling every 5 s")
    print(format_table(["case", "req/s", "p99", "errors", "CPU per replica", ""], tables["replicas"], left=1))
    if args.json:
        args.json.write_text(json.dumps(tables, indent=2))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
