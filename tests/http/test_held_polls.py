"""Held polls (jobdash.http.held_polls) over real HTTP: an unchanged revalidation with
``Prefer: wait=N`` waits for a change of its own answer, and every way a hold ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from jobdash.store.sqlite.store import SqliteStore
from support.live_server import held_polls
from support.served_app import ServedApp, served_app

# Generous: these bound how long a test may wait for what should take a tick (0.1 s).
SOON_S = 5.0
# "Answered at once": below any hold these tests could cause (5 s and more), above what a
# busy machine adds to a plain request.
AT_ONCE_S = 4.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    with served_app(tmp_path) as running:
        yield running


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[SqliteStore]:
    """Another connection to the same database: writes as another process would."""
    store = SqliteStore(tmp_path)
    yield store
    store.close()


def _later(seconds: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def _etag(served: ServedApp, path: str) -> str:
    return httpx.get(served.url(path)).headers["etag"]


def _held_get(served: ServedApp, path: str, etag: str, wait: int = 10, **headers: str) -> httpx.Response:
    return httpx.get(
        served.url(path), headers={"If-None-Match": etag, "Prefer": f"wait={wait}", **headers}, timeout=wait + 10
    )


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SOON_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {SOON_S} s: {what}"
        time.sleep(0.01)


def test_an_unchanged_poll_is_held_until_a_write_changes_its_answer(served: ServedApp, writer: SqliteStore) -> None:
    etag = _etag(served, "/api/jobs")
    started = time.monotonic()
    _later(0.5, lambda: writer.create("/media/new", "scan"))
    response = _held_get(served, "/api/jobs", etag, wait=20)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["jobs"][0]["file_path"] == "/media/new"
    assert response.headers["preference-applied"] == "wait=20"
    assert response.headers["etag"] != etag
    # Held until the write (not answered at once), and answered long before the wait ran out.
    assert 0.5 <= elapsed < 20


def test_the_wait_running_out_answers_the_304_with_the_wait_applied(served: ServedApp) -> None:
    etag = _etag(served, "/api/jobs")
    started = time.monotonic()
    response = _held_get(served, "/api/jobs", etag, wait=1)
    assert time.monotonic() - started >= 1.0
    assert response.status_code == 304 and response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["preference-applied"] == "wait=1"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_change_to_other_data_keeps_the_poll_held(served: ServedApp, writer: SqliteStore) -> None:
    watched, other = writer.create("/media/a", "scan"), writer.create("/media/b", "scan")
    etag = _etag(served, f"/api/jobs/{watched['id']}")
    started = time.monotonic()
    _later(0.3, lambda: writer.cancel(other["id"]))
    response = _held_get(served, f"/api/jobs/{watched['id']}", etag, wait=2)
    assert response.status_code == 304
    assert time.monotonic() - started >= 2.0


def test_a_job_page_poll_is_answered_when_its_job_changes(served: ServedApp, writer: SqliteStore) -> None:
    job = writer.create("/media/a", "scan")
    etag = _etag(served, f"/api/jobs/{job['id']}")
    _later(0.3, lambda: writer.cancel(job["id"]))
    response = _held_get(served, f"/api/jobs/{job['id']}", etag)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_log_poll_at_the_end_is_answered_when_a_line_is_written(served: ServedApp, writer: SqliteStore) -> None:
    job = writer.create("/media/a", "scan")
    with writer.open_log(job) as log:
        log.write("first line")
    path = f"/api/jobs/{job['id']}/logs?offset=1"
    etag = _etag(served, path)

    def append() -> None:
        with writer.open_log(job) as log:
            log.write("second line")

    _later(0.3, append)
    response = _held_get(served, path, etag)
    assert response.status_code == 200
    assert [line.endswith("second line") for line in response.json()["lines"]] == [True]


def test_a_workers_poll_is_answered_when_a_worker_registers(served: ServedApp, writer: SqliteStore) -> None:
    etag = _etag(served, "/api/workers")
    _later(0.3, lambda: writer.register_worker("host-a", 4242, ("scan",)))
    response = _held_get(served, "/api/workers", etag)
    assert response.status_code == 200
    assert [(worker["host"], worker["state"]) for worker in response.json()["workers"]] == [("host-a", "alive")]


def test_a_job_types_poll_is_answered_when_a_worker_brings_a_new_type(served: ServedApp, writer: SqliteStore) -> None:
    etag = _etag(served, "/api/job-types")
    _later(0.3, lambda: writer.register_worker("host-a", 4242, ("scan", "fingerprint")))
    response = _held_get(served, "/api/job-types", etag)
    assert response.status_code == 200
    types = {item["name"]: item["workers"] for item in response.json()["job_types"]}
    assert types["fingerprint"] == 1 and types["scan"] == 1


@pytest.mark.parametrize(
    "prefer",
    [None, "wait=0", "wait=soon", "respond-async"],
    ids=["no-preference", "zero", "malformed", "other-preference"],
)
def test_without_a_wait_preference_nothing_changes(served: ServedApp, prefer: str | None) -> None:
    etag = _etag(served, "/api/jobs")
    headers = {"If-None-Match": etag} | ({"Prefer": prefer} if prefer else {})
    started = time.monotonic()
    response = httpx.get(served.url("/api/jobs"), headers=headers)
    assert response.status_code == 304
    assert "preference-applied" not in response.headers
    assert time.monotonic() - started < AT_ONCE_S


def test_a_longer_wait_is_capped_and_a_first_request_is_told_so(served: ServedApp) -> None:
    response = httpx.get(served.url("/api/jobs"), headers={"Prefer": "wait=300"})
    assert response.status_code == 200
    assert response.headers["preference-applied"] == "wait=30"


@pytest.mark.parametrize("path", ["/api/config/polling", "/api/openapi.json"])
def test_endpoints_that_do_not_hold_answer_at_once_without_the_header(served: ServedApp, path: str) -> None:
    etag = _etag(served, path)
    started = time.monotonic()
    response = _held_get(served, path, etag, wait=5)
    assert response.status_code == 304 and "preference-applied" not in response.headers
    assert time.monotonic() - started < AT_ONCE_S


def test_errors_are_answered_at_once_without_the_header(served: ServedApp) -> None:
    for path, status in [("/api/jobs/not-a-uuid", 400), ("/api/jobs?limit=0", 400)]:
        response = _held_get(served, path, '"x"', wait=5)
        assert response.status_code == status and "preference-applied" not in response.headers


def test_holds_are_off_with_a_maximum_of_zero(tmp_path: Path) -> None:
    with served_app(tmp_path, max_wait=0) as served:
        etag = _etag(served, "/api/jobs")
        started = time.monotonic()
        response = _held_get(served, "/api/jobs", etag, wait=5)
        assert response.status_code == 304 and "preference-applied" not in response.headers
        assert time.monotonic() - started < AT_ONCE_S


def test_a_lower_maximum_caps_the_wait(tmp_path: Path) -> None:
    with served_app(tmp_path, max_wait=1) as served:
        etag = _etag(served, "/api/jobs")
        response = _held_get(served, "/api/jobs", etag, wait=25)
        assert response.status_code == 304 and response.headers["preference-applied"] == "wait=1"


def test_a_client_that_goes_away_releases_its_hold_at_once(served: ServedApp) -> None:
    etag = _etag(served, "/api/jobs")
    changes = served.app.state.changes
    with socket.create_connection(("127.0.0.1", served.server.config.port)) as conn:
        conn.sendall(
            b"GET /api/jobs HTTP/1.1\r\nHost: test\r\nPrefer: wait=30\r\nIf-None-Match: " + etag.encode() + b"\r\n\r\n"
        )
        _wait_until(lambda: changes.watched == 1 and held_polls(served.base) == 1, "the request is held")
    _wait_until(lambda: changes.watched == 0, "the hold is released after the client went away")
    assert held_polls(served.base) == 0


def test_shutdown_answers_every_held_poll_before_the_server_exits(tmp_path: Path) -> None:
    with served_app(tmp_path) as served:
        etag = _etag(served, "/api/jobs")
        pool = ThreadPoolExecutor(5)
        held = [pool.submit(_held_get, served, "/api/jobs", etag, 30) for _ in range(5)]
        _wait_until(lambda: held_polls(served.base) == 5, "the requests are held")
        assert served.app.state.changes.watched == 1, "one key, five waiters"
        started = time.monotonic()
        served.stop()
        answers = [future.result(timeout=SOON_S) for future in held]
        pool.shutdown()
    assert [answer.status_code for answer in answers] == [304] * 5
    assert all(answer.headers["preference-applied"] == "wait=30" for answer in answers)
    assert time.monotonic() - started < 10  # not the 30 s of the holds


def test_many_held_polls_are_all_answered_by_one_change(served: ServedApp, writer: SqliteStore) -> None:
    etag = _etag(served, "/api/jobs")
    with ThreadPoolExecutor(40) as pool:
        held = [pool.submit(_held_get, served, "/api/jobs", etag, 20) for _ in range(40)]
        _wait_until(lambda: held_polls(served.base) == 40, "the requests are held")
        writer.create("/media/new", "scan")
        answers = [future.result(timeout=SOON_S + 20) for future in held]
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.headers["etag"] for answer in answers}) == 1


def test_cross_origin_polls_may_send_prefer_and_read_preference_applied(tmp_path: Path) -> None:
    origin = "https://dash.example.com"
    with served_app(tmp_path, cors_origins=(origin,)) as served:
        preflight = httpx.options(
            served.url("/api/jobs"),
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match, prefer",
            },
        )
        assert preflight.status_code == 200
        assert "prefer" in preflight.headers["access-control-allow-headers"].lower()
        etag = _etag(served, "/api/jobs")
        response = _held_get(served, "/api/jobs", etag, wait=1, Origin=origin)
        assert response.status_code == 304
        assert response.headers["access-control-allow-origin"] == origin
        assert "preference-applied" in response.headers["access-control-expose-headers"].lower()
        assert response.headers["preference-applied"] == "wait=1"
