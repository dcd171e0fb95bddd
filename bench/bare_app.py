"""The reference limit for bench/api.py: bare Starlette answering a constant 5 KB JSON.

No database, no middleware, no ETag: what uvicorn + Starlette on this machine can do at
best with a response the size of a page of jobs. Run the same way as the real server:

    python -m uvicorn bare_app:app --app-dir bench --port 8001 --log-level warning
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TARGET_BYTES = 5 * 1024


def _constant_body() -> bytes:
    """Return a JSON document of exactly TARGET_BYTES bytes, shaped like a jobs page."""
    item = {
        "id": "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11",
        "job_type": "scan",
        "status": "completed",
        "file_path": "/media/library/Movies",
        "progress_percent": 100.0,
        "processed_count": 1,
        "total_count": 1,
        "created_at": "2026-01-02T03:04:05.678Z",
    }
    jobs = []
    while len(json.dumps({"jobs": jobs + [item], "pad": ""}, separators=(",", ":"))) < TARGET_BYTES:
        jobs.append(item)
    doc = {"jobs": jobs, "pad": ""}
    missing = TARGET_BYTES - len(json.dumps(doc, separators=(",", ":")))
    doc["pad"] = "x" * missing
    body = json.dumps(doc, separators=(",", ":")).encode()
    assert len(body) == TARGET_BYTES, len(body)
    return body


BODY = _constant_body()


async def constant(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/constant", constant, methods=["GET"])])
