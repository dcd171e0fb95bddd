"""Benchmark the JSON API over real HTTP and compare it with bare Starlette.

    python bench/api.py [--jobs 1000,100000] [--duration 10] [--connections 50] [--threads 2]

For each job count N: seed a temporary data directory with N realistic jobs (direct
``executemany`` inserts after ``SqliteStore`` created the schema), start the real server
(``python -m jobdash serve --no-worker``) on a free port, and load it with wrk (or, when
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
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    LoadSettings,
    Result,
    api_server_command,
    bare_server_command,
    endpoint_cases,
    fmt_ms,
    format_table,
    free_port,
    load,
    seed,
    server,
)


def print_table(rows: list[tuple[str, str, Result, float | None]]) -> None:
    header = ("endpoint", "N", "req/s", "p50", "p99", "bytes/resp", "vs bare", "errors")
    print(
        format_table(
            header,
            [
                (
                    endpoint,
                    n,
                    f"{result.rps:,.0f}",
                    fmt_ms(result.p50_ms),
                    fmt_ms(result.p99_ms),
                    f"{result.bytes_per_response:,.0f}",
                    f"{ratio:.2f}" if ratio is not None else "1.00 (ref)",
                    str(result.errors),
                )
                for endpoint, n, result, ratio in rows
            ],
            left=2,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", default="1000,100000", help="comma-separated job counts (default: 1000,100000)")
    parser.add_argument("--duration", type=int, default=10, help="whole seconds per endpoint (default: 10)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default: 50)")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="wrk threads")
    parser.add_argument(
        "--generator",
        choices=("wrk", "python"),
        default=LoadSettings.generator,
        help="load generator (default: wrk when /usr/bin/wrk exists)",
    )
    args = parser.parse_args(argv)
    try:
        counts = [int(part) for part in args.jobs.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--jobs must be comma-separated whole numbers; got {args.jobs!r}")
    if not counts or min(counts) < 1:
        parser.error("--jobs needs at least one count of 1 or more")
    if args.duration <= 0 or args.connections < 1:
        parser.error("--duration and --connections must be positive")
    settings = LoadSettings(
        max(1, min(args.threads, args.connections)), args.connections, args.duration, args.generator
    )

    print(
        f"jobdash API benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {settings.describe()} per endpoint",
        flush=True,
    )

    rows: list[tuple[str, str, Result, float | None]] = []
    workdir = Path(tempfile.mkdtemp(prefix="jobdash-bench-"))
    try:
        port = free_port()
        with server(bare_server_command(port), port, "/constant", workdir / "bare.log"):
            print("bare Starlette (constant 5 KB JSON) ...", flush=True)
            bare = load(f"http://127.0.0.1:{port}/constant", settings)
        rows.append(("bare Starlette, constant 5 KB JSON", "-", bare, None))

        for count in counts:
            data_dir = workdir / f"data-{count}"
            print(f"seeded {seed(data_dir, count).describe()}", flush=True)
            port = free_port()
            with server(api_server_command(data_dir, port), port, "/healthz", workdir / f"server-{count}.log"):
                for name, path, extra in endpoint_cases(port, count):
                    print(f"N={count:,}: {name} ...", flush=True)
                    result = load(f"http://127.0.0.1:{port}{path}", settings, extra)
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
