"""JSON responses of the API: one body encoding, ETag/304, one error shape.

Every response under ``/api/`` carries ``Content-Type: application/json`` and
``Cache-Control: no-cache`` (clients must revalidate, and may, with ``If-None-Match``).
Errors are ``{"error": "<what is wrong, naming the parameter and what is allowed>"}``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response

JSON_TYPE = "application/json"
# Below about a kilobyte gzip saves less than its own headers and CPU cost.
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
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


def accepts_gzip(accept_encoding: str) -> bool:
    """Given an Accept-Encoding header, return True if it accepts gzip.

    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("gzip;q=0, br"), accepts_gzip("*")
    (True, False, True)
    """
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=").strip() if params else "1"
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False


def api_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the headers every API response carries, plus ``extra``."""
    return {"Cache-Control": NO_CACHE, **(extra or {})}


@dataclass(frozen=True)
class JsonBody:
    """A response body prepared once: the JSON bytes, their ETag, and a gzip copy when
    the body is large enough to be worth compressing (compressed once, not per response)."""

    body: bytes
    etag: str
    gzipped: bytes | None = None


def json_body(data: Any) -> JsonBody:
    """Given JSON-able data, return its prepared body.

    >>> json_body({"a": 1}).body, json_body({"a": 1}).gzipped
    (b'{"a":1}', None)
    """
    body = encode(data)
    gzipped = gzip.compress(body, GZIP_LEVEL, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return JsonBody(body, etag_of(body), gzipped)


def json_response(request_headers: Headers, prepared: JsonBody) -> Response:
    """Given request headers and a prepared body, return a 200 — gzip-encoded when the
    client accepts it and a compressed copy exists — or a 304 when the ETag matches.

    The 304 has no body and repeats the ETag, as RFC 9110 asks.
    """
    headers = api_headers({"ETag": prepared.etag})
    if etag_matches(request_headers.get("if-none-match"), prepared.etag):
        return Response(status_code=304, headers=headers)
    if prepared.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request_headers.get("accept-encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return Response(prepared.gzipped, headers=headers, media_type=JSON_TYPE)
    return Response(prepared.body, headers=headers, media_type=JSON_TYPE)


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
