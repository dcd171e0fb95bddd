"""``GET /api/job-types`` and ``GET /api/workers``: what can run, and who runs it.

Both answers come from small tables (the workers registry, the per-type counts) and
depend on the clock (a worker whose heartbeat is too old is gone), so they are computed
per request — a few rows — and revalidated by the ETag of their body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from jobdash.http.request_parts import query_params
from jobdash.http.responses import json_body, json_response
from jobdash.http.settings import ServerSettings
from jobdash.model.items import worker_item
from jobdash.store.interface import JobStore


def live_workers(store: JobStore, settings: ServerSettings) -> list[dict[str, Any]]:
    """Return the WorkerItems of every registered worker (alive and gone)."""
    now = datetime.now(UTC)
    return [worker_item(row, now=now, stale_after_s=settings.stale_after) for row in store.workers()]


def known_job_types(store: JobStore, settings: ServerSettings) -> list[dict[str, Any]]:
    """Return the job types known anywhere: installed where the server runs, run by a
    registered worker, or present in the store; each with how many live workers run it."""
    workers = live_workers(store, settings)
    running: dict[str, int] = {}
    for worker in workers:
        for name in worker["types"]:
            running.setdefault(name, 0)
            if worker["state"] == "alive":
                running[name] += 1
    names = sorted(set(settings.job_types) | set(running) | set(store.job_types()))
    items = []
    for name in names:
        info = settings.job_types.get(name)
        items.append(
            {
                "name": name,
                "description": info.description if info else "",
                "target": info.target if info else None,
                "workers": running.get(name, 0),
            }
        )
    return items


def type_names(store: JobStore, settings: ServerSettings) -> set[str]:
    """Return the names of every known job type (see :func:`known_job_types`)."""
    return {item["name"] for item in known_job_types(store, settings)}


async def job_types(request: Request) -> Response:
    """``GET /api/job-types``: every known job type and how many live workers run it."""
    query_params(request, ())
    store, settings = request.app.state.store, request.app.state.settings
    items = await to_thread.run_sync(known_job_types, store, settings)
    # Another program's store (VPO) runs its jobs with workers that do not register here.
    body = {"job_types": items, "workers_known": not store.read_only}
    return json_response(request.headers, json_body(body))


async def workers(request: Request) -> Response:
    """``GET /api/workers``: the workers registry, alive ones and recently gone ones."""
    query_params(request, ())
    store, settings = request.app.state.store, request.app.state.settings
    items = await to_thread.run_sync(live_workers, store, settings)
    alive = sum(1 for item in items if item["state"] == "alive")
    body = {"workers": items, "alive": alive, "workers_known": not store.read_only}
    return json_response(request.headers, json_body(body))
