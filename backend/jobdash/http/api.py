"""The JSON API endpoints (read-only). Blocking store and file work runs in a thread.

Errors are raised as :class:`ApiError` / :class:`ParamError` / ``StoreUnavailable``
and turned into the one JSON error shape by the app's exception handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from jobdash.http.catalog import type_names
from jobdash.http.openapi import openapi_document
from jobdash.http.read_cache import CachedRead, ReadCache
from jobdash.http.request_parts import ApiError, not_found, query_params
from jobdash.http.request_parts import job_id as path_job_id
from jobdash.http.responses import JsonBody, json_body, json_response
from jobdash.model.items import detail_item, list_item
from jobdash.model.list_query import (
    ListQuery,
    check_known_types,
    parse_int,
    parse_list_query,
    shown,
    single,
)
from jobdash.store.interface import JobStore

OPENAPI_BODY = json_body(openapi_document())

LOG_LINES_DEFAULT, LOG_LINES_MAX = 200, 1000
# How long an answer that also depends on the clock or on files may be reused.
CLOCK_BOUND_TTL_S = 1.0
LOG_OFFSET_MAX = 10**12


def _store(request: Request) -> JobStore:
    return request.app.state.store


def _cache(request: Request) -> ReadCache:
    return request.app.state.read_cache


def _answer(request: Request, key: tuple[str, Any], entry: CachedRead) -> Response:
    """Respond with a kept answer, and let the revalidation fast path find it next time
    by the request's raw path and query."""
    assert entry.answer is not None
    _cache(request).alias((request.scope["path"], request.scope["query_string"]), key)
    return json_response(request.headers, entry.answer)


#: Every running job, whatever a view shows: the list answer's ``running`` (the pages'
#: tab title counts them without a request of its own).
RUNNING = ListQuery(statuses=("running",), limit=1)


def _list_page(store: JobStore, query: ListQuery) -> tuple[int, dict[str, Any]]:
    version, rows, total = store.list_snapshot(query)
    # Computed on a cache miss only; any write bumps the version, so it is as fresh as
    # the page it comes with.
    same = query.statuses == RUNNING.statuses and not query.types and not query.since
    running = total if same else store.list(RUNNING)[1]
    return version, {
        "jobs": [list_item(row) for row in rows],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "has_filters": query.has_filters,
        "running": running,
    }


def _list_ttl(query: ListQuery) -> Callable[[Any], float | None]:
    # A time window also moves with the clock: jobs age out of "since=24h" with no write.
    return lambda data: CLOCK_BOUND_TTL_S if query.since else None


async def list_jobs(request: Request) -> Response:
    """``GET /api/jobs``: one page of jobs, newest first unless ``sort`` says otherwise."""
    query = parse_list_query(query_params(request, ("status", "type", "since", "sort", "limit", "offset")))
    store, settings = _store(request), request.app.state.settings

    def compute() -> tuple[int, dict[str, Any]]:
        # Checked on a cache miss only: a kept answer's types were known when it was made,
        # so repeated filtered polls cost what unfiltered ones do.
        if query.types:
            check_known_types("type", query.types, type_names(store, settings))
        return _list_page(store, query)

    entry = await _cache(request).get(("list", query), compute, _list_ttl(query))
    return _answer(request, ("list", query), entry)


def _detail(store: JobStore, job_id: str) -> tuple[int, dict[str, Any] | None]:
    version, job = store.get_snapshot(job_id)
    if job is None:
        return version, None
    return version, detail_item(job, has_logs=store.has_log(job))


def _detail_ttl(item: dict[str, Any] | None) -> float | None:
    # has_logs comes from the file system, not the table: a running job's first log line
    # may land after its last write, so until it has one, its answer is not kept.
    if item is not None and item["status"] == "running" and not item["has_logs"]:
        return 0.0
    return None


async def get_job(request: Request) -> Response:
    """``GET /api/jobs/{id}``: every field of one job."""
    query_params(request, ())
    job_id = path_job_id(request)
    store = _store(request)
    entry = await _cache(request).get(("job", job_id), lambda: _detail(store, job_id), _detail_ttl)
    if entry.answer is None:
        raise not_found(job_id)
    return _answer(request, ("job", job_id), entry)


def _logs(store: JobStore, job_id: str, offset: int | None, lines: int) -> JsonBody | None:
    job = store.get(job_id)
    if job is None:
        return None
    part = store.read_log(job, offset, lines)
    return json_body(
        {
            "job_id": job_id,
            "lines": part.lines,
            "total_lines": part.total_lines,
            "offset": part.offset,
            "has_more": part.has_more,
        }
    )


async def get_job_logs(request: Request) -> Response:
    """``GET /api/jobs/{id}/logs?offset=&lines=``: log lines from an absolute offset.

    Without ``offset`` it returns the last ``lines`` lines (the tail).
    """
    params = query_params(request, ("offset", "lines"))
    job_id = path_job_id(request)
    offset_text, lines_text = single(params, "offset"), single(params, "lines")
    offset = parse_int("offset", offset_text, 0, LOG_OFFSET_MAX) if offset_text else None
    lines = parse_int("lines", lines_text, 1, LOG_LINES_MAX) if lines_text else LOG_LINES_DEFAULT
    body = await to_thread.run_sync(_logs, _store(request), job_id, offset, lines)
    if body is None:
        raise not_found(job_id)
    return json_response(request.headers, body)


async def polling_config(request: Request) -> Response:
    """``GET /api/config/polling``: the server's polling settings (fixed at start-up)."""
    query_params(request, ())
    return json_response(request.headers, request.app.state.polling_body)


async def openapi(request: Request) -> Response:
    """``GET /api/openapi.json``: the OpenAPI 3.1 document of this API."""
    query_params(request, ())
    return json_response(request.headers, OPENAPI_BODY)


async def healthz(request: Request) -> Response:
    """``GET /healthz``: 200 when the store answers, 503 otherwise; with the data version
    and how many polls this process holds now."""
    version = await to_thread.run_sync(_store(request).version)
    held = request.app.state.changes.holding
    return json_response(request.headers, json_body({"status": "ok", "data_version": version, "held_polls": held}))


async def api_not_found(request: Request) -> Response:
    """Any other path under ``/api/``: a JSON 404 that lists what exists."""
    raise ApiError(
        404,
        f"no API endpoint at {shown(request.url.path, 80)}; endpoints: /api/jobs, "
        "/api/jobs/{id}, /api/jobs/{id}/logs, /api/config/polling, /api/openapi.json",
    )
