"""Held polls on the PostgreSQL store with two API replicas: a write by any host ends
the holds on every replica (each replica's change watcher hears it by LISTEN/NOTIFY)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from jobdash.store.factory import open_store
from support.served_app import ServedApp, served_app


def _held(served: ServedApp, path: str, wait: int = 20) -> httpx.Response:
    etag = httpx.get(served.url(path)).headers["etag"]
    return httpx.get(served.url(path), headers={"If-None-Match": etag, "Prefer": f"wait={wait}"}, timeout=wait + 10)


def test_a_write_by_another_host_ends_the_holds_on_every_replica(tmp_path: Path, database_url: str) -> None:
    writer = open_store(tmp_path, database_url=database_url)
    job = writer.create("/media/a", "scan")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        with (
            served_app(tmp_path / "a", database_url=database_url) as replica_a,
            served_app(tmp_path / "b", database_url=database_url) as replica_b,
            ThreadPoolExecutor(3) as pool,
        ):
            held = [
                pool.submit(_held, replica_a, "/api/jobs"),
                pool.submit(_held, replica_b, f"/api/jobs/{job['id']}"),
                pool.submit(_held, replica_b, f"/api/jobs/{job['id']}/logs?offset=0"),
            ]

            def change() -> None:
                writer.cancel(job["id"])
                with writer.open_log(job) as log:
                    log.write("a line")

            threading.Timer(1.0, change).start()
            answers = [future.result(timeout=30) for future in held]
    finally:
        writer.close()
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json()["jobs"][0]["status"] == "cancelled"
    assert answers[1].json()["status"] == "cancelled"
    assert answers[2].json()["lines"][0].endswith("a line")
