"""The read cache (jobdash.http.read_cache): answers kept while the data version holds,
computed once for everyone, and identical to computing them afresh."""

from __future__ import annotations

import itertools
import random
import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest

from jobdash.http.api import _detail, _list_page
from jobdash.http.read_cache import ReadCache
from jobdash.http.responses import encode
from jobdash.model.list_query import SORTS, ListQuery
from jobdash.store.interface import StoreUnavailable
from support.apiclient import running_api
from support.sqlhelpers import other_writer


def run(main: Any) -> None:
    """Run an async function to completion on an event loop in its own thread (the
    browser tests' Playwright keeps an event loop in the main thread)."""
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(main)


class Source:
    """A fake data source: a version the test moves, and a counted computation."""

    def __init__(self) -> None:
        self.version = 1
        self.computed = 0
        self.busy = False
        self.gate: threading.Event | None = None

    def current_version(self) -> int:
        if self.busy:
            raise StoreUnavailable("locked")
        return self.version

    def compute(self) -> tuple[int, Any]:
        if self.gate is not None:
            self.gate.wait(5)
        self.computed += 1
        return self.version, {"n": self.version}


def test_an_unchanged_version_reuses_the_answer_without_computing() -> None:
    source = Source()
    cache = ReadCache(source.current_version)

    async def main() -> None:
        first = await cache.get("k", source.compute)
        for _ in range(100):
            assert await cache.get("k", source.compute) is first
        assert source.computed == 1 and cache.hits == 100
        source.version = 2
        second = await cache.get("k", source.compute)
        assert second.answer.body == b'{"n":2}' and second.answer.etag != first.answer.etag
        assert source.computed == 2

    run(main)


def test_concurrent_misses_for_one_key_share_one_computation() -> None:
    source = Source()
    source.gate = threading.Event()
    cache = ReadCache(source.current_version)
    results: list[Any] = []

    async def ask() -> None:
        results.append(await cache.get("k", source.compute))

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            for _ in range(20):
                tasks.start_soon(ask)
            await anyio.sleep(0.05)
            source.gate.set()  # type: ignore[union-attr]

    run(main)
    assert source.computed == 1
    assert len(results) == 20 and all(r is results[0] for r in results)


def test_a_busy_store_means_recompute_never_a_stale_answer() -> None:
    source = Source()
    cache = ReadCache(source.current_version)

    async def main() -> None:
        await cache.get("k", source.compute)
        source.busy = True
        await cache.get("k", source.compute)
        assert source.computed == 2

    run(main)


def test_a_time_to_live_bounds_answers_that_depend_on_the_clock() -> None:
    source = Source()
    now = [100.0]
    cache = ReadCache(source.current_version, clock=lambda: now[0])

    async def main() -> None:
        await cache.get("k", source.compute, lambda data: 1.0)
        now[0] += 0.5
        await cache.get("k", source.compute, lambda data: 1.0)
        assert source.computed == 1
        now[0] += 0.6
        await cache.get("k", source.compute, lambda data: 1.0)
        assert source.computed == 2

    run(main)


def test_least_recently_used_answers_are_dropped_beyond_the_limit() -> None:
    source = Source()
    cache = ReadCache(source.current_version, max_entries=2)

    async def main() -> None:
        for key in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" arrives
            await cache.get(key, source.compute)
        computed = source.computed
        await cache.get("a", source.compute)
        await cache.get("c", source.compute)
        assert source.computed == computed
        await cache.get("b", source.compute)
        assert source.computed == computed + 1

    run(main)


def test_answers_through_the_cache_equal_answers_computed_afresh(tmp_path: Path) -> None:
    """After each of many random writes (the store's and another process's), every list
    page and detail the API returns is byte-identical to computing it directly."""
    rng = random.Random(11)
    queries = [
        ListQuery(statuses=statuses, sort=sort, limit=limit, offset=offset)
        for statuses, sort, limit, offset in itertools.product(
            [(), ("running",), ("queued", "failed")], SORTS[:4], [1, 50], [0, 3]
        )
    ]
    with running_api(tmp_path) as (app, api):
        store = app.state.store
        ids = [store.create(f"/m/{i}", "scan")["id"] for i in range(12)]
        for step in range(15):
            action = rng.choice(["create", "claim", "progress", "cancel", "raw"])
            if action == "create":
                ids.append(store.create(f"/m/new{step}", "scan")["id"])
            elif action == "claim":
                store.claim(1, ("scan",))
            elif action == "progress":
                for job_id in ids:
                    store.progress(job_id, step, 20)
            elif action == "cancel":
                store.cancel(rng.choice(ids))
            else:
                with other_writer(store) as conn:
                    conn.execute("UPDATE jobs SET priority = ? WHERE id = ?", (step, rng.choice(ids)))
            for query in queries:
                params = {"sort": query.sort, "limit": query.limit, "offset": query.offset}
                if query.statuses:
                    params["status"] = ",".join(query.statuses)
                response = api.get("/api/jobs", params=params)
                assert response.content == encode(_list_page(store, query)[1]), (step, query)
            for job_id in ids[:4]:
                response = api.get(f"/api/jobs/{job_id}")
                assert response.content == encode(_detail(store, job_id)[1])


@pytest.mark.parametrize("path", ["/api/jobs", "/api/jobs?status=running", "detail"])
def test_an_unchanged_poll_runs_no_query(tmp_path: Path, path: str) -> None:
    """A revalidation with nothing changed is a 304 that never reaches the jobs query."""
    with running_api(tmp_path) as (app, api):
        store = app.state.store
        job = store.create("/m", "scan")
        url = f"/api/jobs/{job['id']}" if path == "detail" else path
        etag = api.get(url).headers["etag"]
        calls = {"list": 0, "get": 0}
        real_list, real_get = store.list_snapshot, store.get_snapshot

        def counted_list(*args: Any, **kwargs: Any) -> Any:
            calls["list"] += 1
            return real_list(*args, **kwargs)

        def counted_get(*args: Any, **kwargs: Any) -> Any:
            calls["get"] += 1
            return real_get(*args, **kwargs)

        store.list_snapshot, store.get_snapshot = counted_list, counted_get
        for _ in range(50):
            response = api.get(url, headers={"If-None-Match": etag})
            assert response.status_code == 304 and response.content == b""
        assert calls == {"list": 0, "get": 0}
        store.progress(job["id"], 1, 2) if store.claim(1, ("scan",)) else None
        assert api.get(url, headers={"If-None-Match": etag}).status_code == 200
        # A changed list also counts the running jobs (its `running`), unless it lists them.
        assert calls["list"] + calls["get"] == (2 if path == "/api/jobs" else 1)
