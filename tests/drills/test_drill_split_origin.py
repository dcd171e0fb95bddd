"""Drill: split-origin deployment — pages on a plain static host, the API on another origin.

``build.py --api-base-url http://127.0.0.1:<api port>/`` builds dist/, which
``python -m http.server`` serves on one port as-is (no jobdash code on that side); the
API is ``jobdash serve --no-worker --port <api port> --cors-origin <static origin>`` with
no --dist. A second static server on a third port serves the same dist/ from an origin
that is not in the allow-list.

It shows that the dashboard and the detail page work end to end through CORS from the
allowed origin (rows appear; a status change, progress and new log lines show on the
next poll; a finished job ends polling), that ETag revalidation still works across
origins (the page reads the exposed ETag, the next poll sends If-None-Match after a
preflight the API answers, and gets a 304 that carries the CORS headers), and that the
other origin is refused: the API gives it no Access-Control-Allow-Origin, its preflight
is a 400, and the page there shows "reconnecting", then "offline", with only the
browser's CORS errors in its console (counted).
"""

from __future__ import annotations

import re
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jobdash.store.sqlite.store import DB_FILENAME
from support.browser import engine_of, failed_request_text
from support.browser_drills import (
    ServerProcess,
    SplitOrigin,
    StaticServer,
    drop_console_errors,
)
from support.dashboard import Dashboard, running_job
from support.job_page import DetailPage, append_log, kind
from support.live_server import build_frontend, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INTERVAL_MS = 5000
EVIL = "http://evil.example"


@dataclass
class Deployment:
    api: ServerProcess
    pages: StaticServer  # the allowed origin
    other: StaticServer  # same files, an origin not in the allow-list
    dist: Path

    @property
    def site(self) -> SplitOrigin:
        return SplitOrigin(self.pages, self.api)

    @property
    def other_site(self) -> SplitOrigin:
        return SplitOrigin(self.other, self.api)

    def access_log(self, method: str, path: str) -> int:
        """How many ``METHOD path...`` requests the API's access log shows so far."""
        return len(re.findall(rf'"{method} {re.escape(path)}[ ?]', self.api.output()))


@contextmanager
def _deploy(tmp: Path, *, max_wait: int = 0) -> Iterator[Deployment]:
    api_port = free_port()
    dist = tmp / "site"
    build_frontend(dist, "--api-base-url", f"http://127.0.0.1:{api_port}/")
    pages = StaticServer(dist, tmp / "static.log")
    other = StaticServer(dist, tmp / "other.log")
    # --log-level debug turns on the access log: preflights are counted from it.
    api = ServerProcess(
        tmp / "data",
        tmp / "api.log",
        port=api_port,
        cors_origins=(pages.origin,),
        max_wait=max_wait,
        extra=("--log-level", "debug"),
    )
    try:
        pages.start()
        other.start()
        api.start()
        yield Deployment(api, pages, other, dist)
    finally:
        api.close()
        other.close()
        pages.close()


def _emptied(deployment: Deployment) -> Deployment:
    conn = sqlite3.connect(deployment.api.data_dir / DB_FILENAME, timeout=5, isolation_level=None)
    try:
        conn.execute("DELETE FROM jobs")
    finally:
        conn.close()
    return deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with _deploy(tmp_path_factory.mktemp("split-origin")) as deployed:
        yield deployed


@pytest.fixture
def deployed(deployment: Deployment) -> Deployment:
    """The deployment with no jobs."""
    return _emptied(deployment)


@pytest.fixture(scope="module")
def held_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The same with held polls on."""
    with _deploy(tmp_path_factory.mktemp("split-origin-held"), max_wait=30) as deployed:
        yield deployed


class ApiResponses:
    """Every API response a page gets; ``rows()`` reads their full headers (Origin and
    the CORS headers included: ``all_headers()``, which may only be called outside the
    event handler)."""

    def __init__(self, page: Any) -> None:
        self._responses: list[Any] = []
        page.on("response", lambda r: self._responses.append(r) if "/api/" in r.url else None)

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for response in self._responses:
            sent, got = response.request.all_headers(), response.all_headers()
            rows.append(
                {
                    "url": response.url,
                    "status": response.status,
                    "inm": sent.get("if-none-match"),
                    "origin": sent.get("origin"),
                    "acao": got.get("access-control-allow-origin"),
                    "expose": got.get("access-control-expose-headers", ""),
                    "etag": got.get("etag"),
                }
            )
        return rows


def http(url: str, *, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """A plain HTTP request; returns (status, lower-cased headers) for any status."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def test_the_dashboard_works_across_origins_with_etag_revalidation(page: Any, deployed: Deployment) -> None:
    started = time.monotonic()
    site = deployed.site
    store = site.store
    running = running_job(store, "/media/Running", processed=10, total=40)
    queued = store.create("/media/Queued", "scan")["id"]
    recorded = ApiResponses(page)
    preflights_before = deployed.access_log("OPTIONS", "/api/jobs")

    dash = Dashboard(page, site).open()
    assert page.url.startswith(deployed.pages.origin + "/index.html")
    assert sorted(dash.row_ids()) == sorted([queued, running])
    expect(dash.status).to_have_attribute("data-state", "live")

    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]  # nothing changed: a 304
    store.cancel(queued)
    store.progress(running, 30, 40)
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]  # a change: a 200, applied
    expect(dash.cell(queued, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
    expect(dash.cell(running, "progress_percent").locator('[role="progressbar"]')).to_have_attribute(
        "aria-valuenow", "75"
    )
    assert dash.run_for(INTERVAL_MS) == [INTERVAL_MS]  # unchanged again: a 304
    expect(dash.status).to_have_attribute("data-state", "live")
    assert page.locator("#jobs-body tr").count() == 2

    everything = recorded.rows()
    api_origin = deployed.api.base
    # The jobs list, and the job types and workers (their own pollers, same schedule).
    paths = ("/api/jobs", "/api/job-types", "/api/workers")
    assert all(r["url"].split("?")[0] in {api_origin + path for path in paths} for r in everything)
    responses = [r for r in everything if r["url"].startswith(api_origin + "/api/jobs")]
    assert [(r["status"], bool(r["inm"])) for r in responses] == [(200, False), (304, True), (200, True), (304, True)]
    # The ETag of each answer went back with the next poll: the page could read it.
    assert [r["inm"] for r in responses[1:]] == [r["etag"] for r in responses[:-1]]
    for path in paths[1:]:
        feed = [r for r in everything if r["url"] == api_origin + path]
        assert [(r["status"], bool(r["inm"])) for r in feed] == [(200, False), (304, True), (304, True), (304, True)]
    for response in everything:
        assert response["origin"] == deployed.pages.origin
        assert response["acao"] == deployed.pages.origin, response
        assert {"etag", "retry-after"} <= {h.strip().lower() for h in response["expose"].split(",")}, response
    # If-None-Match is not a simple header: the browser asked the API first, and it agreed.
    preflights = deployed.access_log("OPTIONS", "/api/jobs") - preflights_before
    assert preflights >= 1
    print(
        f"\nsplit-origin dashboard: {len(responses)} API requests "
        f"({sum(r['status'] == 304 for r in responses)} revalidated as 304), {preflights} preflight(s), "
        f"{time.monotonic() - started:.1f} s"
    )


def test_the_detail_page_works_across_origins(page: Any, deployed: Deployment) -> None:
    started = time.monotonic()
    site = deployed.site
    store = site.store
    job = running_job(store, "/media/Show", processed=2, total=8)
    append_log(store, job, "Show/e01.mkv matroska", "Show/e02.mkv matroska")
    recorded = ApiResponses(page)

    detail = DetailPage(page, site).open(job)
    assert page.url.startswith(deployed.pages.origin + "/job.html")
    expect(detail.field("file_path")).to_have_text("/media/Show")
    expect(detail.field("processed_count")).to_have_text("2")
    expect(detail.log.locator("li")).to_have_count(2)
    expect(detail.status).to_have_attribute("data-state", "live")

    store.progress(job, 4, 8)
    append_log(store, job, "Show/e03.mkv matroska", "Show/e04.mkv matroska")
    for _ in range(3):  # status every 5 s; the log every 15 s
        detail.run_for(INTERVAL_MS)
    expect(detail.field("processed_count")).to_have_text("4")
    expect(detail.bar).to_have_attribute("aria-valuenow", "50")
    assert [text.split(" INFO ", 1)[1] for text in detail.log_texts()] == [
        f"Show/e0{n}.mkv matroska" for n in range(1, 5)
    ]

    store.finish(job, "completed", summary={"files_found": 8})
    detail.run_for(INTERVAL_MS)
    expect(detail.field("status")).to_have_attribute("data-status", "completed")
    expect(detail.status).to_have_attribute("data-reason", "finished")
    assert detail.run_for(60_000) == [], "a finished job is not polled"

    responses = recorded.rows()
    status = [r for r in responses if kind(r["url"]) == "job"]
    logs = [r for r in responses if kind(r["url"]) == "log"]
    assert [r["status"] for r in status] == [200, 200, 304, 304, 200]
    assert all(r["inm"] for r in status[1:]), "the ETag was readable across origins"
    assert all(r["acao"] == deployed.pages.origin for r in responses)
    assert len(logs) >= 3  # the tail, the new lines, the last fetch after the end
    print(
        f"\nsplit-origin detail page: {len(responses)} API requests ({len(status)} status, {len(logs)} log), "
        f"{time.monotonic() - started:.1f} s"
    )


def test_the_api_refuses_an_origin_not_in_the_allow_list(deployed: Deployment) -> None:
    api = deployed.api
    allowed = deployed.pages.origin
    url = api.url("api/jobs")

    status, headers = http(url, headers={"Origin": allowed})
    assert status == 200 and headers["access-control-allow-origin"] == allowed
    etag = headers["etag"]
    assert {"etag", "retry-after"} <= {h.strip().lower() for h in headers["access-control-expose-headers"].split(",")}
    status, headers = http(url, headers={"Origin": allowed, "If-None-Match": etag})
    assert status == 304 and headers["access-control-allow-origin"] == allowed, "a cross-origin 304 keeps CORS"
    preflight = {
        "Origin": allowed,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match",
    }
    status, headers = http(url, method="OPTIONS", headers=preflight)
    assert status == 200 and headers["access-control-allow-origin"] == allowed
    assert "if-none-match" in headers["access-control-allow-headers"].lower()
    assert "GET" in headers["access-control-allow-methods"]

    for origin in (EVIL, deployed.other.origin):
        status, headers = http(url, headers={"Origin": origin})
        assert "access-control-allow-origin" not in headers, origin
        status, headers = http(url, headers={"Origin": origin, "If-None-Match": etag})
        assert "access-control-allow-origin" not in headers, origin
        status, headers = http(url, method="OPTIONS", headers={**preflight, "Origin": origin})
        assert status == 400 and "access-control-allow-origin" not in headers, origin


def test_a_page_on_an_origin_not_allowed_cannot_read_the_api(page: Any, deployed: Deployment) -> None:
    started = time.monotonic()
    site = deployed.other_site
    site.store.create("/media/Secret", "scan")
    dash = Dashboard(page, site).open()
    expect(dash.status).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#jobs-loading")).to_have_text("Waiting for the jobs API…")
    states = []
    for gap in (INTERVAL_MS, INTERVAL_MS, 10_000):
        assert dash.run_for(gap) == [gap]
        states.append(dash.status.get_attribute("data-state"))
    assert states == ["reconnecting", "offline", "offline"]
    assert dash.row_ids() == [], "no data reached the page"
    assert page.locator("#workers [data-worker-id]").count() == 0
    assert len(dash.network) == 4, "every attempt reached the network and was refused by the browser"
    blocked = drop_console_errors(page, failed_request_text(page, "cors_blocked") or "")
    # Every poll asks for a hold (Prefer), so even the first one is preflighted: Firefox
    # also reports the refused preflight of a poller's first request.
    preflights = drop_console_errors(page, "CORS request did not succeed") if engine_of(page) == "firefox" else []
    assert len(preflights) <= 3, preflights
    failed_text = failed_request_text(page, "cors_failed")
    failed = drop_console_errors(page, failed_text) if failed_text else []
    # Each attempt of the dashboard's three pollers (jobs, job types, workers) was refused
    # (Chromium also logs each as a failed load; Firefox names the API URL instead).
    assert len(blocked) == 4 * 3 and len(failed) == (4 * 3 if failed_text else 0), (blocked, failed)
    if engine_of(page) == "chromium":
        assert all(f"from origin '{deployed.other.origin}'" in text for text in blocked)
    else:
        assert all(deployed.api.url("/api/") in text for text in blocked)
    print(
        f"\nsplit-origin refusal: 4 x 3 requests from {deployed.other.origin}, {len(blocked)} CORS errors + "
        f"{len(failed)} failed loads in the console, {time.monotonic() - started:.1f} s"
    )


MIN_GAP_MS = 1000  # min_update_gap_ms, the build's default


def test_held_polls_work_across_origins(page: Any, held_deployment: Deployment) -> None:
    """The API on another origin holds the page's polls: the browser may send `Prefer`
    (the preflight allows it), the page may read `Preference-Applied` (exposed), and a
    change shows the moment it is committed, without a clock step."""
    deployed = _emptied(held_deployment)
    site = deployed.site
    store = site.store
    queued = store.create("/media/Queued", "scan")["id"]
    recorded = ApiResponses(page)
    sent: list[str | None] = []
    page.on("request", lambda r: sent.append(r.headers.get("prefer")) if "/api/jobs" in r.url else None)

    dash = Dashboard(page, site).open()
    expect(dash.status).to_have_attribute("data-held", "true")  # Preference-Applied was readable
    page.clock.run_for(MIN_GAP_MS)  # the next polls go out, and wait at the API
    store.cancel(queued)
    expect(dash.cell(queued, "status").locator(".badge")).to_have_attribute("data-status", "cancelled")
    expect(dash.status).to_have_attribute("data-state", "live")

    responses = [r for r in recorded.rows() if r["url"].startswith(deployed.api.base + "/api/jobs")]
    assert [(r["status"], bool(r["inm"])) for r in responses] == [(200, False), (200, True)]
    assert sent == ["wait=25", "wait=25"]
    for response in recorded.rows():
        assert response["acao"] == deployed.pages.origin, response
        assert "preference-applied" in {h.strip().lower() for h in response["expose"].split(",")}, response
    status, headers = http(
        deployed.api.url("api/jobs"),
        method="OPTIONS",
        headers={
            "Origin": deployed.pages.origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match, prefer",
        },
    )
    assert status == 200 and "prefer" in headers["access-control-allow-headers"].lower()
    assert deployed.access_log("OPTIONS", "/api/jobs") >= 1
