"""The API over a VPO library database (`serve --vpo-db`): every fixture job, live
changes, and writes refused saying whose store it is."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.apiclient import ApiClient, assert_api_headers, running_api
from support.cli import jobdash
from support.contract import DETAIL_FIELDS
from support.served_app import served_app
from support.vpo import FIXTURE, copy_fixture

RUNNING_TRANSCODE = "1b6f405b-c429-4e7a-a128-9a73d3efd33e"
TOKEN = "vpo-api-token-0123456789abcdef"

pytestmark = pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"the VPO fixture is not at {FIXTURE}")


@pytest.fixture(autouse=True)
def look_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store looks whether VPO started or stopped at most every 0.1 s; these tests
    act faster than that, so it looks on every call here."""
    from jobdash.store.vpo import connection

    monkeypatch.setattr(connection, "LOOK_EVERY_S", 0.0)


@pytest.fixture
def vpo(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path / "vpo")


@pytest.fixture
def served(vpo: Path, tmp_path: Path) -> Iterator[tuple[Any, ApiClient]]:
    with running_api(tmp_path, vpo_db=vpo / "library.db", api_tokens=(TOKEN,)) as pair:
        yield pair


def test_every_job_lists_and_opens_with_its_log(served: tuple[Any, ApiClient]) -> None:
    _, api = served
    body = api.get("/api/jobs?limit=100").json()
    assert body["total"] == 15
    for item in body["jobs"]:
        detail = api.get(f"/api/jobs/{item['id']}")
        assert_api_headers(detail, status=200)
        assert set(detail.json()) == DETAIL_FIELDS and detail.json()["created_at"].endswith("Z")
        # VPO does not record when progress last changed: not known, in both answers.
        assert item["progress_updated_at"] is None and detail.json()["progress_updated_at"] is None
        logs = api.get(f"/api/jobs/{item['id']}/logs").json()
        assert logs["total_lines"] == len(logs["lines"]) and (logs["total_lines"] > 0) is detail.json()["has_logs"]
    running = api.get(f"/api/jobs/{RUNNING_TRANSCODE}").json()
    assert (running["processed_count"], running["total_count"], running["progress_unit"]) == (42, 100, "seconds")
    assert api.get("/api/jobs?status=running&type=transcode").json()["total"] == 1


def test_job_types_and_workers_say_vpo_runs_its_own(served: tuple[Any, ApiClient]) -> None:
    _, api = served
    types = api.get("/api/job-types").json()
    assert types["workers_known"] is False
    assert {"apply", "move", "process", "prune", "scan", "transcode"} <= {t["name"] for t in types["job_types"]}
    assert api.get("/api/workers").json() == {"workers": [], "alive": 0, "workers_known": False}


def test_writes_are_refused_saying_the_store_is_vpos(served: tuple[Any, ApiClient]) -> None:
    """Even with a valid token: 405 naming VPO, and nothing changes."""
    app, api = served
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for url in ("/api/jobs", f"/api/jobs/{RUNNING_TRANSCODE}/cancel"):
        response = api.request("POST", url, content=b'{"type": "scan", "target": "/"}', headers=headers)
        assert_api_headers(response, status=405)
        assert "VPO library database read-only" in response.json()["error"]
    assert api.get(f"/api/jobs/{RUNNING_TRANSCODE}").json()["status"] == "running"


def test_vpos_commits_reach_the_api_and_304s_hold_between_them(served: tuple[Any, ApiClient], vpo: Path) -> None:
    _, api = served
    first = api.get("/api/jobs")
    unchanged = api.get("/api/jobs", headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304
    conn = sqlite3.connect(vpo / "library.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "UPDATE jobs SET progress_percent = 60.0, progress_json = '{\"out_time_seconds\": 60.0}' WHERE id = ?",
            (RUNNING_TRANSCODE,),
        )
        changed = api.get("/api/jobs", headers={"If-None-Match": first.headers["etag"]})
        assert changed.status_code == 200
        item = next(j for j in changed.json()["jobs"] if j["id"] == RUNNING_TRANSCODE)
        assert (item["processed_count"], item["total_count"], item["progress_percent"]) == (60, 100, 60.0)
        conn.execute("DELETE FROM jobs WHERE id = ?", (RUNNING_TRANSCODE,))
        assert api.get(f"/api/jobs/{RUNNING_TRANSCODE}").status_code == 404
    finally:
        conn.close()


def test_jobs_command_reads_a_vpo_database(vpo: Path, tmp_path: Path) -> None:
    result = jobdash("jobs", "--vpo-db", vpo / "library.db", "--data-dir", tmp_path / "unused")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 16 and "0:42/1:40 42%" in result.stdout and "4/4 100%" in result.stdout
    assert result.stderr == "", "no 'waiting for a worker' notes for VPO's jobs"
    bad = jobdash("jobs", "--vpo-db", vpo / "logs" / "vpo.log")
    assert bad.returncode == 1 and "is not a SQLite database" in bad.stderr


def test_a_vpo_commit_ends_a_held_poll(vpo: Path, tmp_path: Path) -> None:
    """Held polls over VPO's database: the change watcher sees VPO's own commits."""
    with served_app(tmp_path, vpo_db=vpo / "library.db") as app:
        url = app.url(f"/api/jobs/{RUNNING_TRANSCODE}")
        etag = httpx.get(url).headers["etag"]

        def vpo_commits() -> None:
            conn = sqlite3.connect(vpo / "library.db", isolation_level=None)
            try:
                conn.execute(
                    "UPDATE jobs SET progress_percent = 70.0, progress_json = '{\"out_time_seconds\": 70.0}' "
                    "WHERE id = ?",
                    (RUNNING_TRANSCODE,),
                )
            finally:
                conn.close()

        threading.Timer(0.5, vpo_commits).start()
        held = httpx.get(url, headers={"If-None-Match": etag, "Prefer": "wait=20"}, timeout=30)
    assert held.status_code == 200 and held.headers["preference-applied"] == "wait=20"
    assert held.json()["progress_percent"] == 70.0
