"""JSON responses of the API: one body encoding, ETag/304, one error shape.

Every response under ``/api/`` carries ``Content-Type: application/json`` and
``Cache-Control: no-cache`` (clients must revalidate, and may, with ``If-None-Match``).
Errors are ``{"error": "<what is wrong, naming the parameter and what is allowed>"}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response

JSON_TYPE = "application/json"
NO_CACHE = "no-cache"
RETRY_AFTER_S = 5


def encode(data: Any) -> bytes:
    """Given JSON-able data, return compact UTF-8 JSON bytes (stable key order).

    >>> encode({"b": 1, "a": "é"})
    b'{"b":1,"a":"\\xc3\\xa9"}'
    """
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def etag_of(body: bytes) -> str:
    """Given a response body, return its strong ETag (quoted)."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Given an ``If-None-Match`` header, return True if it matches ``etag`` (weakly).

    >>> etag_matches('W/"abc", "def"', '"abc"'), etag_matches('*', '"x"'), etag_matches(None, '"x"')
    (True, True, False)
    """
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def api_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the headers every API response carries, plus ``extra``."""
    return {"Cache-Control": NO_CACHE, **(extra or {})}


def json_response(request_headers: Headers, data: Any, status_code: int = 200) -> Response:
    """Given request headers and data, return a JSON response with an ETag, or a 304.

    The 304 has no body and repeats the ETag, as RFC 9110 asks.
    """
    body = encode(data)
    etag = etag_of(body)
    headers = api_headers({"ETag": etag})
    if status_code == 200 and etag_matches(request_headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, headers=headers, media_type=JSON_TYPE)


def cached_response(request_headers: Headers, entry: Any) -> Response:
    """Given request headers and a kept answer (body + ETag), return it or a 304."""
    headers = api_headers({"ETag": entry.etag})
    if etag_matches(request_headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, headers=headers, media_type=JSON_TYPE)


def error_response(status_code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Given a status and a message, return the API's one error shape."""
    return Response(
        encode({"error": message}),
        status_code=status_code,
        headers=api_headers(headers),
        media_type=JSON_TYPE,
    )


def unavailable_response(message: str) -> Response:
    """Return a 503 for an unavailable store, with ``Retry-After`` so clients back off."""
    return error_response(503, message, {"Retry-After": str(RETRY_AFTER_S)})
