"""Serving dist/ (backend/jobdash/http/static.py through create_app): hashed assets cached forever,
pages and manifest.json revalidated, ETag 304s, precompressed gzip."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.build import build
from jobdash.http.responses import accepts_gzip
from jobdash.http.static import IMMUTABLE, cache_control
from support.apiclient import running_api
from support.frontend_tree import make_frontend

IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("static")
    return build(make_frontend(root / "frontend"), root / "dist").out


@pytest.fixture
def client(dist: Path, tmp_path: Path) -> Iterator[Any]:
    with running_api(tmp_path, dist=dist) as (_, api):
        yield api


def hashed(dist: Path, logical: str) -> str:
    return "/" + json.loads((dist / "manifest.json").read_text())[logical]


def test_a_hashed_asset_is_cached_forever(client: Any, dist: Path) -> None:
    path = hashed(dist, "js/pages/index.js")
    response = client.get(path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert response.content == (dist / path.lstrip("/")).read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/index.html", "/job.html", "/manifest.json"])
def test_pages_and_the_manifest_are_revalidated(client: Any, path: str) -> None:
    response = client.get(path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"] and response.headers["last-modified"]


def test_slash_serves_index_html(client: Any, dist: Path) -> None:
    response = client.get("/", headers=IDENTITY)
    assert response.content == (dist / "index.html").read_bytes()
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"], "the header adds what <meta> cannot"


@pytest.mark.parametrize("logical", [None, "css/app.css"])
def test_if_none_match_gives_304_with_the_caching_headers(client: Any, dist: Path, logical: str | None) -> None:
    path = "/index.html" if logical is None else hashed(dist, logical)
    for encoding in ("identity", "gzip"):
        first = client.get(path, headers={"Accept-Encoding": encoding})
        again = client.get(path, headers={"Accept-Encoding": encoding, "If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["cache-control"] == first.headers["cache-control"]
        assert again.headers["vary"] == "Accept-Encoding"


def test_if_modified_since_gives_304(client: Any) -> None:
    first = client.get("/job.html", headers=IDENTITY)
    again = client.get("/job.html", headers={**IDENTITY, "If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 304


def test_gzip_clients_get_the_precompressed_copy(client: Any, dist: Path) -> None:
    path = hashed(dist, "css/app.css")
    plain = client.get(path, headers=IDENTITY)
    # httpx would decode the body: ask through the raw ASGI interface instead.
    zipped = client.raw(path.encode(), headers=[(b"accept-encoding", b"gzip, deflate, br")])
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == (dist / (path.lstrip("/") + ".gz")).read_bytes()
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped.headers["content-type"] == plain.headers["content-type"] == "text/css; charset=utf-8"
    assert zipped.headers["content-length"] == str(len(zipped.content))
    assert zipped.headers["etag"] != plain.headers["etag"], "each variant has its own validator"
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers
    assert zipped.headers["cache-control"] == IMMUTABLE


def test_a_binary_asset_without_a_gz_copy_is_served_as_is(tmp_path: Path) -> None:
    frontend = make_frontend(tmp_path / "frontend")
    (frontend / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    dist = build(frontend, tmp_path / "dist").out
    with running_api(tmp_path, dist=dist) as (_, api):
        path = hashed(dist, "img/dot.png")
        response = api.raw(path.encode(), headers=[(b"accept-encoding", b"gzip")])
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers.get("content-encoding") is None


def test_missing_files_are_not_cached(client: Any) -> None:
    response = client.get("/assets/js/nope.0123456789ab.js")
    assert response.status_code == 404
    assert response.headers.get("cache-control") != IMMUTABLE


def test_head_and_the_api_still_work(client: Any, dist: Path) -> None:
    head = client.request("HEAD", hashed(dist, "js/format.js"), headers=IDENTITY)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["cache-control"] == IMMUTABLE
    api = client.get("/api/jobs")
    assert api.status_code == 200 and api.json()["jobs"] == []
    assert api.headers["cache-control"] == "no-cache"


def test_static_files_are_read_only(client: Any) -> None:
    assert client.request("POST", "/index.html").status_code == 405


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("assets/js/polling.0123456789ab.js", 200, IMMUTABLE),
        ("assets/js/polling.0123456789ab.js.gz", 200, IMMUTABLE),
        ("assets/css/app.0123456789ab.css", 304, IMMUTABLE),
        ("assets/js/polling.js", 200, "no-cache"),  # no hash in the name: may change
        ("assets/js/polling.0123456789ab.js", 404, "no-cache"),
        ("index.html", 200, "no-cache"),
        ("manifest.json", 200, "no-cache"),
        (".", 200, "no-cache"),
        ("js/polling.0123456789ab.js", 200, "no-cache"),  # not under assets/
    ],
)
def test_cache_control(path: str, status: int, expected: str) -> None:
    assert cache_control(path, status) == expected


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("*", True),
        ("GZIP", True),
        ("gzip;q=x", False),
    ],
)
def test_accepts_gzip(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_a_page_edited_after_the_build_is_served_not_its_old_gz(tmp_path: Path) -> None:
    """A hand-edited page wins over the stale .gz copy the build wrote beside it."""
    dist = build(make_frontend(tmp_path / "frontend"), tmp_path / "dist").out
    page = dist / "index.html"
    page.write_text(page.read_text().replace('data-debug="false"', 'data-debug="true"'))
    stale = page.stat().st_mtime - 10
    os.utime(dist / "index.html.gz", (stale, stale))
    with running_api(tmp_path, dist=dist) as (_, api):
        response = api.raw(b"/index.html", headers=[(b"accept-encoding", b"gzip")])
    assert response.status_code == 200
    body = response.content
    if response.headers.get("content-encoding") == "gzip":  # compressed on the fly, fresh
        body = gzip.decompress(body)
    assert b'data-debug="true"' in body
