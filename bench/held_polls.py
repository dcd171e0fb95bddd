"""Held polls (``Prefer: wait=25``) beside plain 5 s polling, in one run.

1. Change-to-screen latency: two dashboards in the system Chromium, one against a server
   that holds polls, one against a server that does not (``--max-wait 0``, so the page
   polls every 5 s as before); the same change is committed to both stores at once (a
   new job, then its status flipping), 50 times at irregular gaps, and each page records
   (``Date.now()`` in a MutationObserver) when the row appears / the badge flips. p50/p99.
2. Requests per minute of one idle dashboard, per stream and in all, for both.
3. 1,000 held dashboards on one server process (raw HTTP clients in this process, the
   server in its own): RSS and threads before and while they are held, the server's CPU
   while idle, and the time from one commit until all 1,000 have their answer; beside
   the CPU of the same 1,000 clients polling every 5 s.

    .venv/bin/python bench/held_polls.py [--changes 50] [--idle-seconds 60] [--clients 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # reuse the browser tests' server and page drivers
sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from harness import (  # noqa: E402
    HOST,
    api_server_command,
    cpu_seconds,
    format_table,
    free_port,
    http_get,
    memory_kib,
    percentile,
    server,
)
from jobdash.store.sqlite.store import SqliteStore  # noqa: E402
from shared_tabs import STREAMS, stream_of  # noqa: E402
from support.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from support.live_server import LiveServer, live_server  # noqa: E402

POLL_MS = 5000

# Recorded in the page: when each job's row appeared and when its status last changed.
OBSERVER = """
() => {
  window.__seen = {};
  const note = (row) => {
    const id = row.dataset.jobId;
    const status = row.querySelector('[data-field="status"] .badge')?.dataset.status;
    const key = `${id}|${status}`;
    if (!(key in window.__seen)) window.__seen[key] = Date.now();
  };
  new MutationObserver(() => document.querySelectorAll("tr[data-job-id]").forEach(note))
    .observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
}
"""


# ------------------------------------------------------------------ 1 and 2: the pages


@contextmanager
def two_servers(tmp: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    with (
        live_server(tmp / "held", serve_flags=("--max-wait", "30")) as held,
        live_server(tmp / "polled", serve_flags=("--max-wait", "0")) as polled,
    ):
        yield held, polled


def page_latency(changes: int, idle_seconds: float) -> tuple[dict[str, list[float]], dict[str, Counter[str]]]:
    """Return ({kind: latencies in ms}, {kind: requests per stream in the idle minute})."""
    latencies: dict[str, list[float]] = {"held": [], "polled": []}
    idle: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as tmp, two_servers(Path(tmp)) as servers, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        pages, tallies = {}, {}
        for kind, running in zip(("held", "polled"), servers, strict=True):
            context = browser.new_context()
            tally: Counter[str] = Counter()
            context.on("request", lambda request, tally=tally: tally.update([stream_of(request.url)]))
            page = context.new_page()
            page.goto(running.url("index.html"))
            expect(page.locator("#connection-status")).to_have_attribute("data-state", "live", timeout=30_000)
            page.evaluate(OBSERVER)
            pages[kind], tallies[kind] = page, tally
        stores = {kind: running.store for kind, running in zip(("held", "polled"), servers, strict=True)}

        # Playwright delivers events while it waits (wait_for_timeout), not during sleep().
        pump = pages["held"].wait_for_timeout
        print(f"idle: counting requests for {idle_seconds:g} s ...", flush=True)
        pump(2000)
        for tally in tallies.values():
            tally.clear()
        pump(idle_seconds * 1000)
        for kind, tally in tallies.items():
            idle[kind] = Counter({name: count * 60 / idle_seconds for name, count in tally.items() if name})

        print(f"latency: {changes} changes ...", flush=True)
        # Half the changes queue a new job (its row appears), half cancel one queued before
        # the measurement (its badge flips): every change is one the pages can show.
        flips = {
            kind: [store.create(f"/media/old-{n}", "scan")["id"] for n in range(changes // 2)]
            for kind, store in stores.items()
        }
        pump(POLL_MS + 2000)  # both pages show them
        rng = random.Random(7)
        pending: list[tuple[str, str, float]] = []  # (kind, "id|status", committed at, epoch ms)
        for number in range(changes):
            for kind, store in stores.items():
                if number % 2:
                    job_id = flips[kind][number // 2]
                    store.cancel(job_id)
                    pending.append((kind, f"{job_id}|cancelled", time.time() * 1000))
                else:
                    job = store.create(f"/media/change-{number}", "scan")
                    pending.append((kind, f"{job['id']}|queued", time.time() * 1000))
            pump(rng.uniform(700, 2300))
        pump(POLL_MS + 2000)  # the polling page's last interval
        for kind, page in pages.items():
            seen = page.evaluate("window.__seen")
            for change_kind, key, committed in pending:
                if change_kind == kind and key in seen:
                    latencies[kind].append(max(0.0, seen[key] - committed))
        browser.close()
    return latencies, idle


# ------------------------------------------------------------------ 3: 1,000 clients


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def _request(path: str, etag: str, wait: int | None) -> bytes:
    prefer = f"Prefer: wait={wait}\r\n" if wait else ""
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nIf-None-Match: {etag}\r\n{prefer}\r\n".encode()


async def _held_clients(port: int, clients: int, etag: str, data_dir: Path, pid: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    before = memory_kib(pid)["VmRSS"]
    threads_before = _threads(pid)
    connections = []
    for _ in range(clients):
        connections.append(await asyncio.open_connection(HOST, port))
    request = _request("/api/jobs", etag, 30)
    answered_at: list[float] = []

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(request)
        await writer.drain()
        status = await _read_answer(reader)
        assert status == 200, status
        answered_at.append(time.monotonic())

    tasks = [asyncio.create_task(one(reader, writer)) for reader, writer in connections]
    await asyncio.sleep(3)  # every request sent and held
    assert not answered_at, f"{len(answered_at)} answered before any change"
    figures["rss_before_mib"] = before / 1024
    figures["rss_held_mib"] = memory_kib(pid)["VmRSS"] / 1024
    figures["threads_before"] = threads_before
    figures["threads_held"] = _threads(pid)
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(10)
    figures["idle_cpu_percent"] = 100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
    store = SqliteStore(data_dir)
    try:
        store.create("/media/the-change", "scan")
        committed = time.monotonic()
    finally:
        store.close()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    figures["all_answered_s"] = max(answered_at) - committed
    figures["first_answered_s"] = min(answered_at) - committed
    for _, writer in connections:
        writer.close()
    return figures


async def _polling_clients(port: int, clients: int, etag: str, pid: int, seconds: float) -> dict[str, float]:
    stop = time.monotonic() + seconds + POLL_MS / 1000
    counted: list[int] = []
    request = _request("/api/jobs", etag, None)

    async def one(offset: float) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        await asyncio.sleep(offset)
        while time.monotonic() < stop:
            writer.write(request)
            await writer.drain()
            await _read_answer(reader)
            counted.append(1)
            await asyncio.sleep(POLL_MS / 1000)
        writer.close()

    tasks = [asyncio.create_task(one(random.uniform(0, POLL_MS / 1000))) for _ in range(clients)]
    await asyncio.sleep(POLL_MS / 1000 + 1)  # all started
    cpu0, wall0, count0 = cpu_seconds(pid), time.monotonic(), len(counted)
    await asyncio.sleep(seconds - 1)
    elapsed = time.monotonic() - wall0
    figures = {
        "idle_cpu_percent": 100 * (cpu_seconds(pid) - cpu0) / elapsed,
        "requests_per_s": (len(counted) - count0) / elapsed,
    }
    await asyncio.gather(*tasks)
    return figures


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def many_clients(clients: int) -> tuple[dict[str, float], dict[str, float]]:
    """Return (held figures, polling figures) for ``clients`` dashboards on one server."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        SqliteStore(data_dir).close()
        port = free_port()
        command = api_server_command(data_dir, port)
        with server(command, port, "/healthz", Path(tmp) / "server.log") as process:
            _, headers, _ = http_get(port, "/api/jobs")
            etag = headers["etag"]
            polling = asyncio.run(_polling_clients(port, clients, etag, process.pid, 15))
            held = asyncio.run(_held_clients(port, clients, etag, data_dir, process.pid))
    return held, polling


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50, help="changes whose latency is measured (default 50)")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="idle time counted (default 60)")
    parser.add_argument("--clients", type=int, default=1000, help="held dashboards on one server (default 1000)")
    args = parser.parse_args(argv)
    if args.changes < 2 or args.idle_seconds < 10 or args.clients < 1:
        parser.error("--changes must be at least 2, --idle-seconds at least 10, --clients at least 1")

    latencies, idle = page_latency(args.changes, args.idle_seconds)
    rows = []
    for kind, label in (("held", "held polls (Prefer: wait=25)"), ("polled", "polling every 5 s")):
        values = sorted(latencies[kind])
        rows.append(
            [
                label,
                f"{len(values)}",
                f"{percentile(values, 0.5):.0f} ms",
                f"{percentile(values, 0.99):.0f} ms",
                f"{max(values, default=0):.0f} ms",
            ]
        )
    print("\nChange to screen (a job row appears, a status flips), one run, side by side:")
    print(format_table(["", "changes seen", "p50", "p99", "max"], rows, left=1))
    held50, polled50 = percentile(sorted(latencies["held"]), 0.5), percentile(sorted(latencies["polled"]), 0.5)
    if held50:
        print(f"p50 ratio polling / held: {polled50 / held50:.1f}x")

    rows = []
    for kind, label in (("held", "held polls"), ("polled", "polling every 5 s")):
        tally = idle[kind]
        rows.append([label, *(f"{tally.get(name, 0):.1f}" for name in STREAMS.values()), f"{sum(tally.values()):.1f}"])
    print(f"\nRequests per minute of one idle dashboard ({args.idle_seconds:g} s counted):")
    print(format_table(["", *STREAMS.values(), "all"], rows, left=1))

    print(f"\n{args.clients:,} dashboards on one server process ...", flush=True)
    held, polling = many_clients(args.clients)
    print(
        format_table(
            ["", "value"],
            [
                ["RSS before", f"{held['rss_before_mib']:.1f} MiB"],
                [f"RSS with {args.clients:,} held", f"{held['rss_held_mib']:.1f} MiB"],
                [
                    "per held request",
                    f"{(held['rss_held_mib'] - held['rss_before_mib']) * 1024 / args.clients:.1f} KiB",
                ],
                ["threads before / held", f"{held['threads_before']:.0f} / {held['threads_held']:.0f}"],
                ["server CPU while all are held (idle)", f"{held['idle_cpu_percent']:.1f} %"],
                [
                    f"server CPU, {args.clients:,} polling every 5 s",
                    f"{polling['idle_cpu_percent']:.1f} % ({polling['requests_per_s']:.0f} req/s)",
                ],
                ["one commit -> first answered", f"{held['first_answered_s'] * 1000:.0f} ms"],
                [f"one commit -> all {args.clients:,} answered", f"{held['all_answered_s'] * 1000:.0f} ms"],
            ],
            left=1,
        )
    )
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
