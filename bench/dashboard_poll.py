"""How much main-thread work one dashboard poll costs on a 100-row page.

Builds the frontend, serves it with the real server (no worker), seeds 100 running jobs,
opens ``index.html?limit=100`` in the system Chromium under Playwright's fake clock, and
steps the clock one poll interval at a time. For each kind of poll it reads Chromium's
own counters (CDP ``Performance.getMetrics``: ScriptDuration, RecalcStyleDuration,
LayoutDuration, TaskDuration) before and after, and prints the medians:

- unchanged: nothing changed, the API answers 304;
- one row: one job's progress moved;
- all rows: every job's progress moved (100 rows updated in place).

    .venv/bin/python bench/dashboard_poll.py [--polls 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # reuse the browser tests' server and page drivers

from playwright.sync_api import sync_playwright  # noqa: E402

from support.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from support.dashboard import Dashboard  # noqa: E402
from support.live_server import live_server  # noqa: E402

METRICS = ("ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "TaskDuration")

# Registered before Playwright's fake clock replaces performance.now, so it keeps the real
# one: the time from a /api/jobs response arriving to the table's "jobs:polled" event is
# the page's own script work for that poll (JSON parse, diff, DOM writes).
SCRIPT_PROBE = """
const realNow = performance.now.bind(performance);
window.__pollScriptMs = [];
let arrived = null;
const fetchBefore = window.fetch;
window.fetch = function (input, init) {
  return fetchBefore.apply(this, arguments).then((response) => {
    if (String(input).includes("/api/jobs")) arrived = realNow();
    return response;
  });
};
document.addEventListener("jobs:polled", () => {
  if (arrived !== null) window.__pollScriptMs.push(realNow() - arrived);
  arrived = null;
}, true);
"""
ROWS = 100
INTERVAL_MS = 5000


def metrics(cdp: object) -> dict[str, float]:
    """Return Chromium's cumulative main-thread timings, in milliseconds."""
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}  # type: ignore[attr-defined]
    return {name: values[name] * 1000 for name in METRICS}


def measure(dashboard: Dashboard, cdp: object, change: object, polls: int) -> dict[str, float]:
    """Run ``polls`` poll cycles, calling ``change(i)`` before each; return median costs."""
    samples: dict[str, list[float]] = {name: [] for name in METRICS}
    samples["page script"] = []
    for i in range(polls):
        change(i)  # type: ignore[operator]
        before = metrics(cdp)
        dashboard.run_for(INTERVAL_MS)
        after = metrics(cdp)
        for name in METRICS:
            samples[name].append(after[name] - before[name])
        samples["page script"].append(dashboard.page.evaluate("window.__pollScriptMs.pop() ?? 0"))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=30, help="poll cycles per scenario (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp)) as server:
        store = server.store
        ids = []
        for n in range(ROWS):
            job = store.create(f"/srv/media/Library {n:03d}/Season 01", "scan")
            ids.append(job["id"])
        while store.claim(4242, ("scan",)) is not None:
            pass
        for job_id in ids:
            store.progress(job_id, 1, 1000)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.add_init_script(SCRIPT_PROBE)
            dashboard = Dashboard(page, server).open(f"?limit={ROWS}")
            assert page.locator("#jobs-body tr").count() == ROWS, "the page should show 100 rows"
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def nothing(i: int) -> None:
                pass

            def one_row(i: int) -> None:
                store.progress(ids[0], 2 + i, 1000)

            def all_rows(i: int) -> None:
                for n, job_id in enumerate(ids):
                    store.progress(job_id, 100 + i * 10 + n % 7, 1000)

            results = {
                "unchanged (304)": measure(dashboard, cdp, nothing, args.polls),
                "one row changed": measure(dashboard, cdp, one_row, args.polls),
                "all 100 rows changed": measure(dashboard, cdp, all_rows, args.polls),
            }
            browser.close()

    print(f"\nOne dashboard poll on a {ROWS}-row page (median of {args.polls} polls, ms of main-thread time)")
    columns = ("page script", "RecalcStyleDuration", "LayoutDuration", "TaskDuration")
    print(f"{'poll':<24}{'script':>9}{'style':>9}{'layout':>9}{'all tasks':>11}")
    for name, row in results.items():
        print(f"{name:<24}" + "".join(f"{row[m]:>9.2f}" for m in columns[:3]) + f"{row[columns[3]]:>11.2f}")
    print("script: response arrival to the table's update event (JSON parse, diff, DOM writes);")
    print("style/layout/all tasks: Chromium's own counters over the whole poll step.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
