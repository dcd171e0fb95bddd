"""Security headers on every response (pure ASGI middleware: no body buffering)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    # Frame denial must be a header: a <meta> cannot forbid framing.
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
# JSON is never a document: forbid everything. Pages carry their own CSP <meta>
# (written by the build); the header adds what a <meta> cannot express.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"


def raw_headers(pairs: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    """Given header pairs, return them as ASGI raw headers (lower-case names).

    >>> raw_headers((("X-Frame-Options", "DENY"),))
    [(b'x-frame-options', b'DENY')]
    """
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


API_HEADERS = raw_headers((*COMMON_HEADERS, ("Content-Security-Policy", API_CSP)))
PAGE_HEADERS = raw_headers((*COMMON_HEADERS, ("Content-Security-Policy", PAGE_CSP)))


def is_api_path(path: str) -> bool:
    """Given a request path, return True if it belongs to the JSON API.

    >>> is_api_path("/api/jobs"), is_api_path("/healthz"), is_api_path("/index.html")
    (True, True, False)
    """
    return path == "/api" or path.startswith("/api/") or path == "/healthz"


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = API_HEADERS if is_api_path(scope["path"]) else PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw list edits: this runs on every response, polls included.
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
