"""Driving the dashboard in browser tests: open it under a fake clock, step polls, read rows.

Time is Playwright's fake clock only: the page is opened with ``page.clock.install()``,
the clock is paused once the first load is in, and every later poll happens because a
test advances the clock (``run_for``). Requests are read from a log the page's own
``fetch`` keeps (with fake timestamps), so a test knows at once — without waiting — which
requests a clock step started, and when.
"""

from __future__ import annotations

import os
import time
from typing import Any

from playwright.sync_api import expect

from jobdash.store.sqlite.store import SqliteStore
from support.browser import drop_load_errors

REAL_WAIT_MS = 10_000  # upper bound for real-time waits (a request to the local server)

# Runs before the page's modules (Playwright init scripts are exempt from the page's
# CSP): logs every fetch with the fake clock's time, and every CSP violation. It also
# counts the fetches still open, on <html data-test-inflight> (outside <body>, where no
# test observes mutations; an attribute, so that expect() waits for it whatever the fake
# clock does): a fetch is open until its body has been read (a 304's or a failure's at
# once), and the page renders in the microtasks that follow, so once the count is 0
# every answer is on the page.
PAGE_PROBES = """
window.__fetches = [];
let inflight = 0;
const count = (step) => {
  inflight += step;
  document.documentElement.setAttribute("data-test-inflight", String(inflight));
};
const realFetch = window.fetch;
window.fetch = function (input, init) {
  window.__fetches.push({ at: Date.now(), url: String(input) });
  count(1);
  let open = true;
  const done = () => {
    if (open) { open = false; count(-1); }
  };
  return realFetch.apply(this, arguments).then((response) => {
    if (!response.body || response.status === 304 || response.status === 204) {
      done();
      return response;
    }
    const text = response.text;
    response.text = function () { return text.apply(this, arguments).finally(done); };
    return response;
  }, (error) => { done(); throw error; });
};
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""

# Records every DOM mutation in the jobs table and around it (not the header's "updated N
# s ago", which ticks by design) in window.__mutations, and the status of every jobs
# answer in window.__responses. A function body: wrap it to evaluate it in Playwright.
OBSERVE_LIST = """
window.__mutations = [];
const observer = new MutationObserver((records) => window.__mutations.push(...records.map(
  (r) => `${r.type} ${r.target.nodeName} ${r.attributeName ?? ""}`)));
for (const el of document.querySelectorAll("#jobs-table, #job-filters, .list-bar, #jobs-empty, #page-error"))
  observer.observe(el, { subtree: true, childList: true, attributes: true, characterData: true });
window.__responses = [];
document.getElementById("jobs-table").addEventListener("jobs:polled", (e) => window.__responses.push(e.detail.status));
"""

SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => state === "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def wait_for_fetches(page: Any) -> None:
    """Wait (in real time) until every fetch the page started has been answered and read."""
    html = page.locator("html")
    if html.get_attribute("data-test-inflight") is not None:
        expect(html).to_have_attribute("data-test-inflight", "0", timeout=REAL_WAIT_MS)


class ClockedPage:
    """A page of a LiveServer under Playwright's fake clock, with its API fetches logged.

    ``api_prefix`` picks which fetches count ("/api/jobs" for the dashboard, "/api/" for
    the job page, which also polls logs).
    """

    api_prefix = "/api/"

    def __init__(self, page: Any, server: Any) -> None:
        self.page = page
        self.server = server
        self.network: list[str] = []  # the counted API requests, as the network saw them
        page.on("request", lambda request: self.network.append(request.url) if self.api_prefix in request.url else None)
        page.add_init_script(PAGE_PROBES)

    @property
    def store(self) -> SqliteStore:
        return self.server.store

    def goto_paused(self, path: str) -> None:
        """Install the fake clock, paused, then load ``path`` of the server."""
        self.page.clock.install()
        # Paused from the start (it would run at real speed after install): only the
        # test moves time. The Python API takes seconds.
        self.page.clock.pause_at(time.time() + 1)
        self.page.goto(self.server.url(path))

    def now(self) -> int:
        return int(self.page.evaluate("Date.now()"))

    def fetches(self) -> list[dict[str, Any]]:
        """Every counted API fetch so far: {"at": fake epoch ms, "url"}."""
        return [f for f in self.page.evaluate("window.__fetches") if self.api_prefix in f["url"]]

    def set_visibility(self, state: str) -> None:
        self.page.evaluate(SET_VISIBILITY, state)

    @property
    def status(self) -> Any:
        return self.page.locator("#connection-status")

    def assert_strict_csp(self, scripts: list[str]) -> None:
        """Assert the loaded page runs under its strict CSP <meta> with no violation, has
        no style attributes in its markup (widths go through the CSSOM), and that every
        module it loaded (``scripts``: URLs of script requests) was preloaded."""
        page = self.page
        csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert page.evaluate("window.__cspViolations") == []
        assert page.evaluate("document.querySelectorAll('[style]:not(.progress-fill)').length") == 0
        preloaded = page.eval_on_selector_all('link[rel="modulepreload"]', "links => links.map(l => l.href)")
        assert scripts and set(scripts) <= set(preloaded), "a module was loaded that was not preloaded"


class Dashboard(ClockedPage):
    """The dashboard page of a LiveServer, under a fake clock."""

    api_prefix = "/api/jobs"

    # --- opening and time ---------------------------------------------------------------

    def open(self, query: str = "", *, path: str = "index.html", wait_for_data: bool = True) -> Dashboard:
        """Install the fake clock, paused, then load the page and wait for its first load."""
        self.goto_paused(path + query)
        if wait_for_data:
            self.settle()
        return self

    def settle(self) -> None:
        """Wait (in real time) until no request is in flight: the jobs list's (the header
        says "updating") nor the job types' or workers' (see PAGE_PROBES)."""
        expect(self.status).not_to_have_attribute("data-state", "updating", timeout=REAL_WAIT_MS)
        wait_for_fetches(self.page)

    def run_for(self, ms: int) -> list[int]:
        """Advance the fake clock by ``ms`` (firing due timers), then let requests finish.

        Returns when, in ms after the step began, each /api/jobs request of the step started.
        """
        start, before = self.now(), len(self.fetches())
        self.page.clock.run_for(ms)
        self.settle()
        return [f["at"] - start for f in self.fetches()[before:]]

    # --- reading the page -----------------------------------------------------------------

    @property
    def table(self) -> Any:
        return self.page.locator("#jobs-table")

    def poll_count(self) -> int:
        return int(self.table.get_attribute("data-poll-count") or 0)

    def row(self, job_id: str) -> Any:
        return self.page.locator(f'tr[data-job-id="{job_id}"]')

    def cell(self, job_id: str, field: str) -> Any:
        return self.row(job_id).locator(f'[data-field="{field}"]')

    def row_ids(self) -> list[str]:
        return self.page.eval_on_selector_all("#jobs-body tr", "rows => rows.map(r => r.dataset.jobId)")

    def tag_rows(self) -> None:
        """Remember every row's element, to check later that it is the same object."""
        self.page.evaluate(
            "() => { window.__rows = new Map([...document.querySelectorAll('#jobs-body tr')]"
            ".map((tr) => [tr.dataset.jobId, tr])); }"
        )

    def same_rows(self) -> dict[str, bool]:
        """For each tagged row still shown: is it the very element tagged before?"""
        return self.page.evaluate(
            "() => Object.fromEntries([...window.__rows].filter(([id, tr]) => "
            "document.querySelector(`tr[data-job-id='${id}']`)).map(([id, tr]) => "
            "[id, document.querySelector(`tr[data-job-id='${id}']`) === tr]))"
        )


def running_job(
    store: SqliteStore,
    path: str,
    *,
    processed: int | None = None,
    total: int | None = None,
    job_type: str = "scan",
    unit: str = "files",
    params: dict[str, Any] | None = None,
) -> str:
    """Create a job (a scan unless ``job_type`` says otherwise) and claim it (running),
    optionally with progress in ``unit``; return its id."""
    job = store.create(path, job_type, priority=0, params=params)  # claimed before any other queued job
    claimed = store.claim(os.getpid(), (job_type,))
    assert claimed is not None and claimed["id"] == job["id"], f"another queued {job_type} was claimed first"
    if processed is not None and total is not None:
        store.progress(job["id"], processed, total, unit)
    return job["id"]


def register_worker(
    store: SqliteStore, host: str, types: tuple[str, ...], *, pid: int = 4242, running: str | None = None
) -> str:
    """Register a worker (alive: it has just beaten), optionally running a job; return its id."""
    worker = store.register_worker(host, pid, types)
    if running is not None:
        assert store.worker_heartbeat(worker, running)
    return worker


def expected_network_errors(page: Any) -> None:
    """Drop the console errors an engine logs for requests a test made fail on purpose."""
    drop_load_errors(page)
