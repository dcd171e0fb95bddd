"""A running scan, simulated from another process: bench/scale.py's data-version mover.

    python bench/writer.py --data-dir DIR --job-id ID [--interval 0.5] [--log-lines 5]

Every ``--interval`` seconds (0.5: the worker's own progress throttle) it records the
job's progress through ``SqliteStore.progress`` — a real write to the jobs table that moves
the store's data version, as a worker does — and appends ``--log-lines`` scan-log lines
to the job's log (a scan at 10 files per second). Runs until SIGTERM/SIGINT, then prints
one JSON line: writes made, seconds, and the slowest write.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import log_lines  # noqa: E402 (after the path set-up)
from jobdash.store.sqlite.store import SqliteStore  # noqa: E402

TOTAL_FILES = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--job-id", required=True, help="a running job")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between writes (default 0.5)")
    parser.add_argument("--log-lines", type=int, default=5, help="log lines appended per write (default 5)")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    store = SqliteStore(args.data_dir)
    job = store.get(args.job_id)
    if job is None or job["status"] != "running":
        raise SystemExit(f"job {args.job_id} is not a running job")
    writes, slowest, line = 0, 0.0, 0
    started = time.monotonic()
    with open(store.log_path(job), "ab") as log:
        while not stop.is_set():
            began = time.perf_counter()
            if not store.progress(args.job_id, writes + 1, TOTAL_FILES):
                raise SystemExit(f"job {args.job_id} stopped running")
            if args.log_lines:
                log.write(log_lines(10**9 + line, args.log_lines))
                log.flush()
                line += args.log_lines
            writes += 1
            slowest = max(slowest, time.perf_counter() - began)
            # On a fixed schedule (write n at n * interval), whatever each write took.
            stop.wait(max(0.0, started + writes * args.interval - time.monotonic()))
    store.close()
    print(
        json.dumps(
            {
                "writes": writes,
                "seconds": round(time.monotonic() - started, 3),
                "slowest_write_ms": round(slowest * 1000, 2),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
