"""Serving the built frontend (dist/): caching by file kind, precompressed gzip.

Files under ``assets/`` whose names carry a content hash never change, so they are
cached for a year as ``immutable``; everything else (pages, manifest.json) is
``no-cache``: always revalidated, which Starlette's ETag / Last-Modified make cheap
(304). A client that accepts gzip gets the build's ``.gz`` copy as is, with
``Content-Encoding: gzip``, instead of compressing on every request.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from jobdash.http.responses import accepts_gzip

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ASSETS_DIR = "assets"
# A name carrying a content hash ("polling.3ffb7ab1409f.js", also its ".gz"). Kept
# independent of the build's exact hash length so the server never imports the build.
HASHED_NAME = re.compile(r"\.[0-9a-f]{8,64}(?:\.[^./]+)?(?:\.gz)?$")


def cache_control(path: str, status_code: int) -> str:
    """Given a path relative to dist/ and the response status, return its Cache-Control.

    >>> cache_control("assets/js/polling.0123456789ab.js", 200), cache_control("index.html", 200)
    ('public, max-age=31536000, immutable', 'no-cache')
    """
    parts = path.replace(os.sep, "/").split("/")
    hashed = parts[0] == ASSETS_DIR and len(parts) > 1 and HASHED_NAME.search(parts[-1])
    return IMMUTABLE if hashed and status_code in (200, 206, 304) else REVALIDATE


class DistFiles(StaticFiles):
    """StaticFiles over dist/ (``index.html`` for "/") with the caching rules above."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        super().__init__(directory=directory, html=True)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = cache_control(path, response.status_code)
        return response

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        compressed = Path(f"{full_path}.gz")
        try:
            compressed_stat = compressed.stat()
        except OSError:
            compressed_stat = None
        if (
            compressed_stat is None
            or not stat.S_ISREG(compressed_stat.st_mode)
            or str(full_path).endswith(".gz")
            # A page edited by hand after the build: its old .gz copy must not win.
            or compressed_stat.st_mtime < stat_result.st_mtime
        ):
            return super().file_response(full_path, stat_result, scope, status_code)
        request_headers = Headers(scope=scope)
        # Both variants say Vary so that caches keep them apart; each has its own ETag
        # (Starlette derives it from the file served: mtime and size).
        if accepts_gzip(request_headers.get("accept-encoding", "")):
            media_type = mimetypes.guess_type(str(full_path))[0] or "application/octet-stream"
            response: Response = FileResponse(
                compressed,
                status_code=status_code,
                stat_result=compressed_stat,
                media_type=media_type,
                headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
            # A distinct validator for the gzip variant, even if its mtime and size
            # happened to match the original's.
            response.headers["ETag"] = response.headers["ETag"].rstrip('"') + '-gzip"'

        else:
            response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
            response.headers["Vary"] = "Accept-Encoding"
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response
