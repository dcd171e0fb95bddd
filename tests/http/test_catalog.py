"""GET /api/job-types and GET /api/workers: what can run, and who runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.apiclient import ApiClient, assert_api_headers, running_api
from support.contract import WORKER_FIELDS
from support.sqlhelpers import other_writer

STALE_AFTER = 30.0


@pytest.fixture
def served(tmp_path: Path, store_url: str | None) -> Iterator[tuple[Any, ApiClient]]:
    with running_api(tmp_path, stale_after=STALE_AFTER, database_url=store_url) as pair:
        yield pair


def types_of(api: ApiClient) -> dict[str, dict[str, Any]]:
    response = api.get("/api/job-types")
    assert_api_headers(response, status=200)
    return {item["name"]: item for item in response.json()["job_types"]}


def test_job_types_lists_installed_worker_and_stored_types(served: tuple[Any, ApiClient]) -> None:
    """Installed types (with their declarations), types of registered workers and types
    present in the store, each with how many live workers run it."""
    app, api = served
    store = app.state.store
    assert types_of(api)["scan"] == {
        "name": "scan",
        "description": "Walk a folder: identify each media file's container and fingerprint it",
        "target": "directory",
        "workers": 0,
    }
    store.register_worker("nas", 7, ("scan", "checksum"))
    store.create("/m", "legacy")
    types = types_of(api)
    assert {"scan", "checksum", "legacy"} <= set(types)
    assert (types["scan"]["workers"], types["checksum"]["workers"], types["legacy"]["workers"]) == (1, 1, 0)
    assert types["checksum"]["target"] is None and types["legacy"]["description"] == ""
    assert list(types) == sorted(types)


def test_workers_alive_then_running_then_gone(served: tuple[Any, ApiClient], tmp_path: Path) -> None:
    """A worker shows alive with what it runs; stopped or stale, it shows gone."""
    app, api = served
    store = app.state.store
    assert api.get("/api/workers").json() == {"workers": [], "alive": 0, "workers_known": True}
    job = store.create("/media/<b>", "scan")
    first = store.register_worker("nas", 7, ("scan",))
    second = store.register_worker("farm-1", 8, ("transcode",))
    store.worker_heartbeat(first, job["id"])
    body = api.get("/api/workers").json()
    assert body["alive"] == 2
    by_id = {item["id"]: item for item in body["workers"]}
    assert set(by_id[first]) == WORKER_FIELDS
    assert by_id[first]["current_job"] == {"id": job["id"], "job_type": "scan", "file_path": "/media/<b>"}
    assert (by_id[first]["host"], by_id[first]["pid"], by_id[first]["types"]) == ("nas", 7, ["scan"])
    assert by_id[second]["current_job"] is None and by_id[second]["stopped_at"] is None
    store.worker_stopped(second)
    with other_writer(store) as conn:  # first's heartbeat ages past --stale-after
        conn.execute("UPDATE workers SET heartbeat_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (first,))
    body = api.get("/api/workers").json()
    assert body["alive"] == 0
    by_id = {item["id"]: item for item in body["workers"]}
    assert by_id[first]["state"] == by_id[second]["state"] == "gone"
    assert by_id[first]["current_job"] is None and by_id[second]["stopped_at"] is not None
    assert types_of(api)["scan"]["workers"] == 0


@pytest.mark.parametrize("url", ["/api/job-types", "/api/workers"])
def test_unchanged_answers_are_304(served: tuple[Any, ApiClient], url: str) -> None:
    """Polls of an unchanged registry are bodiless 304s; a change gives a new ETag."""
    app, api = served
    first = api.get(url)
    again = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert_api_headers(again, status=304)
    app.state.store.register_worker("nas", 7, ("checksum",))
    changed = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert "unknown parameter" in api.get(url + "?x=1").json()["error"]
