"""The JSON API against DESIGN.md's contract: endpoints, parameters, errors, headers,
ETag/304, gzip, CORS, store unavailability and the OpenAPI document.

Every test runs the real app in-process (httpx + ASGITransport; see tests/support/apiclient.py)
on its own temporary data directory. Rows are written through the store's methods, or
with plain SQL where another process (the orchestrator) would have written them.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

import support.schema_check as schema_check
from jobdash.http import api as api_module
from jobdash.http.openapi import openapi_document
from jobdash.model.items import summary_text
from jobdash.model.list_query import LIMIT_DEFAULT, LIMIT_MAX, LIST_PARAMS, OFFSET_MAX, SINCE_WINDOWS, SORTS
from jobdash.model.polling import PollingConfig
from jobdash.model.states import JOB_TYPES, STATUSES, TERMINAL_STATUSES
from jobdash.store.sqlite.store import DB_FILENAME
from jobdash.util.timestamps import to_iso
from support.apiclient import (
    ApiClient,
    assert_api_headers,
    make_app,
    running_api,
)
from support.contract import DETAIL_FIELDS, LIST_FIELDS
from support.sqlhelpers import insert_row, other_writer, set_columns

LIST_KEYS = {"jobs", "total", "limit", "offset", "has_filters", "running"}
LOG_KEYS = {"job_id", "lines", "total_lines", "offset", "has_more"}
UNKNOWN_ID = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def app(data_dir: Path, store_url: str | None) -> Any:
    application = make_app(data_dir, database_url=store_url)
    yield application
    application.state.store.close()


@pytest.fixture
def store(app: Any) -> Any:
    return app.state.store


@pytest.fixture
def api(app: Any) -> ApiClient:
    with ApiClient(app) as client:
        yield client


@dataclass(frozen=True)
class Seeded:
    id: str
    job_type: str
    status: str
    priority: int
    created_at: str
    age_hours: float


def seed_jobs(store: Any, data_dir: Path, count: int = 30) -> list[Seeded]:
    """Create ``count`` jobs: every (type, status) pair once per 30, spread over ~9 days.

    Ages are i*7h + 0.5h + i min, so no job sits near the 24h or 7d boundary; priorities
    repeat (ties exercise the secondary sort order).
    """
    now = datetime.now(UTC)
    seeded: list[Seeded] = []
    updates: list[tuple[str, dict[str, Any]]] = []
    for i in range(count):
        job_type, status = JOB_TYPES[i % len(JOB_TYPES)], STATUSES[i % len(STATUSES)]
        priority = (i * 37) % 11 * 100
        job = store.create(f"/media/library/item {i:02d}.mkv", job_type, priority=priority)
        age = i * 7 + 0.5 + i / 60
        created = now - timedelta(hours=age)
        columns: dict[str, Any] = {"created_at": to_iso(created), "status": status}
        if status != "queued":
            columns["started_at"] = to_iso(created + timedelta(minutes=1))
            columns["worker_pid"] = 4242
        if status in TERMINAL_STATUSES:
            columns["completed_at"] = to_iso(created + timedelta(minutes=1, seconds=30 + i))
        if status == "running":
            columns["progress_percent"] = 40.0
            columns["progress_json"] = json.dumps({"processed": 4, "total": 10, "unit": "files"})
            # As another program may write it: "+00:00", microseconds (shown as ...Z).
            stored = datetime.fromisoformat(columns["created_at"]) + timedelta(minutes=2, microseconds=250_500)
            columns["progress_updated_at"] = stored.isoformat()
        if status == "completed":
            columns["progress_percent"] = 100.0
            columns["progress_json"] = json.dumps({"processed": 10, "total": 10, "unit": "files"})
        updates.append((job["id"], columns))
        seeded.append(Seeded(job["id"], job_type, status, priority, columns["created_at"], age))
    with other_writer(store) as conn:
        for job_id, columns in updates:
            assignments = ", ".join(f"{name} = ?" for name in columns)
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*columns.values(), job_id])
    return seeded


@pytest.fixture
def seeded(store: Any, data_dir: Path) -> list[Seeded]:
    return seed_jobs(store, data_dir)


def newest_first(jobs: list[Seeded]) -> list[str]:
    return [job.id for job in sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)]


def list_url(**params: Any) -> str:
    return "/api/jobs" + ("?" + urllib.parse.urlencode(params) if params else "")


def get_ok(api: ApiClient, url: str, **kwargs: Any) -> Any:
    response = api.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.json()


def error_of(response: Any, status: int) -> str:
    """Assert a JSON error response with ``status``; return its message."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert_api_headers(response)
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return body["error"]


def job_with_log(store: Any, lines: int = 5, **create: Any) -> dict[str, Any]:
    """Create a job and give it a log with ``lines`` lines ("line 0" ...)."""
    job = store.create("/media/logged", "scan", **create)
    log = store.open_log(job)
    for index in range(lines):
        log.write(f"line {index}")
    log.close()
    return job


def message_of(line: str) -> str:
    """Given a log line ``<ts> <LEVEL> <message>``, return the message."""
    return line.split(" ", 2)[2]


# --------------------------------------------------------------------------- list


def test_list_default_is_newest_first_with_every_field(api: ApiClient, seeded: list[Seeded]) -> None:
    body = get_ok(api, "/api/jobs")
    assert set(body) == LIST_KEYS
    assert body["total"] == 30 and body["limit"] == LIMIT_DEFAULT == 50 and body["offset"] == 0
    assert body["has_filters"] is False
    assert [item["id"] for item in body["jobs"]] == newest_first(seeded)
    for item in body["jobs"]:
        assert set(item) == LIST_FIELDS


def test_list_item_values(api: ApiClient, seeded: list[Seeded]) -> None:
    items = {item["id"]: item for item in get_ok(api, "/api/jobs")["jobs"]}
    for job in seeded:
        item = items[job.id]
        assert (item["job_type"], item["status"]) == (job.job_type, job.status)
        assert item["created_at"] == job.created_at
        assert item["file_path"].startswith("/media/library/item ")
        if job.status == "running":
            assert (item["progress_percent"], item["processed_count"], item["total_count"]) == (40.0, 4, 10)
            assert item["duration_seconds"] is None, "a running job has no duration yet"
            created = datetime.fromisoformat(job.created_at)
            assert item["progress_updated_at"] == to_iso(created + timedelta(minutes=2, milliseconds=250))
        else:
            assert item["progress_updated_at"] is None
        if job.status == "queued":
            assert item["started_at"] is None and item["completed_at"] is None
            assert item["processed_count"] is None and item["total_count"] is None
            assert item["duration_seconds"] is None
        if job.status in TERMINAL_STATUSES:
            index = int(item["file_path"][-6:-4])
            assert item["duration_seconds"] == 30 + index  # completed - started


@pytest.mark.parametrize("status", STATUSES)
def test_list_filter_one_status(api: ApiClient, seeded: list[Seeded], status: str) -> None:
    body = get_ok(api, list_url(status=status))
    expected = newest_first([j for j in seeded if j.status == status])
    assert [item["id"] for item in body["jobs"]] == expected and body["total"] == len(expected) == 6
    assert body["has_filters"] is True


@pytest.mark.parametrize(
    "value, wanted",
    [
        ("queued,running", {"queued", "running"}),
        ("failed,cancelled,completed", {"failed", "cancelled", "completed"}),
        ("failed, failed ,running", {"failed", "running"}),  # spaces and repeats are fine
        (",".join(STATUSES), set(STATUSES)),
    ],
)
def test_list_filter_status_list(api: ApiClient, seeded: list[Seeded], value: str, wanted: set[str]) -> None:
    body = get_ok(api, list_url(status=value))
    expected = newest_first([j for j in seeded if j.status in wanted])
    assert [item["id"] for item in body["jobs"]] == expected and body["total"] == len(expected)


@pytest.mark.parametrize("value", [*JOB_TYPES, "scan,move", "apply,transcode,prune"])
def test_list_filter_type(api: ApiClient, seeded: list[Seeded], value: str) -> None:
    wanted = set(value.split(","))
    body = get_ok(api, list_url(type=value))
    expected = newest_first([j for j in seeded if j.job_type in wanted])
    assert [item["id"] for item in body["jobs"]] == expected and body["total"] == len(expected)
    assert body["has_filters"] is True


@pytest.mark.parametrize("since, expected_count", [("24h", 4), ("7d", 24)])
def test_list_filter_since(api: ApiClient, seeded: list[Seeded], since: str, expected_count: int) -> None:
    hours = SINCE_WINDOWS[since] / 3600
    body = get_ok(api, list_url(since=since))
    expected = newest_first([j for j in seeded if j.age_hours < hours])
    assert len(expected) == expected_count
    assert [item["id"] for item in body["jobs"]] == expected and body["total"] == expected_count
    assert body["has_filters"] is True


def test_list_filters_combine(api: ApiClient, seeded: list[Seeded]) -> None:
    body = get_ok(api, list_url(status="running,failed,completed", type="scan,apply,move", since="7d"))
    expected = newest_first(
        [
            j
            for j in seeded
            if j.status in {"running", "failed", "completed"}
            and j.job_type in {"scan", "apply", "move"}
            and j.age_hours < 168
        ]
    )
    assert expected, "the seed must give this combination some jobs"
    assert [item["id"] for item in body["jobs"]] == expected and body["total"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [{}, {"status": "failed"}, {"status": "running"}, {"status": "running", "type": "scan"}, {"since": "24h"}],
)
def test_list_running_counts_every_running_job_whatever_the_view(
    api: ApiClient, seeded: list[Seeded], query: dict[str, str]
) -> None:
    body = get_ok(api, list_url(**query))
    assert body["running"] == sum(j.status == "running" for j in seeded) == 6


def test_list_filter_with_no_match(api: ApiClient, store: Any) -> None:
    store.create("/media/a", "scan")
    body = get_ok(api, list_url(status="failed"))
    assert body == {"jobs": [], "total": 0, "limit": 50, "offset": 0, "has_filters": True, "running": 0}


def test_list_empty_store(api: ApiClient) -> None:
    assert get_ok(api, "/api/jobs") == {
        "jobs": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "has_filters": False,
        "running": 0,
    }


_SORT_VALUE = {
    "created_at": lambda item: item["created_at"],
    "status": lambda item: item["status"],
    "job_type": lambda item: item["job_type"],
}


@pytest.mark.parametrize("sort", SORTS)
def test_list_sort(api: ApiClient, seeded: list[Seeded], sort: str) -> None:
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    body = get_ok(api, list_url(sort=sort, limit=100))
    assert body["total"] == 30 and len(body["jobs"]) == 30
    by_id = {j.id: j for j in seeded}
    values = [by_id[item["id"]].priority if key == "priority" else _SORT_VALUE[key](item) for item in body["jobs"]]
    assert values == sorted(values, reverse=descending), f"{sort}: {values}"
    # Ties are broken deterministically: pages of any size concatenate to the same order.
    full = [item["id"] for item in body["jobs"]]
    paged: list[str] = []
    for offset in range(0, 30, 7):
        page = get_ok(api, list_url(sort=sort, limit=7, offset=offset))
        assert page["total"] == 30 and page["offset"] == offset and page["limit"] == 7
        paged += [item["id"] for item in page["jobs"]]
    assert paged == full
    if key == "created_at":
        assert full == (newest_first(seeded) if descending else newest_first(seeded)[::-1])


def test_sort_values_are_the_documented_ones() -> None:
    assert set(SORTS) == {
        f"{sign}{key}" for key in ("created_at", "status", "job_type", "priority") for sign in ("", "-")
    }


def test_list_pagination(api: ApiClient, seeded: list[Seeded]) -> None:
    order = newest_first(seeded)
    seen: list[str] = []
    for offset in (0, 10, 20):
        body = get_ok(api, list_url(limit=10, offset=offset))
        assert (body["total"], body["limit"], body["offset"], body["has_filters"]) == (30, 10, offset, False)
        seen += [item["id"] for item in body["jobs"]]
    assert seen == order
    past = get_ok(api, list_url(limit=10, offset=30))
    assert past["jobs"] == [] and past["total"] == 30 and past["offset"] == 30
    tail = get_ok(api, list_url(limit=7, offset=28))
    assert [item["id"] for item in tail["jobs"]] == order[28:]


def test_list_pagination_with_filter(api: ApiClient, seeded: list[Seeded]) -> None:
    expected = newest_first([j for j in seeded if j.status in {"queued", "running"}])
    first = get_ok(api, list_url(status="queued,running", limit=5))
    second = get_ok(api, list_url(status="queued,running", limit=5, offset=5))
    third = get_ok(api, list_url(status="queued,running", limit=5, offset=10))
    got = [item["id"] for page in (first, second, third) for item in page["jobs"]]
    assert got == expected and first["total"] == second["total"] == len(expected) == 12


@pytest.mark.parametrize("limit, offset", [(1, 0), (LIMIT_MAX, 0), (1, OFFSET_MAX), ("007", "0000")])
def test_list_bounds_accepted(api: ApiClient, seeded: list[Seeded], limit: Any, offset: Any) -> None:
    body = get_ok(api, list_url(limit=limit, offset=offset))
    assert body["limit"] == int(limit) and body["offset"] == int(offset)
    assert len(body["jobs"]) == max(0, min(int(limit), 30 - int(offset)))


def test_list_empty_values_mean_not_given(api: ApiClient, seeded: list[Seeded]) -> None:
    # A form that submits status= (the "all" choice) shows everything with the defaults.
    body = get_ok(api, "/api/jobs?status=&type=&since=&sort=&limit=&offset=")
    assert body["total"] == 30 and body["limit"] == 50 and body["offset"] == 0
    assert body["has_filters"] is False
    assert [item["id"] for item in body["jobs"]] == newest_first(seeded)


# (raw query string, parameter the message must name, text naming what is allowed)
BAD_LIST_QUERIES: list[tuple[str, str, str]] = [
    ("limit=0", "limit", "1 to 100"),
    ("limit=101", "limit", "1 to 100"),
    ("limit=abc", "limit", "1 to 100"),
    ("limit=1.5", "limit", "1 to 100"),
    ("limit=-1", "limit", "1 to 100"),
    ("limit=+5", "limit", "1 to 100"),
    ("limit=%205", "limit", "1 to 100"),
    ("limit=1e2", "limit", "1 to 100"),
    ("limit=0x10", "limit", "1 to 100"),
    ("limit=%EF%BC%91%EF%BC%90", "limit", "1 to 100"),  # fullwidth "１０": int() would take it
    ("limit=" + "1" + "0" * 30, "limit", "1 to 100"),
    ("limit=9223372036854775808", "limit", "1 to 100"),
    ("limit=1%00", "limit", "1 to 100"),
    ("offset=-1", "offset", f"0 to {OFFSET_MAX}"),
    ("offset=abc", "offset", f"0 to {OFFSET_MAX}"),
    ("offset=1.0", "offset", f"0 to {OFFSET_MAX}"),
    (f"offset={OFFSET_MAX + 1}", "offset", f"0 to {OFFSET_MAX}"),
    ("offset=" + "1" + "0" * 30, "offset", f"0 to {OFFSET_MAX}"),
    ("since=3d", "since", "24h, 7d"),
    ("since=24H", "since", "24h, 7d"),
    ("since=1d", "since", "24h, 7d"),
    ("since=24h,7d", "since", "24h, 7d"),
    ("status=bogus", "status", "queued, running, completed, failed, cancelled"),
    ("status=FAILED", "status", "queued, running, completed, failed, cancelled"),
    ("status=failed,bogus", "status", "queued, running, completed, failed, cancelled"),
    ("status=failed,", "status", "queued, running, completed, failed, cancelled"),
    ("status=fail%00ed", "status", "queued, running, completed, failed, cancelled"),
    ("status=%C3%BCn%C3%AFc%C3%B8d%C3%A9", "status", "queued, running, completed, failed, cancelled"),
    ("status=%F0%9F%92%A5", "status", "queued, running, completed, failed, cancelled"),
    ("status=%FF%FE", "status", "queued, running, completed, failed, cancelled"),
    ("type=bogus", "type", "registered job type or one present in the store: scan"),
    ("type=Scan", "type", "job type names (1-40 characters"),
    ("type=scan;move", "type", "job type names (1-40 characters"),
    ("type=%E6%97%A5%E6%9C%AC", "type", "job type names (1-40 characters"),
    ("sort=bogus", "sort", "created_at, -created_at, status"),
    ("sort=--created_at", "sort", "created_at, -created_at"),
    ("sort=created_at,status", "sort", "created_at, -created_at"),
    ("sort=+priority", "sort", "priority, -priority"),
    ("sort=file_path", "sort", "job_type, -job_type"),
    ("foo=1", "foo", "status, type, since, sort, limit, offset"),
    ("Limit=10", "Limit", "status, type, since, sort, limit, offset"),
    ("status[]=failed", "status[]", "status, type, since, sort, limit, offset"),
    ("%00=1", "\\x00", "status, type, since, sort, limit, offset"),
    ("limit=1&limit=2", "limit", "once"),
    ("status=failed&status=running", "status", "once"),
    ("sort=status&sort=status", "sort", "once"),
]


@pytest.mark.parametrize("query, param, allowed", BAD_LIST_QUERIES, ids=[q[0][:40] for q in BAD_LIST_QUERIES])
def test_list_rejects_bad_parameters(api: ApiClient, query: str, param: str, allowed: str) -> None:
    message = error_of(api.raw(b"/api/jobs", query.encode()), 400)
    assert param in message, message
    assert allowed in message, message


def test_list_rejects_a_very_long_query_with_a_short_message(api: ApiClient) -> None:
    for query in ("status=" + "x" * 60_000, "x" * 60_000 + "=1", "type=" + "scan," * 15_000 + "bogus"):
        response = api.raw(b"/api/jobs", query.encode())
        message = error_of(response, 400)
        assert len(message) < 300, "the message must not echo the whole value"
    # Many valid repeats of one type collapse to one filter.
    assert get_ok(api, list_url(type=",".join(["scan"] * 5000)))["total"] == 0


def test_list_never_500_for_malformed_query_strings(api: ApiClient, store: Any) -> None:
    store.create("/media/a", "scan")
    weird = [
        b"",
        b"&",
        b"&&&",
        b"=",
        b"==",
        b"=1",
        b"limit",
        b"limit=",
        b"limit==5",
        b"%",
        b"%%",
        b"%zz=1",
        b"limit=%",
        b"limit=%2",
        b"status=%zz",
        b"\xff\xfe=\xff",
        b"status=\xc3\x28",
        b"limit=10&",
        b"&limit=10",
        b"limit=10;offset=5",
        b"limit=10#frag",
        b"limit[]=1",
        b"status=%00%00",
        b"sort=-",
        b"sort=",
        b"since=%2B24h",
        b"offset=1" + b"0" * 5000,
        b"a" * 30000,
        b"status=running" + b"&x=1" * 2000,
    ]
    rng = random.Random(1234)
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-_.,;=&%+ \x00\x7f\x80\xff"
    for _ in range(200):
        name = rng.choice([*LIST_PARAMS, "x"]).encode()
        value = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        weird.append(name + b"=" + value)
    for query in weird:
        response = api.raw(b"/api/jobs", query)
        assert response.status_code in (200, 400), (query[:80], response.status_code, response.content[:200])
        body = response.json()
        assert ("jobs" in body) if response.status_code == 200 else set(body) == {"error"}


# --------------------------------------------------------------------------- detail


def test_detail_of_a_completed_job_has_every_field(api: ApiClient, store: Any) -> None:
    job = store.create("/media/Films", "scan", priority=7, policy_name="nightly")
    claimed = store.claim(os.getpid(), ("scan",))
    assert claimed is not None and claimed["id"] == job["id"]
    assert store.progress(job["id"], 25, 100)
    log = store.open_log(job)
    log.write("found 100 media files")
    log.close()
    summary = {
        "files_found": 100,
        "files_scanned": 99,
        "errors": 1,
        "bytes": 5 * 1024**3,
        "containers": {"matroska": 60, "mp4": 39},
        "elapsed_seconds": 12.5,
    }
    assert store.finish(job["id"], "completed", summary=summary, output_path="/media/out/report.json")

    item = get_ok(api, f"/api/jobs/{job['id']}")
    assert set(item) == DETAIL_FIELDS
    row = store.get(job["id"])
    assert item["id"] == job["id"] and item["id_short"] == job["id"][:8]
    assert (item["job_type"], item["status"], item["file_path"]) == ("scan", "completed", "/media/Films")
    assert item["priority"] == 7 and item["policy_name"] == "nightly"
    assert item["progress_percent"] == 100.0  # a completed job is at 100 %
    assert item["created_at"] == row["created_at"] and item["started_at"] == row["started_at"]
    assert item["completed_at"] == row["completed_at"]
    started = datetime.fromisoformat(item["started_at"].replace("Z", "+00:00"))
    completed = datetime.fromisoformat(item["completed_at"].replace("Z", "+00:00"))
    assert item["duration_seconds"] == round((completed - started).total_seconds(), 3)
    assert item["error_message"] is None
    assert item["output_path"] == "/media/out/report.json"
    assert item["summary_raw"] == summary
    assert item["summary"] == summary_text("scan", summary)
    assert item["summary"].startswith("Scanned 99 of 100 files (5.0 GiB) in 12.5 s: 60 matroska, 39 mp4")
    assert item["has_logs"] is True


def test_detail_of_a_running_job(api: ApiClient, store: Any) -> None:
    job = store.create("/media/run", "transcode")
    store.claim(1234, ("transcode",))
    store.progress(job["id"], 1, 3)
    item = get_ok(api, f"/api/jobs/{job['id']}")
    assert item["status"] == "running" and item["started_at"] is not None
    assert (item["progress_percent"], item["processed_count"], item["total_count"]) == (33.33, 1, 3)
    assert item["completed_at"] is None and item["duration_seconds"] is None
    assert item["summary"] is None and item["summary_raw"] is None and item["has_logs"] is False
    stamp = store.get(job["id"])["progress_updated_at"]
    assert stamp is not None and item["progress_updated_at"] == stamp


def test_progress_updated_at_in_list_and_detail_answers(api: ApiClient, store: Any) -> None:
    """When a running job's progress last changed, the same in its list item and its
    detail: null before the first report, set by it, kept by a heartbeat or the same
    counts again (no progress), moved by a new count, null again once claimed anew."""

    def shown() -> tuple[Any, Any]:
        (listed,) = get_ok(api, "/api/jobs")["jobs"]
        return listed["progress_updated_at"], get_ok(api, f"/api/jobs/{job['id']}")["progress_updated_at"]

    job = store.create("/media/slow", "scan")
    store.claim(1234, ("scan",))
    assert shown() == (None, None)
    assert store.progress(job["id"], 1, 10)
    first = store.get(job["id"])["progress_updated_at"]
    assert first is not None and shown() == (first, first) and first.endswith("Z")
    set_columns(store, job["id"], progress_updated_at="2026-01-02T03:04:05+00:00")
    assert store.heartbeat(job["id"]) and store.progress(job["id"], 1, 10)
    assert shown() == ("2026-01-02T03:04:05.000Z", "2026-01-02T03:04:05.000Z")
    assert store.progress(job["id"], 2, 10)
    moved = shown()
    assert moved[0] == moved[1] and moved[0] not in (None, "2026-01-02T03:04:05.000Z")
    assert store.release(job["id"]) and store.claim(1234, ("scan",))
    assert shown() == (None, None)


def test_detail_of_a_failed_job(api: ApiClient, store: Any) -> None:
    job = store.create("/media/broken", "move")
    store.claim(1234, ("move",))
    store.finish(job["id"], "failed", error_message="target volume <b>full</b>\nretry later")
    item = get_ok(api, f"/api/jobs/{job['id']}")
    assert item["status"] == "failed"
    assert item["error_message"] == "target volume <b>full</b>\nretry later"  # data, kept as is
    assert item["duration_seconds"] is not None and item["duration_seconds"] >= 0
    assert item["summary"] is None and item["summary_raw"] is None


def test_detail_of_a_queued_job(api: ApiClient, store: Any) -> None:
    job = store.create("/media/<img src=x onerror=alert(1)>", "prune")
    item = get_ok(api, f"/api/jobs/{job['id']}")
    assert item["status"] == "queued" and item["file_path"] == "/media/<img src=x onerror=alert(1)>"
    assert item["priority"] == 100 and item["policy_name"] is None
    for name in (
        "started_at",
        "completed_at",
        "duration_seconds",
        "progress_updated_at",
        "processed_count",
        "total_count",
        "error_message",
        "output_path",
        "summary",
        "summary_raw",
    ):
        assert item[name] is None, name
    assert item["progress_percent"] == 0 and item["has_logs"] is False


def test_detail_of_cancelled_jobs(api: ApiClient, store: Any) -> None:
    queued = store.create("/media/q", "apply")
    assert store.cancel(queued["id"]) is not None
    item = get_ok(api, f"/api/jobs/{queued['id']}")
    assert item["status"] == "cancelled" and item["completed_at"] is not None
    assert item["started_at"] is None and item["duration_seconds"] is None
    running = store.create("/media/r", "apply")
    store.claim(1, ("apply",))
    store.cancel(running["id"])
    item = get_ok(api, f"/api/jobs/{running['id']}")
    assert item["status"] == "cancelled" and item["duration_seconds"] is not None


def test_detail_generic_summary_text(api: ApiClient, store: Any) -> None:
    job = store.create("/media/x", "process")
    store.claim(1, ("process",))
    store.finish(job["id"], "completed", summary={"items": 3, "note": "ok", "nested": {"a": 1}})
    item = get_ok(api, f"/api/jobs/{job['id']}")
    assert item["summary"] == "items: 3; note: ok"
    assert item["summary_raw"] == {"items": 3, "note": "ok", "nested": {"a": 1}}


def test_rows_from_another_writer_are_read(api: ApiClient, store: Any) -> None:
    """Rows the orchestrator wrote (``+00:00`` offsets, odd JSON) are listed and shown."""
    job_id = "5d0b1b5e-0000-4000-8000-000000000001"
    insert_row(
        store,
        {
            "id": job_id,
            "file_path": "/srv/media",
            "job_type": "scan",
            "status": "completed",
            "priority": 5,
            "created_at": "2020-01-02T03:04:05+00:00",
            "started_at": "2020-01-02T03:04:06.5+00:00",
            "completed_at": "2020-01-02T03:05:06.5Z",
            "progress_percent": 100,
            "progress_json": "not json",
            "summary_json": "[1, 2]",
        },
    )
    item = get_ok(api, f"/api/jobs/{job_id}")
    assert item["created_at"] == "2020-01-02T03:04:05.000Z"
    assert item["started_at"] == "2020-01-02T03:04:06.500Z"
    assert item["duration_seconds"] == 60.0
    assert item["processed_count"] is None and item["summary_raw"] is None and item["summary"] is None
    listed = get_ok(api, "/api/jobs")
    assert listed["total"] == 1 and listed["jobs"][0]["id"] == job_id
    assert get_ok(api, list_url(since="7d"))["total"] == 0


def test_detail_survives_non_finite_numbers_in_stored_json(api: ApiClient, store: Any, data_dir: Path) -> None:
    """Python's json.dumps writes NaN/Infinity by default: another writer may store them.

    The API must still answer (DESIGN: rows written by another process are as real as
    the store's own; never a 500) — with valid JSON, which has no NaN.
    """
    job = store.create("/media/nan", "scan")
    set_columns(
        store,
        job["id"],
        status="completed",
        summary_json='{"files_found": 1, "elapsed_seconds": NaN, "ratio": Infinity}',
    )
    response = api.get(f"/api/jobs/{job['id']}")
    assert response.status_code == 200, response.text
    json.loads(response.text, parse_constant=lambda c: pytest.fail(f"invalid JSON constant {c}"))


# --------------------------------------------------------------------------- ids

BAD_IDS = [
    "not-a-uuid",
    UNKNOWN_ID.upper(),
    UNKNOWN_ID.replace("-", ""),
    "{" + UNKNOWN_ID + "}",
    UNKNOWN_ID + "x",
    UNKNOWN_ID[:-1],
    "urn:uuid:" + UNKNOWN_ID,
    "..%2f..%2fetc%2fpasswd",
    "..%2F..%2F" + DB_FILENAME,
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2flogs",
    "..",
    UNKNOWN_ID + "%00",
    "%00",
    "%C3%A9t%C3%A9",
    "a" * 5000,
    "",
]


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=[b[:30] or "empty" for b in BAD_IDS])
@pytest.mark.parametrize("suffix", ["", "/logs"])
def test_non_uuid_ids_are_400(api: ApiClient, bad_id: str, suffix: str) -> None:
    response = api.raw(f"/api/jobs/{bad_id}{suffix}".encode())
    message = error_of(response, 400)
    assert "job id" in message and "UUID" in message, message
    assert len(message) < 300


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/api/jobs/../../etc/passwd",
        b"/api/jobs/../../etc/passwd/logs",
        b"/api/jobs/./../jobdash.db",
        b"/api/jobs/%2e%2e/%2e%2e/etc/passwd/logs",
    ],
)
def test_literal_dot_segments_never_reach_the_filesystem(api: ApiClient, raw_path: bytes) -> None:
    # As sent by `curl --path-as-is`: the server sees the dots; still a 400, in JSON.
    response = api.raw(raw_path)
    assert response.status_code in (400, 404), response.status_code
    assert_api_headers(response)
    assert "root:" not in response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("suffix", ["", "/logs"])
def test_unknown_uuid_is_404(api: ApiClient, store: Any, suffix: str) -> None:
    store.create("/media/other", "scan")
    message = error_of(api.get(f"/api/jobs/{UNKNOWN_ID}{suffix}"), 404)
    assert UNKNOWN_ID in message


def test_extra_path_after_a_job_is_rejected(api: ApiClient, store: Any) -> None:
    job = store.create("/media/a", "scan")
    error_of(api.get(f"/api/jobs/{job['id']}/logs/extra"), 400)
    error_of(api.get(f"/api/jobs/{job['id']}/other"), 400)


# --------------------------------------------------------------------------- logs


def test_logs_tail_by_default(api: ApiClient, store: Any) -> None:
    job = job_with_log(store, 250)
    body = get_ok(api, f"/api/jobs/{job['id']}/logs")
    assert set(body) == LOG_KEYS and body["job_id"] == job["id"]
    assert body["total_lines"] == 250 and body["offset"] == 50 and body["has_more"] is False
    assert [message_of(line) for line in body["lines"]] == [f"line {i}" for i in range(50, 250)]
    assert api_module.LOG_LINES_DEFAULT == 200


def test_logs_tail_with_lines(api: ApiClient, store: Any) -> None:
    job = job_with_log(store, 250)
    body = get_ok(api, f"/api/jobs/{job['id']}/logs?lines=10")
    assert (body["offset"], body["total_lines"], body["has_more"]) == (240, 250, False)
    assert [message_of(line) for line in body["lines"]] == [f"line {i}" for i in range(240, 250)]
    short = get_ok(api, f"/api/jobs/{job['id']}/logs?lines=1000")
    assert short["offset"] == 0 and len(short["lines"]) == 250 and short["has_more"] is False


@pytest.mark.parametrize(
    "offset, lines, first, count, has_more",
    [
        (0, 10, 0, 10, True),
        (245, 10, 245, 5, False),
        (240, 10, 240, 10, False),
        (100, None, 100, 150, False),
        (0, None, 0, 200, True),
        (250, 10, None, 0, False),
        (1000, 5, None, 0, False),
    ],
)
def test_logs_from_an_offset(
    api: ApiClient, store: Any, offset: int, lines: int | None, first: int | None, count: int, has_more: bool
) -> None:
    job = job_with_log(store, 250)
    query = f"offset={offset}" + (f"&lines={lines}" if lines is not None else "")
    body = get_ok(api, f"/api/jobs/{job['id']}/logs?{query}")
    assert body["offset"] == offset and body["total_lines"] == 250 and body["has_more"] is has_more
    assert len(body["lines"]) == count
    if count:
        assert [message_of(line) for line in body["lines"]] == [f"line {i}" for i in range(first, first + count)]


def test_logs_offset_returns_only_new_lines_after_a_tail_load(api: ApiClient, store: Any) -> None:
    job = job_with_log(store, 40)
    first = get_ok(api, f"/api/jobs/{job['id']}/logs?lines=5")
    held = first["offset"] + len(first["lines"])
    assert held == 40
    assert get_ok(api, f"/api/jobs/{job['id']}/logs?offset={held}")["lines"] == []
    log = store.open_log(job)
    for index in range(40, 43):
        log.write(f"line {index}")
    log.close()
    later = get_ok(api, f"/api/jobs/{job['id']}/logs?offset={held}")
    assert [message_of(line) for line in later["lines"]] == ["line 40", "line 41", "line 42"]
    assert later["offset"] == 40 and later["total_lines"] == 43 and later["has_more"] is False


def test_logs_page_through_everything(api: ApiClient, store: Any) -> None:
    job = job_with_log(store, 95)
    got: list[str] = []
    offset = 0
    while True:
        body = get_ok(api, f"/api/jobs/{job['id']}/logs?offset={offset}&lines=20")
        got += body["lines"]
        offset += len(body["lines"])
        if not body["has_more"]:
            break
    assert [message_of(line) for line in got] == [f"line {i}" for i in range(95)]


def test_logs_half_written_line_and_bad_bytes(api: ApiClient, store: Any, file_logs: None) -> None:
    job = store.create("/media/x", "scan")
    path = store.log_path(job)
    path.write_bytes(b"first \xff\xfe line\nsecond line\nthird, still being writ")
    body = get_ok(api, f"/api/jobs/{job['id']}/logs")
    assert body["lines"] == ["first \ufffd\ufffd line", "second line"] and body["total_lines"] == 2
    assert get_ok(api, f"/api/jobs/{job['id']}")["has_logs"] is True


def test_logs_of_a_job_without_a_log(api: ApiClient, store: Any) -> None:
    job = store.create("/media/x", "scan")
    assert get_ok(api, f"/api/jobs/{job['id']}/logs") == {
        "job_id": job["id"],
        "lines": [],
        "total_lines": 0,
        "offset": 0,
        "has_more": False,
    }
    assert get_ok(api, f"/api/jobs/{job['id']}/logs?offset=7")["offset"] == 7
    assert get_ok(api, f"/api/jobs/{job['id']}")["has_logs"] is False


def test_logs_at_a_stored_log_path(api: ApiClient, store: Any, data_dir: Path, tmp_path: Path, file_logs: None) -> None:
    """``log_path`` may be relative to the data directory or absolute."""
    (data_dir / "elsewhere").mkdir()
    (data_dir / "elsewhere" / "relative.log").write_text("relative 1\nrelative 2\n")
    absolute = tmp_path / "absolute.log"
    absolute.write_text("absolute 1\n")
    for job_id, log_path, expected in [
        ("5d0b1b5e-0000-4000-8000-0000000000a1", "elsewhere/relative.log", ["relative 1", "relative 2"]),
        ("5d0b1b5e-0000-4000-8000-0000000000a2", str(absolute), ["absolute 1"]),
    ]:
        insert_row(
            store,
            {
                "id": job_id,
                "file_path": "/m",
                "job_type": "move",
                "status": "running",
                "created_at": to_iso(datetime.now(UTC)),
                "log_path": log_path,
            },
        )
        assert get_ok(api, f"/api/jobs/{job_id}/logs")["lines"] == expected
        assert get_ok(api, f"/api/jobs/{job_id}")["has_logs"] is True


BAD_LOG_QUERIES = [
    ("offset=-1", "offset", "0 to"),
    ("offset=abc", "offset", "0 to"),
    ("offset=1.5", "offset", "0 to"),
    ("offset=" + "1" + "0" * 30, "offset", "0 to"),
    ("offset=1%00", "offset", "0 to"),
    ("lines=0", "lines", "1 to 1000"),
    ("lines=1001", "lines", "1 to 1000"),
    ("lines=abc", "lines", "1 to 1000"),
    ("lines=-5", "lines", "1 to 1000"),
    ("lines=" + "9" * 40, "lines", "1 to 1000"),
    ("offset=1&offset=2", "offset", "once"),
    ("lines=1&lines=1", "lines", "once"),
    ("tail=1", "tail", "offset, lines"),
    ("limit=10", "limit", "offset, lines"),
]


@pytest.mark.parametrize("query, param, allowed", BAD_LOG_QUERIES, ids=[q[0][:30] for q in BAD_LOG_QUERIES])
def test_logs_reject_bad_parameters(api: ApiClient, store: Any, query: str, param: str, allowed: str) -> None:
    job = job_with_log(store, 3)
    message = error_of(api.raw(f"/api/jobs/{job['id']}/logs".encode(), query.encode()), 400)
    assert param in message and allowed in message, message


def test_logs_accept_the_documented_maximum_offset(api: ApiClient, store: Any) -> None:
    """OpenAPI (and the message of the 400) say offset may be up to 10**12."""
    job = job_with_log(store, 3)
    assert api_module.LOG_OFFSET_MAX == 10**12
    body = get_ok(api, f"/api/jobs/{job['id']}/logs?offset={10**12}")
    assert body["lines"] == [] and body["offset"] == 10**12


def test_logs_empty_values_mean_not_given(api: ApiClient, store: Any) -> None:
    job = job_with_log(store, 3)
    body = get_ok(api, f"/api/jobs/{job['id']}/logs?offset=&lines=")
    assert body["offset"] == 0 and len(body["lines"]) == 3


# --------------------------------------------------------------------------- other endpoints


def test_polling_config_defaults(api: ApiClient) -> None:
    assert get_ok(api, "/api/config/polling") == {"interval_ms": 5000, "log_interval_ms": 15000, "enabled": True}


def test_polling_config_from_settings(data_dir: Path) -> None:
    with running_api(data_dir, polling=PollingConfig(3000, 9000, False)) as (_, client):
        assert get_ok(client, "/api/config/polling") == {"interval_ms": 3000, "log_interval_ms": 9000, "enabled": False}


def test_healthz(api: ApiClient, store: Any) -> None:
    first = get_ok(api, "/healthz")
    assert first["status"] == "ok" and isinstance(first["data_version"], int)
    assert first["held_polls"] == 0  # polls held now (none: see test_held_polls.py)
    store.create("/media/a", "scan")
    assert get_ok(api, "/healthz")["data_version"] > first["data_version"]


def test_openapi_is_served(api: ApiClient) -> None:
    assert get_ok(api, "/api/openapi.json") == json.loads(json.dumps(openapi_document()))


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/",
        "/api/nope",
        "/api/v2/jobs",
        "/api/config",
        "/api/config/other",
        "/api/openapi.yaml",
        "/api/%00",
        "/api/<script>",
    ],
)
def test_unknown_api_paths_are_json_404(api: ApiClient, path: str) -> None:
    message = error_of(api.raw(path.encode()), 404)
    assert "/api/jobs" in message, "the message lists the endpoints that exist"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/jobs",
        f"/api/jobs/{UNKNOWN_ID}",
        f"/api/jobs/{UNKNOWN_ID}/logs",
        "/api/config/polling",
        "/api/openapi.json",
        "/api/job-types",
        "/api/workers",
        "/healthz",
        "/api/nope",
    ],
)
def test_writes_are_json_405_with_allow(api: ApiClient, method: str, path: str) -> None:
    response = api.request(method, path, content=b"{}")
    message = error_of(response, 405)
    assert method in message and "GET" in message, message
    allow = {m.strip() for m in response.headers["allow"].split(",")}
    assert "GET" in allow and method not in allow


def test_head_is_a_get_without_body(api: ApiClient, store: Any) -> None:
    store.create("/media/a", "scan")
    get = api.get("/api/jobs")
    head = api.request("HEAD", "/api/jobs")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]


# --------------------------------------------------------------------------- shared contract


@pytest.fixture
def world(app: Any, store: Any, api: ApiClient) -> dict[str, Any]:
    job = job_with_log(store, 12)
    store.claim(99, ("scan",))
    store.progress(job["id"], 3, 12)
    return {"id": job["id"], "api": api, "app": app, "store": store}


# (case id, method, url with {id}, expected status)
CONTRACT_CASES: list[tuple[str, str, str, int]] = [
    ("list", "GET", "/api/jobs", 200),
    ("list-filtered", "GET", "/api/jobs?status=running&type=scan&since=24h&sort=-priority&limit=5", 200),
    ("list-empty-page", "GET", "/api/jobs?offset=100", 200),
    ("detail", "GET", "/api/jobs/{id}", 200),
    ("logs-tail", "GET", "/api/jobs/{id}/logs", 200),
    ("logs-offset", "GET", "/api/jobs/{id}/logs?offset=4&lines=3", 200),
    ("polling", "GET", "/api/config/polling", 200),
    ("job-types", "GET", "/api/job-types", 200),
    ("workers", "GET", "/api/workers", 200),
    ("openapi", "GET", "/api/openapi.json", 200),
    ("healthz", "GET", "/healthz", 200),
    ("list-bad-limit", "GET", "/api/jobs?limit=101", 400),
    ("list-unknown-param", "GET", "/api/jobs?foo=1", 400),
    ("detail-bad-id", "GET", "/api/jobs/not-a-uuid", 400),
    ("detail-traversal", "GET", "/api/jobs/..%2f..%2fetc%2fpasswd", 400),
    ("logs-bad-lines", "GET", "/api/jobs/{id}/logs?lines=0", 400),
    ("detail-unknown", "GET", f"/api/jobs/{UNKNOWN_ID}", 404),
    ("logs-unknown", "GET", f"/api/jobs/{UNKNOWN_ID}/logs", 404),
    ("unknown-path", "GET", "/api/nope", 404),
    ("post", "POST", "/api/jobs", 405),
    ("cancel-writes-off", "POST", "/api/jobs/{id}/cancel", 405),
    ("list-unknown-type", "GET", "/api/jobs?type=checksum", 400),
    ("delete", "DELETE", "/api/jobs/{id}", 405),
]


@pytest.mark.parametrize("case, method, url, status", CONTRACT_CASES, ids=[c[0] for c in CONTRACT_CASES])
def test_shared_response_contract(world: dict[str, Any], case: str, method: str, url: str, status: int) -> None:
    api: ApiClient = world["api"]
    url = url.replace("{id}", world["id"])
    response = api.request(method, url)
    assert_api_headers(response, status=status)
    body = response.json()
    if status != 200:
        assert set(body) == {"error"}
        # A cached tag does not turn an error into a 304.
        for tag in ('"anything"', "*"):
            again = api.request(method, url, headers={"If-None-Match": tag})
            assert again.status_code == status
        return
    etag = response.headers.get("etag")
    assert etag and re.fullmatch(r'(W/)?"[^"]+"', etag), etag
    # The same request gives the same tag; a matching If-None-Match gives an empty 304.
    assert api.get(url).headers["etag"] == etag
    bare = etag.removeprefix("W/")
    for header in (etag, bare, f"W/{bare}", f'"nope", {etag}', f'"a", W/{bare} , "b"', "*"):
        not_modified = api.get(url, headers={"If-None-Match": header})
        assert_api_headers(not_modified, status=304)
        assert not_modified.content == b"" and not_modified.headers["etag"] == etag, header
        assert "content-encoding" not in not_modified.headers
    for header in ('"nope"', 'W/"nope"', bare[:-2] + '"', ""):
        fresh = api.get(url, headers={"If-None-Match": header})
        assert fresh.status_code == 200 and fresh.json() == body, header


def test_etags_change_with_the_data_and_only_then(data_dir: Path, store_url: str | None) -> None:
    with running_api(data_dir, database_url=store_url) as (app, api):
        store = app.state.store
        job = store.create("/media/a", "scan")
        store.claim(99, ("scan",))
        urls = {
            "list": "/api/jobs",
            "filtered": "/api/jobs?status=running",
            "detail": f"/api/jobs/{job['id']}",
            "logs": f"/api/jobs/{job['id']}/logs",
        }

        def tags() -> dict[str, str]:
            return {name: api.get(url).headers["etag"] for name, url in urls.items()}

        def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
            return {name for name in urls if before[name] != after[name]}

        start = tags()
        assert tags() == start, "nothing changed, so no tag may change"
        store.heartbeat(job["id"])  # not shown by the API: no visible change
        assert tags() == start
        store.recover_stale(3600)  # a no-op write (nothing stale)
        assert tags() == start

        store.progress(job["id"], 1, 10)
        after_progress = tags()
        assert changed(start, after_progress) == {"list", "filtered", "detail"}
        stale = api.get(urls["detail"], headers={"If-None-Match": start["detail"]})
        assert stale.status_code == 200 and stale.json()["progress_percent"] == 10.0

        log = store.open_log(job)
        log.write("hello")
        after_log = tags()
        assert changed(after_progress, after_log) == {"detail", "logs"}  # has_logs, the line
        log.write("again")
        log.close()
        after_second_line = tags()
        assert changed(after_log, after_second_line) == {"logs"}

        other = store.create("/media/b", "apply")
        after_new = tags()
        assert changed(after_second_line, after_new) == {"list"}  # not running: not in "filtered"

        store.cancel(job["id"])
        after_cancel = tags()
        assert changed(after_new, after_cancel) == {"list", "filtered", "detail"}
        store.cancel(other["id"])
        assert changed(after_cancel, tags()) == {"list"}


def test_etags_are_the_same_from_every_api_instance(data_dir: Path, tmp_path: Path, store_url: str | None) -> None:
    """Several API replicas on one store answer the same ETag for the same data (on
    PostgreSQL, replicas with data directories of their own)."""
    with running_api(data_dir, database_url=store_url) as (app, first):
        job = job_with_log(app.state.store, 3)
        elsewhere = data_dir if store_url is None else tmp_path / "replica"
        elsewhere.mkdir(exist_ok=True)
        with running_api(elsewhere, database_url=store_url) as (_, second):
            for url in ("/api/jobs", f"/api/jobs/{job['id']}", f"/api/jobs/{job['id']}/logs", "/api/config/polling"):
                assert first.get(url).headers["etag"] == second.get(url).headers["etag"], url


def test_store_unavailable_is_503_with_retry_after(data_dir: Path) -> None:
    """The database file is gone (a data volume unmounted, say): 503, not 500; recovers.

    An EXCLUSIVE lock from another connection cannot stand in for this: in WAL mode the
    app's own connection holds a shared lock on the database for its whole life, so the
    lock cannot be taken while the app runs, and WAL readers never wait for writers.
    """
    with running_api(data_dir) as (app, api):
        job = app.state.store.create("/media/a", "scan")
        db = data_dir / DB_FILENAME
        moved = data_dir / "moved-away.db"
        os.rename(db, moved)
        try:
            for url in ("/api/jobs", f"/api/jobs/{job['id']}", f"/api/jobs/{job['id']}/logs", "/healthz"):
                response = api.get(url)
                assert_api_headers(response, status=503)
                assert response.headers["retry-after"].isdigit() and int(response.headers["retry-after"]) > 0
                message = response.json()["error"]
                assert "unavailable" in message, message
                assert "etag" not in response.headers
        finally:
            os.rename(moved, db)
        assert get_ok(api, "/api/jobs")["total"] == 1, "the API recovers without a restart"


def test_unexpected_errors_are_json_500_with_the_security_headers(data_dir: Path) -> None:
    async def boom(request: Any) -> Any:
        raise RuntimeError("secret internals")

    with running_api(data_dir) as (app, api):
        app.router.routes.insert(0, Route("/api/boom", boom))
        response = api.get("/api/boom")
        assert response.status_code == 500
        assert response.json() == {"error": "internal server error; see the server log"}
        assert "secret internals" not in response.text
        assert_api_headers(response)


def test_large_lists_are_gzipped_and_304s_are_not(api: ApiClient, store: Any, data_dir: Path) -> None:
    seed_jobs(store, data_dir, count=100)
    plain = api.get("/api/jobs?limit=100", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = api.get("/api/jobs?limit=100", headers={"Accept-Encoding": "gzip"})
    assert_api_headers(zipped, status=200)
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers.get("vary", "").lower()
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    assert zipped.json() == plain.json() and len(zipped.json()["jobs"]) == 100
    assert zipped.headers["etag"].removeprefix("W/") == plain.headers["etag"].removeprefix("W/")
    not_modified = api.get(
        "/api/jobs?limit=100", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    assert_api_headers(not_modified, status=304)
    assert "content-encoding" not in not_modified.headers and not_modified.content == b""
    small = api.get("/api/config/polling", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    raw = api.raw(b"/api/jobs", b"limit=100", headers=[(b"accept-encoding", b"gzip")])
    assert json.loads(gzip.decompress(raw.content)) == plain.json()


def test_cors_only_for_configured_origins(data_dir: Path) -> None:
    with running_api(data_dir, cors_origins=("https://dash.example.com",)) as (_, api):
        allowed = api.get("/api/jobs", headers={"Origin": "https://dash.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example.com"
        assert "etag" in allowed.headers["access-control-expose-headers"].lower()
        assert "origin" in allowed.headers.get("vary", "").lower()
        other = api.get("/api/jobs", headers={"Origin": "https://evil.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
        preflight = api.request(
            "OPTIONS",
            "/api/jobs",
            headers={
                "Origin": "https://dash.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://dash.example.com"
        assert "if-none-match" in preflight.headers["access-control-allow-headers"].lower()
        denied = api.request(
            "OPTIONS",
            "/api/jobs",
            headers={"Origin": "https://dash.example.com", "Access-Control-Request-Method": "DELETE"},
        )
        assert denied.status_code == 400
    with running_api(data_dir) as (_, api):
        response = api.get("/api/jobs", headers={"Origin": "https://dash.example.com"})
        assert "access-control-allow-origin" not in response.headers


# --------------------------------------------------------------------------- OpenAPI


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(json.dumps(openapi_document()))


def _route_template(path: str) -> str:
    return re.sub(r"\{([^}:]+)(:[^}]+)?\}", "{}", path)


def test_openapi_structure(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    for path, item in document["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            assert method in {"get", "head", "post", "put", "delete", "patch", "options"}
            assert operation["operationId"] and operation["responses"]
            if method == "get":
                assert "200" in operation["responses"] and "304" in operation["responses"], path
            else:  # writes: a success, and the answers of a server whose writes are off or locked
                assert {"401", "405"} <= set(operation["responses"]), path
                assert any(status.startswith("2") for status in operation["responses"]), path
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status) and response["description"]
            templated = set(re.findall(r"\{([^}]+)\}", path))
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert templated == declared, path
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"query", "path", "header"}
                assert parameter["required"] is (parameter["in"] == "path")
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_openapi_every_ref_resolves(document: dict[str, Any]) -> None:
    refs = list(schema_check.iter_refs(document))
    assert refs
    for where, ref in refs:
        try:
            target = schema_check.resolve(document, ref)
        except KeyError:
            pytest.fail(f"{where}: $ref {ref} does not resolve")
        assert isinstance(target, dict), where
    used = {ref.rsplit("/", 1)[1] for _, ref in refs}
    assert used == set(document["components"]["schemas"]), "every component schema is used"


def test_openapi_uses_only_keywords_the_checker_knows(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        assert schema_check.keywords_used(schema) <= schema_check.SUPPORTED, name


def test_openapi_paths_match_the_app(app: Any, document: dict[str, Any]) -> None:
    served = {
        (_route_template(route.path), method.lower())
        for route in app.routes
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD" and route.endpoint is not api_module.api_not_found
    }
    documented = {(_route_template(path), method) for path, item in document["paths"].items() for method in item}
    assert served == documented


def _query_params(document: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    parameters = document["paths"][path]["get"].get("parameters", [])
    return {p["name"]: p for p in parameters if p["in"] == "query"}


def test_openapi_list_parameters_match_the_api(api: ApiClient, document: dict[str, Any]) -> None:
    params = _query_params(document, "/api/jobs")
    assert set(params) == set(LIST_PARAMS)
    assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["maximum"] == LIMIT_MAX
    assert params["limit"]["schema"]["default"] == LIMIT_DEFAULT
    assert params["offset"]["schema"]["maximum"] == OFFSET_MAX
    assert set(params["sort"]["schema"]["enum"]) == set(SORTS)
    assert set(params["since"]["schema"]["enum"]) == set(SINCE_WINDOWS)
    for status in STATUSES:
        assert status in params["status"]["description"]
    for job_type in JOB_TYPES:
        assert job_type in params["type"]["description"]
    # Each documented parameter is accepted with a valid value; anything else is a 400.
    valid = {"status": "failed", "type": "scan", "since": "7d", "sort": "priority", "limit": "3", "offset": "1"}
    for name in params:
        get_ok(api, list_url(**{name: valid[name]}))
    for name in ("page", "order", "q", "id", "search"):
        error_of(api.get(list_url(**{name: "1"})), 400)


def test_openapi_log_parameters_match_the_api(api: ApiClient, store: Any, document: dict[str, Any]) -> None:
    params = _query_params(document, "/api/jobs/{id}/logs")
    assert set(params) == {"offset", "lines"}
    assert params["lines"]["schema"]["maximum"] == api_module.LOG_LINES_MAX
    assert params["lines"]["schema"]["default"] == api_module.LOG_LINES_DEFAULT
    assert params["offset"]["schema"]["maximum"] == api_module.LOG_OFFSET_MAX
    job = job_with_log(store, 3)
    for name in params:
        get_ok(api, f"/api/jobs/{job['id']}/logs?{name}=1")
    for name in ("limit", "since", "tail", "follow"):
        error_of(api.get(f"/api/jobs/{job['id']}/logs?{name}=1"), 400)
    for path, url in (
        ("/api/jobs/{id}", f"/api/jobs/{job['id']}"),
        ("/api/config/polling", "/api/config/polling"),
        ("/api/openapi.json", "/api/openapi.json"),
    ):
        assert _query_params(document, path) == {}
        error_of(api.get(url + "?x=1"), 400)


# (case id, url with {id}, documented path, expected status)
SCHEMA_CASES: list[tuple[str, str, str, int]] = [
    ("list", "/api/jobs?limit=100", "/api/jobs", 200),
    ("list-filtered", "/api/jobs?status=running,completed&type=scan", "/api/jobs", 200),
    ("list-400", "/api/jobs?limit=0", "/api/jobs", 400),
    ("detail-completed", "/api/jobs/{completed}", "/api/jobs/{id}", 200),
    ("detail-running", "/api/jobs/{running}", "/api/jobs/{id}", 200),
    ("detail-queued", "/api/jobs/{queued}", "/api/jobs/{id}", 200),
    ("detail-failed", "/api/jobs/{failed}", "/api/jobs/{id}", 200),
    ("detail-400", "/api/jobs/nope", "/api/jobs/{id}", 400),
    ("detail-400-param", "/api/jobs/{queued}?x=1", "/api/jobs/{id}", 400),
    ("detail-404", f"/api/jobs/{UNKNOWN_ID}", "/api/jobs/{id}", 404),
    ("logs", "/api/jobs/{completed}/logs", "/api/jobs/{id}/logs", 200),
    ("logs-empty", "/api/jobs/{queued}/logs?offset=3", "/api/jobs/{id}/logs", 200),
    ("logs-400", "/api/jobs/{completed}/logs?lines=0", "/api/jobs/{id}/logs", 400),
    ("logs-404", f"/api/jobs/{UNKNOWN_ID}/logs", "/api/jobs/{id}/logs", 404),
    ("polling", "/api/config/polling", "/api/config/polling", 200),
    ("polling-400", "/api/config/polling?x=1", "/api/config/polling", 400),
    ("openapi", "/api/openapi.json", "/api/openapi.json", 200),
    ("openapi-400", "/api/openapi.json?x=1", "/api/openapi.json", 400),
    ("healthz", "/healthz", "/healthz", 200),
]


@pytest.fixture
def schema_world(store: Any, data_dir: Path) -> dict[str, str]:
    completed = job_with_log(store, 4, priority=0)
    store.claim(1, ("scan",))
    store.progress(completed["id"], 4, 4)
    store.finish(
        completed["id"],
        "completed",
        summary={
            "files_found": 4,
            "files_scanned": 4,
            "errors": 0,
            "bytes": 10,
            "containers": {"mp4": 4},
            "elapsed_seconds": 0.1,
        },
    )
    running = store.create("/media/r", "scan", priority=0)
    store.claim(1, ("scan",))
    store.progress(running["id"], 1, 3)
    failed = store.create("/media/f", "scan", priority=0)
    store.claim(1, ("scan",))
    store.finish(failed["id"], "failed", error_message="boom")
    queued = store.create("/media/q", "apply", policy_name="p")
    seed_jobs(store, data_dir)  # after the claims above, which take the next queued job
    return {"completed": completed["id"], "running": running["id"], "failed": failed["id"], "queued": queued["id"]}


@pytest.mark.parametrize("case, url, path, status", SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_responses_match_the_documented_schemas(
    api: ApiClient, document: dict[str, Any], schema_world: dict[str, str], case: str, url: str, path: str, status: int
) -> None:
    for name, job_id in schema_world.items():
        url = url.replace("{" + name + "}", job_id)
    response = api.get(url)
    assert response.status_code == status, response.text[:300]
    responses = document["paths"][path]["get"]["responses"]
    assert str(status) in responses, f"{path} answers {status} but the document does not list it"
    documented = responses[str(status)]
    schema = documented["content"]["application/json"]["schema"]
    schema_check.validate(response.json(), schema, document)
    for header, spec in documented.get("headers", {}).items():
        if spec.get("required", True):  # present on every such answer
            assert header.lower() in response.headers, header
    not_modified = api.get(url, headers={"If-None-Match": response.headers.get("etag", '"none"')})
    if status == 200:
        assert not_modified.status_code == 304 and "304" in responses


def test_schema_checker_catches_mismatches(document: dict[str, Any]) -> None:
    ref = {"$ref": "#/components/schemas/JobLogs"}
    good = {"job_id": UNKNOWN_ID, "lines": ["a"], "total_lines": 1, "offset": 0, "has_more": False}
    schema_check.validate(good, ref, document)
    for bad in (
        {**good, "lines": [1]},
        {**good, "total_lines": -1},
        {**good, "has_more": 0},
        {**good, "offset": True},
        {key: value for key, value in good.items() if key != "job_id"},
        {**good, "job_id": "nope"},
    ):
        assert schema_check.errors(bad, ref, document), bad
    item = {"$ref": "#/components/schemas/JobDetailItem"}
    assert any("not one of" in e for e in schema_check.errors({"status": "weird"}, item, document))
    with pytest.raises(schema_check.UnsupportedKeyword):
        schema_check.errors(1, {"oneOf": []}, document)
