"""The dashboard's run-time vocabulary and workers: the type filter lists the types the API
knows (a plugin type present only in the store included) and follows new ones without a
reload; the workers strip shows alive and gone workers and what they run, updates in
place, and a 304 changes nothing; a queued job whose type no live worker runs says so
until one appears; progress reads in the job's own unit.

Real server and build; jobs and workers change through the store, as another process
would change them. Time is Playwright's fake clock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.store.sqlite.store import DB_FILENAME
from support.dashboard import Dashboard, expected_network_errors, register_worker, running_job
from support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000

# Records every DOM mutation in the parts of the page the job types and workers feed
# (and the rest of the list), as "<what changed> <where>".
OBSERVE = """() => {
  window.__mutations = [];
  const observer = new MutationObserver((records) => window.__mutations.push(...records.map((r) => {
    const element = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    return `${r.type} ${element.closest("[id]")?.id ?? element.nodeName} ${r.attributeName ?? ""}`;
  })));
  for (const el of document.querySelectorAll("#workers, #job-filters, #jobs-table, .list-bar, #jobs-empty"))
    observer.observe(el, { subtree: true, childList: true, attributes: true, characterData: true });
}"""


def record_responses(page: Any, path: str) -> list[int]:
    """The statuses of the answers to requests for ``path`` (e.g. "/api/workers"), as they come."""
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.split("?")[0].endswith(path) else None)
    return statuses


def type_options(page: Any) -> list[list[str]]:
    return page.eval_on_selector_all("#filter-type option", "options => options.map((o) => [o.value, o.textContent])")


def api_fetches(dash: Dashboard) -> list[str]:
    """Every API request the page made so far (jobs, job types and workers)."""
    return [f["url"] for f in dash.page.evaluate("window.__fetches") if "/api/" in f["url"]]


# --- the type filter --------------------------------------------------------------------------


def test_the_type_filter_lists_the_apis_types_including_a_plugin_type_found_only_in_the_store(
    dash: Dashboard,
) -> None:
    store = dash.store
    scan = store.create("/media/a", "scan")["id"]
    checksum = store.create("/media/b.mkv", "checksum")["id"]  # no plugin installed: only in the store
    dash.open()
    page = dash.page
    names = [value for value, _ in type_options(page)]
    assert names[0] == "" and "checksum" in names and "scan" in names
    assert names[1:] == sorted(names[1:]), "the API's order (by name)"
    expect(page.locator('#filter-type option[value="checksum"]')).to_have_text("Checksum")

    page.select_option("#filter-type", "checksum")
    dash.settle()
    assert dash.row_ids() == [checksum]
    assert page.url.endswith("?type=checksum")
    page.reload()
    dash.settle()
    expect(page.locator("#filter-type")).to_have_value("checksum")
    assert dash.row_ids() == [checksum]
    page.select_option("#filter-type", "")
    dash.settle()
    assert sorted(dash.row_ids()) == sorted([scan, checksum])


def test_a_new_type_joins_the_filter_without_a_reload_and_an_unchanged_list_costs_a_304(dash: Dashboard) -> None:
    dash.store.create("/media/a", "scan")
    statuses = record_responses(dash.page, "/api/job-types")
    dash.open()
    page = dash.page
    assert 'value="archive"' not in page.inner_html("#filter-type")
    page.evaluate(OBSERVE)
    dash.run_for(INTERVAL_MS)
    assert statuses == [200, 304]
    assert page.evaluate("window.__mutations") == []

    dash.store.create("/media/old", "archive")
    dash.run_for(INTERVAL_MS)
    assert statuses == [200, 304, 200]
    expect(page.locator('#filter-type option[value="archive"]')).to_have_text("Archive")
    expect(page.locator("#filter-type")).to_have_value("")


def test_the_urls_type_is_selected_before_the_list_arrives(dash: Dashboard) -> None:
    job = dash.store.create("/media/x", "checksum")["id"]
    dash.page.route("**/api/job-types", lambda route: route.abort())
    dash.open("?type=checksum")
    page = dash.page
    assert type_options(page) == [["", "All types"], ["checksum", "Checksum"]]
    expect(page.locator("#filter-type")).to_have_value("checksum")
    assert dash.row_ids() == [job]
    page.unroute("**/api/job-types")
    dash.run_for(INTERVAL_MS)  # the retry after a failure: the normal interval
    expect(page.locator('#filter-type option[value="scan"]')).to_have_count(1)
    expect(page.locator("#filter-type")).to_have_value("checksum")
    expected_network_errors(page)


# --- the workers strip ------------------------------------------------------------------------


def test_no_worker_says_how_to_start_one(dash: Dashboard) -> None:
    dash.open()
    workers = dash.page.locator("#workers")
    expect(workers).to_be_visible()
    expect(workers).to_have_attribute("data-alive", "0")
    expect(workers.locator('[data-role="workers-empty"]')).to_have_text(
        "No workers registered — start one with jobdash worker"
    )
    expect(workers.locator("[data-worker-id]")).to_have_count(0)


def test_the_strip_shows_alive_and_gone_workers_and_follows_them_in_place(dash: Dashboard) -> None:
    store = dash.store
    scan = running_job(store, "/srv/media/Movies", processed=3, total=10)
    busy = register_worker(store, "media-01", ("scan",), pid=101, running=scan)
    gone = register_worker(store, "media-02", ("transcode",), pid=202)
    store.worker_stopped(gone)
    navigations: list[str] = []
    dash.page.on("framenavigated", lambda frame: navigations.append(frame.url))
    dash.open()
    navigations.clear()
    page = dash.page
    strip = page.locator("#workers")
    expect(strip).to_have_attribute("data-alive", "1")
    expect(strip.locator('[data-role="workers-count"]')).to_have_text("1 alive, 1 gone")
    alive = strip.locator(f'[data-worker-id="{busy}"]')
    expect(alive).to_have_attribute("data-state", "alive")
    expect(alive.locator('[data-field="state"]')).to_have_text("Alive")
    expect(alive.locator('[data-field="host"]')).to_have_text("media-01")
    expect(alive.locator('[data-field="pid"]')).to_have_text("101")
    expect(alive.locator('[data-field="types"]')).to_have_text("scan")
    link = alive.locator('[data-field="current_job"] a')
    expect(link).to_have_text(f"scan {scan[:8]}")
    expect(link).to_have_attribute("href", f"job.html?id={scan}")
    expect(link).to_have_attribute("title", "/srv/media/Movies")
    stopped = strip.locator(f'[data-worker-id="{gone}"]')
    expect(stopped).to_have_attribute("data-state", "gone")
    expect(stopped.locator('[data-field="state"]')).to_have_text("Gone")  # in words, not colour alone
    expect(stopped.locator('[data-field="current_job"]')).to_be_hidden()
    # Greyed out: a gone worker's text is the muted colour, an alive one's is not.
    colours = page.evaluate(
        """([a, g]) => [a, g].map((id) => getComputedStyle(document.querySelector(
             `[data-worker-id="${id}"] [data-field="types"]`)).color)""",
        [busy, gone],
    )
    assert colours[0] == colours[1]  # the types are muted in both...
    host_colours = page.evaluate(
        """([a, g]) => [a, g].map((id) => getComputedStyle(document.querySelector(
             `[data-worker-id="${id}"] [data-field="host"]`)).color)""",
        [busy, gone],
    )
    assert host_colours[0] != host_colours[1], "a gone worker is greyed out"
    page.evaluate("() => { window.__strip = document.querySelector('#workers [data-worker-id]'); }")

    # A worker starts: it appears, without a reload; the others stay the same elements.
    fresh = register_worker(store, "media-03", ("transcode", "checksum"), pid=303)
    dash.run_for(INTERVAL_MS)
    expect(strip).to_have_attribute("data-alive", "2")
    expect(strip.locator(f'[data-worker-id="{fresh}"] [data-field="types"]')).to_have_text("transcode, checksum")
    expect(strip.locator(f'[data-worker-id="{fresh}"] [data-field="current_job"]')).to_have_text("idle")
    assert page.evaluate(f"() => window.__strip === document.querySelector('[data-worker-id=\"{busy}\"]')")

    # The busy one finishes its job, then stops: idle, then gone, in the same element.
    store.finish(scan, "completed", summary={"files_found": 10})
    assert store.worker_heartbeat(busy, None)
    dash.run_for(INTERVAL_MS)
    expect(alive.locator('[data-field="current_job"]')).to_have_text("idle")
    store.worker_stopped(busy)
    dash.run_for(INTERVAL_MS)
    expect(alive).to_have_attribute("data-state", "gone")
    expect(strip).to_have_attribute("data-alive", "1")
    expect(strip.locator('[data-role="workers-count"]')).to_have_text("1 alive, 2 gone")
    # Alive workers come first.
    order = page.eval_on_selector_all("#workers [data-worker-id]", "els => els.map((e) => e.dataset.state)")
    assert order == ["alive", "gone", "gone"]
    assert page.evaluate(f"() => window.__strip === document.querySelector('[data-worker-id=\"{busy}\"]')")
    assert navigations == [], "the page must not reload"


def test_a_304_from_the_workers_api_changes_nothing(dash: Dashboard) -> None:
    store = dash.store
    waiting = store.create("/media/queued.mkv", "transcode")["id"]
    register_worker(store, "media-01", ("scan",))
    gone = register_worker(store, "media-02", ("transcode",))
    store.worker_stopped(gone)
    workers = record_responses(dash.page, "/api/workers")
    types = record_responses(dash.page, "/api/job-types")
    dash.open()
    page = dash.page
    expect(dash.row(waiting).locator('[data-role="waiting"]')).to_be_visible()
    page.evaluate(OBSERVE)
    dash.run_for(INTERVAL_MS)
    dash.run_for(INTERVAL_MS)
    assert workers == [200, 304, 304] and types == [200, 304, 304]
    assert page.evaluate("window.__mutations") == [], "an unchanged poll changed the page"

    # The same observer does see a real change.
    register_worker(store, "media-03", ("move",))
    dash.run_for(INTERVAL_MS)
    assert workers[-1] == 200
    assert any("workers" in record for record in page.evaluate("window.__mutations"))


def test_a_hidden_tab_asks_for_neither_workers_nor_types(dash: Dashboard) -> None:
    register_worker(dash.store, "media-01", ("scan",))
    dash.open()
    before = len(api_fetches(dash))
    dash.set_visibility("hidden")
    dash.page.clock.run_for(INTERVAL_MS * 6)
    assert len(api_fetches(dash)) == before
    dash.set_visibility("visible")
    dash.settle()
    assert sorted(url.split("?")[0] for url in api_fetches(dash)[before:]) == [
        "/api/job-types",
        "/api/jobs",
        "/api/workers",
    ]


def test_worker_data_is_text_never_markup(dash: Dashboard) -> None:
    evil = "<img src=x onerror=window.__xss=1>"
    register_worker(dash.store, evil, ("scan",))
    dash.open()
    strip = dash.page.locator("#workers")
    expect(strip.locator('[data-field="host"]')).to_have_text(evil)
    assert dash.page.locator("#workers img").count() == 0
    dash.page.clock.run_for(2000)
    assert dash.page.evaluate("typeof window.__xss") == "undefined"


# --- waiting for a worker ---------------------------------------------------------------------


def test_a_queued_job_says_it_waits_for_a_worker_of_its_type_until_one_appears(dash: Dashboard) -> None:
    store = dash.store
    transcode = store.create("/media/Film.mkv", "transcode")["id"]
    scan = store.create("/media/Library", "scan")["id"]
    register_worker(store, "media-01", ("scan",))
    dash.open()
    note = dash.row(transcode).locator('[data-role="waiting"]')
    expect(note).to_be_visible()
    expect(note).to_have_text("Waiting for a worker that runs transcode")
    expect(note).to_have_attribute("data-waiting-for", "transcode")
    expect(dash.row(scan).locator('[data-role="waiting"]')).to_be_hidden()  # a live worker runs scan
    # The badge still says "Queued": the note is beside it, not instead of it.
    expect(dash.cell(transcode, "status").locator(".badge")).to_have_text("Queued")

    worker = register_worker(store, "media-02", ("transcode",))
    dash.run_for(INTERVAL_MS)
    expect(note).to_be_hidden()
    expect(note).not_to_have_attribute("data-waiting-for", "transcode")

    store.worker_stopped(worker)  # gone again: the job waits again
    dash.run_for(INTERVAL_MS)
    expect(note).to_be_visible()

    # Only queued jobs wait: once claimed, the note goes.
    assert store.claim(4242, ("transcode",))["id"] == transcode
    dash.run_for(INTERVAL_MS)
    expect(dash.cell(transcode, "status").locator(".badge")).to_have_attribute("data-status", "running")
    expect(note).to_be_hidden()


# --- progress by unit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "processed", "total", "unit", "detail", "valuetext"),
    [
        ("scan", 1417, 3000, "files", "1,417 of 3,000 files", "1,417 of 3,000 files (47.2%)"),
        ("transcode", 23, 60, "seconds", "0:23 of 1:00", "0:23 of 1:00 (38.3%)"),
        ("transcode", 1830, 5400, "seconds", "30:30 of 1:30:00", "30:30 of 1:30:00 (33.8%)"),
        ("checksum", 1_258_291, 4 * 1024**2, "bytes", "1.2 MiB of 4.0 MiB", "1.2 MiB of 4.0 MiB (30%)"),
        ("archive", 5, 9, "items", "5 of 9 items", "5 of 9 items (55.5%)"),
    ],
)
def test_progress_reads_in_the_jobs_unit(
    dash: Dashboard, job_type: str, processed: int, total: int, unit: str, detail: str, valuetext: str
) -> None:
    job = running_job(dash.store, "/media/x", job_type=job_type, processed=processed, total=total, unit=unit)
    dash.open()
    cell = dash.cell(job, "progress_percent")
    expect(cell.locator(".progress-detail")).to_have_text(detail)
    expect(cell.locator('[role="progressbar"]')).to_have_attribute("aria-valuetext", valuetext)


# --- a worker whose heartbeat stopped ---------------------------------------------------------


@pytest.fixture(scope="module")
def stale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that counts a worker gone 10 s after its last heartbeat (the minimum)."""
    with live_server(tmp_path_factory.mktemp("stale"), serve_flags=("--stale-after", "10")) as running:
        yield running


def age_heartbeat(server: LiveServer, worker_id: str, seconds: int) -> None:
    """Write an old heartbeat into the workers table, as a worker that died would leave it."""
    old = (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    conn = sqlite3.connect(server.data_dir / DB_FILENAME, timeout=5, isolation_level=None)
    try:
        conn.execute("UPDATE workers SET heartbeat_at = ? WHERE id = ?", (old, worker_id))
    finally:
        conn.close()


def test_a_worker_whose_heartbeat_stopped_is_gone_and_its_types_wait_again(page: Any, stale_server: Any) -> None:
    stale_server.reset()
    store = stale_server.store
    job = store.create("/media/Film.mkv", "transcode")["id"]
    worker = register_worker(store, "media-09", ("transcode",))
    dash = Dashboard(page, stale_server).open()
    strip = page.locator("#workers")
    expect(strip.locator(f'[data-worker-id="{worker}"]')).to_have_attribute("data-state", "alive")
    expect(dash.row(job).locator('[data-role="waiting"]')).to_be_hidden()

    age_heartbeat(stale_server, worker, 30)  # older than --stale-after 10
    dash.run_for(INTERVAL_MS)
    expect(strip.locator(f'[data-worker-id="{worker}"]')).to_have_attribute("data-state", "gone")
    expect(strip).to_have_attribute("data-alive", "0")
    expect(dash.row(job).locator('[data-role="waiting"]')).to_have_text("Waiting for a worker that runs transcode")
