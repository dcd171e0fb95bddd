"""The revalidation fast path: a poll whose ETag still matches gets its 304 at once.

Most polls of a dashboard ask "anything new?" and the answer is no. When a request
carries ``If-None-Match`` and its exact path and query were answered before with an
answer that is still current (the data version has not moved), this middleware answers
304 before routing, parameter parsing or any endpoint runs. Anything else — a first
request, changed data, a cross-origin request (CORS headers belong to the full path) —
goes through the application as usual, which then registers its answer here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from jobdash.http.read_cache import ReadCache
from jobdash.http.responses import NO_CACHE, etag_matches
from jobdash.http.security import API_HEADERS


class RevalidationFastPath:
    """Answers a matching conditional GET of a kept answer with a bare 304."""

    def __init__(self, app: ASGIApp, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache
        self._headers = [(b"cache-control", NO_CACHE.encode()), *API_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            if_none_match = None
            for name, value in scope["headers"]:
                if name == b"if-none-match":
                    if_none_match = value
                elif name == b"origin":
                    if_none_match = None
                    break
            if if_none_match is not None:
                entry = self.cache.peek((scope["path"], scope["query_string"]))
                answer = entry.answer if entry is not None else None
                if answer is not None and etag_matches(if_none_match.decode("latin-1"), answer.etag):
                    headers = [*self._headers, (b"etag", answer.etag.encode("latin-1"))]
                    if answer.gzipped is not None:
                        headers.append((b"vary", b"Accept-Encoding"))
                    await send({"type": "http.response.start", "status": 304, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
        await self.app(scope, receive, send)
