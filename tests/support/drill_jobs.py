"""A job module for the multi-host drills (``jobdash worker --job-module`` this file).

``replay`` is work that is safe to run again, declared ``on_worker_lost="requeue"``: it
counts ``steps`` steps, ``pause`` seconds apart, logging each and reporting progress in
``steps``. Each start, step and end is also appended, with the wall-clock time, host and
pid, to the file named by the ``journal`` param: the drills read it to check that no job
ran twice at once and that each ran to its end exactly once. (The journal is the drill's
instrument, on the one machine the drill runs on; jobdash itself shares nothing but the
database between its "hosts".)

Host names: two worker processes on one machine play two hosts, each registered under
the name its ``JOBDASH_HOSTNAME`` gives (``jobdash worker --hostname``); the journal
names the host the same way.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from jobdash import JobContext, job_type


def _host() -> str:
    return os.environ.get("JOBDASH_HOSTNAME") or socket.gethostname()


def _journal(ctx: JobContext, event: str) -> None:
    path = ctx.params.get("journal")
    if path:
        with open(path, "a", encoding="utf-8") as journal:
            journal.write(f"{time.time():.6f} {ctx.id} {_host()} {os.getpid()} {event}\n")


@job_type(on_worker_lost="requeue", description="Count steps, slowly; safe to run again")
def replay(ctx: JobContext) -> dict[str, Any]:
    steps = int(ctx.params.get("steps", "10"))
    pause = float(ctx.params.get("pause", "0.2"))
    host = _host()
    _journal(ctx, "start")
    ctx.progress(0, steps, unit="steps", force=True)
    for step in range(1, steps + 1):
        ctx.sleep(pause)
        _journal(ctx, f"step {step}")
        ctx.log(f"step {step} of {steps} on {host}")
        ctx.progress(step, steps, unit="steps", force=True)
    _journal(ctx, "end")
    return {"steps": steps, "host": host}


def read_journal(path: Any) -> list[tuple[float, str, str, int, str]]:
    """The journal's entries: (time, job id, host, pid, event), in the order written (a
    line still being written is left for the next read)."""
    entries: list[tuple[float, str, str, int, str]] = []
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as journal:
        for line in journal:
            if not line.endswith("\n"):
                break
            at, job_id, host, pid, event = line.rstrip("\n").split(" ", 4)
            entries.append((float(at), job_id, host, int(pid), event))
    return entries
