"""Requests per minute the server sees from 1, 5 and 20 open dashboard tabs, with and
without the shared poller (one request stream per browser for tabs of the same view).

Builds the frontend, serves it with the real server (no worker), and opens the
dashboard in the system Chromium: one browser context per configuration (a context is a
browser profile of its own: its tabs share Web Locks and BroadcastChannel with each
other, never with another context). All six configurations run side by side, in real
time, for ``--seconds`` (60), while a job's progress moves every 2 s (so the answers are
a mix of 200s and 304s, as on a busy day). Every request is counted from the context's
own network events, by stream (jobs list, job types, workers).

    .venv/bin/python bench/shared_tabs.py [--seconds 60] [--tabs 1,5,20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # reuse the browser tests' server and page drivers
sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from harness import format_table  # noqa: E402
from support.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from support.dashboard import running_job  # noqa: E402
from support.live_server import live_server  # noqa: E402

STREAMS = {"/api/jobs": "jobs", "/api/job-types": "job types", "/api/workers": "workers"}


def stream_of(url: str) -> str | None:
    """Given a request URL, return the stream it belongs to (None: not an API poll)."""
    path = url.split("?", 1)[0]
    for prefix, name in STREAMS.items():
        if path.endswith(prefix):
            return name
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long every configuration runs (default 60)")
    parser.add_argument("--tabs", default="1,5,20", help="tab counts, comma-separated (default 1,5,20)")
    args = parser.parse_args(argv)
    counts = [int(part) for part in args.tabs.split(",")]
    if args.seconds < 10 or any(n < 1 for n in counts):
        parser.error("--seconds must be at least 10 and every --tabs count at least 1")

    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp)) as server, sync_playwright() as pw:
        job = running_job(server.store, "/media/library", processed=0, total=1000)
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        configs = [(n, shared) for n in counts for shared in (True, False)]
        tallies: dict[tuple[int, bool], Counter[str]] = {}
        contexts = []
        for n, shared in configs:
            context = browser.new_context()
            tally: Counter[str] = Counter()
            tallies[(n, shared)] = tally
            context.on("request", lambda request, tally=tally: tally.update([stream_of(request.url)]))
            contexts.append((context, n, shared))
        print(f"opening {sum(counts) * 2} tabs in {len(configs)} browser contexts ...", flush=True)
        for context, n, shared in contexts:
            for _ in range(n):
                tab = context.new_page()
                tab.goto(server.url("index.html" if shared else "index.html?shared=0"))
                expect(tab.locator("#connection-status")).to_have_attribute("data-state", "live", timeout=30_000)
        for tally in tallies.values():
            tally.clear()  # the minute starts now, with every tab open and loaded

        stop = threading.Event()

        def move_progress() -> None:
            done = 0
            while not stop.wait(2.0):
                done += 1
                server.store.progress(job, done, 1000, "files")

        mover = threading.Thread(target=move_progress, daemon=True)
        started = time.monotonic()
        mover.start()
        print(f"measuring for {args.seconds:.0f} s ...", flush=True)
        # Playwright's sync API dispatches events only while it is called: keep it busy.
        while time.monotonic() - started < args.seconds:
            contexts[0][0].pages[0].wait_for_timeout(250)
        elapsed = time.monotonic() - started
        stop.set()
        mover.join()
        browser.close()

    per_minute = {
        key: {name: tally[name] * 60.0 / elapsed for name in STREAMS.values()} for key, tally in tallies.items()
    }
    one_tab = sum(per_minute[(counts[0], False)].values()) if counts[0] == 1 else None
    rows = []
    for n, shared in configs:
        figures = per_minute[(n, shared)]
        total = sum(figures.values())
        ratio = f"{total / one_tab:.2f}×" if one_tab else "—"
        rows.append(
            [
                str(n),
                "shared" if shared else "?shared=0",
                *(f"{figures[name]:.1f}" for name in STREAMS.values()),
                f"{total:.1f}",
                ratio,
            ]
        )
    print()
    print(f"API requests per minute seen by the server ({elapsed:.0f} s, real time, default 5 s interval)")
    print(format_table(["tabs", "polling", *STREAMS.values(), "total", "vs 1 tab"], rows, left=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
