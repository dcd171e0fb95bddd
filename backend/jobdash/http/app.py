"""The Starlette application: JSON API, optional static frontend, companion supervision.

``create_app(settings)`` fails loudly at start-up for bad configuration (a data
directory that cannot be used, a ``dist`` that is missing) rather than at the first
request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import anyio
from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount

from jobdash.http.catalog import live_workers
from jobdash.http.change_signal import ChangeSignal
from jobdash.http.held_polls import HeldPolls
from jobdash.http.read_cache import ReadCache
from jobdash.http.request_parts import ApiError
from jobdash.http.responses import error_response, json_body, unavailable_response
from jobdash.http.revalidation import RevalidationFastPath
from jobdash.http.routes import routes as api_routes
from jobdash.http.security import API_CSP, COMMON_HEADERS, SecurityHeadersMiddleware, is_api_path
from jobdash.http.settings import ServerSettings
from jobdash.http.static import DistFiles
from jobdash.model.list_query import ParamError
from jobdash.model.staleness import recovery_interval
from jobdash.store.factory import open_store
from jobdash.store.interface import JobStore, StoreUnavailable
from jobdash.store.recovery import recover_and_log

log = logging.getLogger("jobdash.server")


class Companion(Protocol):
    """A process the server keeps running beside it, such as the worker child.

    ``start()`` is idempotent and starts it again if it died; ``stop()`` ends it.
    """

    def start(self) -> None: ...

    def stop(self) -> None: ...


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.message, exc.headers)


async def _param_error(request: Request, exc: Exception) -> Response:
    return error_response(400, str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    return unavailable_response(str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "GET, HEAD")
        message = f"method {request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    if is_api_path(request.url.path):
        return error_response(exc.status_code, message, exc.headers)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    # Starlette answers 500s outside the user middleware: add the security headers here.
    return error_response(
        500,
        "internal server error; see the server log",
        {**dict(COMMON_HEADERS), "Content-Security-Policy": API_CSP},
    )


def _supervise(store: JobStore, settings: ServerSettings, worker: Companion | None):
    """Return the periodic task: fail abandoned jobs and keep the companion alive."""

    async def run() -> None:
        while True:
            try:
                await to_thread.run_sync(recover_and_log, store, settings.stale_after)
            except StoreUnavailable as error:
                log.warning("stale-job check skipped: %s", error)
            if worker is not None:
                worker.start()  # restarts a companion that died
            await anyio.sleep(recovery_interval(settings.stale_after))

    return run


def create_app(settings: ServerSettings, *, worker: Companion | None = None) -> Starlette:
    """Given settings, return the ASGI app: the API, static ``dist`` if any, and a
    companion process (the worker child) started with it and stopped at shutdown."""
    if settings.dist is not None and not (settings.dist / "index.html").is_file():
        raise RuntimeError(
            f"frontend directory {settings.dist} has no index.html; run `python build.py` "
            "first, or start without --dist to serve the API only"
        )
    store = open_store(
        settings.data_dir,
        database_url=settings.database_url,
        log_lines_cap=settings.log_lines_cap,
        vpo_db=settings.vpo_db,
        vpo_data_dir=settings.vpo_data_dir,
    )

    changes = ChangeSignal(store, lambda: live_workers(store, settings))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_supervise(store, settings, worker))
                tasks.start_soon(changes.run)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            changes.release()
            # Shielded: shutdown must stop the worker (it returns its job to the queue)
            # even when the surrounding scope is being cancelled.
            with anyio.CancelScope(shield=True):
                if worker is not None:
                    await to_thread.run_sync(worker.stop)
                store.close()

    routes = list(api_routes)
    if settings.dist is not None:
        # Hashed assets cached forever, pages revalidated; see backend/jobdash/http/static.py.
        routes.append(Mount("/", app=DistFiles(settings.dist), name="dist"))

    read_cache = ReadCache(store.version_now)
    middleware = [
        # Outermost: a held poll's every re-run takes the revalidation fast path.
        Middleware(HeldPolls, signal=changes, max_wait_s=settings.max_wait),
        Middleware(RevalidationFastPath, cache=read_cache),
        Middleware(SecurityHeadersMiddleware),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                # POST only matters with API tokens; without them writes are 405 anyway.
                allow_methods=["GET", "HEAD", "POST"],
                allow_headers=["If-None-Match", "Prefer", "Authorization", "Content-Type", "Idempotency-Key"],
                expose_headers=["ETag", "Retry-After", "Location", "Idempotent-Replayed", "Preference-Applied"],
                max_age=600,
            )
        )

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            ApiError: _api_error,
            ParamError: _param_error,
            StoreUnavailable: _unavailable,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.read_cache = read_cache
    app.state.changes = changes
    app.state.polling = settings.polling
    app.state.polling_body = json_body(settings.polling.as_api())
    app.state.settings = settings
    app.state.worker = worker
    return app
