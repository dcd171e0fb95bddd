"""Helpers shared by the API tests: an in-process client, raw ASGI requests, seeding.

The client talks to the ASGI app through ``httpx.ASGITransport`` on an event loop
running in a blocking portal, so tests are plain sync functions with one loop each.
``create_app`` opens the store at construction, so no lifespan is needed.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx

from jobdash.http.app import create_app
from jobdash.http.settings import ServerSettings
from jobdash.worker.registry import load_job_types

# Headers every response under /api/ (and /healthz) carries, errors and 304s included.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


@dataclass
class RawResponse:
    """A response collected straight from the ASGI app (no client-side URL handling)."""

    status_code: int
    headers: httpx.Headers
    content: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class ApiClient:
    """A synchronous facade over ``httpx.AsyncClient`` + ``ASGITransport``.

    >>> with ApiClient(app) as api:          # doctest: +SKIP
    ...     api.get("/api/jobs").json()
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._stack = ExitStack()
        self._portal: Any = None
        self._client: httpx.AsyncClient | None = None

    def __enter__(self) -> ApiClient:
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal("asyncio"))
        # raise_app_exceptions=False: an unhandled error comes back as the app's 500.
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://test")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._client is not None
        self._portal.call(self._client.aclose)
        self._stack.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        assert self._client is not None, "use ApiClient as a context manager"
        return self._portal.call(functools.partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def raw(
        self,
        raw_path: bytes,
        query: bytes = b"",
        *,
        method: str = "GET",
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> RawResponse:
        """Send exactly these path and query bytes (no normalisation, no re-encoding)."""
        return self._portal.call(functools.partial(_asgi_request, self.app, method, raw_path, query, headers))


async def _asgi_request(
    app: Any, method: str, raw_path: bytes, query: bytes, headers: Sequence[tuple[bytes, bytes]]
) -> RawResponse:
    # As uvicorn does: the path is the percent-decoded raw path.
    path = urllib.parse.unquote(raw_path.decode("latin-1"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    sent = False
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    try:
        await app(scope, receive, send)
    except Exception:  # the app re-raises after sending its 500; keep the response
        pass
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    headers_out = httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]])
    return RawResponse(start["status"], headers_out, body)


def make_app(data_dir: Path, **settings: Any) -> Any:
    """Given a data directory, return the app without a worker (the store is opened),
    knowing the job types installed here, as `jobdash serve` does."""
    settings.setdefault("job_types", load_job_types().infos)
    return create_app(ServerSettings(data_dir=data_dir, **settings))


@contextmanager
def running_api(data_dir: Path, **settings: Any) -> Iterator[tuple[Any, ApiClient]]:
    """Yield (app, client) for a fresh app on ``data_dir``; close its store afterwards."""
    app = make_app(data_dir, **settings)
    try:
        with ApiClient(app) as client:
            yield app, client
    finally:
        app.state.store.close()


def assert_api_headers(response: Any, *, status: int | None = None) -> None:
    """Assert the headers every JSON API response carries (a 304 has no Content-Type)."""
    if status is not None:
        assert response.status_code == status, (response.status_code, _text(response))
    headers = response.headers
    assert headers.get("cache-control") == "no-cache", dict(headers)
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, dict(headers))
    assert headers.get("referrer-policy"), dict(headers)
    csp = headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp
    if response.status_code == 304:
        assert response.content == b""
    else:
        assert headers.get("content-type", "").split(";")[0] == "application/json", dict(headers)


def _text(response: Any) -> str:
    return response.content[:300].decode("utf-8", "replace")
