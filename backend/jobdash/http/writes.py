"""The write endpoints: ``POST /api/jobs`` (submit) and ``POST /api/jobs/{id}/cancel``.

Off unless the server has API tokens: without them every write is a 405; with them a
request needs ``Authorization: Bearer <token>`` (401 otherwise). A submission is checked
like the CLI checks it (:mod:`jobdash.model.submission`): a registered type, a target
that exists where the type needs one, params as a JSON object, a priority in range.
"""

from __future__ import annotations

import json
import re
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from jobdash.http.auth import BEARER_CHALLENGE, bearer_token, token_allowed
from jobdash.http.catalog import live_workers
from jobdash.http.request_parts import ApiError, not_found, query_params
from jobdash.http.request_parts import job_id as path_job_id
from jobdash.http.responses import api_headers, encode
from jobdash.http.settings import ServerSettings
from jobdash.model.items import detail_item
from jobdash.model.list_query import shown
from jobdash.model.submission import Submission, SubmissionError, check_type_params, parse_submission
from jobdash.store.interface import IdempotencyConflict, JobStore, Row
from jobdash.util.targets import absolute_target, target_problem

BODY_MAX_BYTES = 64 * 1024
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
JSON_TYPE = "application/json"


def _authorize(request: Request) -> None:
    """Raise 405 when writes are off, 401 without a valid bearer token."""
    settings: ServerSettings = request.app.state.settings
    store: JobStore = request.app.state.store
    if store.read_only:
        raise ApiError(
            405,
            f"method {request.method} is not allowed on {request.url.path}: {store.read_only_reason}; allowed: GET, HEAD",
            {"Allow": "GET, HEAD"},
        )
    if not settings.api_tokens:
        raise ApiError(
            405,
            f"method {request.method} is not allowed on {request.url.path}: writes are off on this server "
            "(start it with --api-token-file to allow them); allowed: GET, HEAD",
            {"Allow": "GET, HEAD"},
        )
    if not token_allowed(bearer_token(request.headers.get("authorization")), settings.api_tokens):
        raise ApiError(
            401,
            "a valid API token is required: send Authorization: Bearer <token>",
            {"WWW-Authenticate": BEARER_CHALLENGE},
        )


async def _json_body(request: Request) -> Any:
    """Return the request's JSON body: 415 for another type, 413 past the size limit,
    400 when it does not parse."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_TYPE:
        raise ApiError(415, f"Content-Type must be {JSON_TYPE}; got {shown(media_type or 'none')}")
    too_large = ApiError(413, f"the body must be at most {BODY_MAX_BYTES:,} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > BODY_MAX_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX_BYTES:
            raise too_large
    try:
        return json.loads(bytes(body), parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, f"the body is not valid JSON: {shown(str(error), 120)}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, f"Idempotency-Key must be 1-255 visible ASCII characters; got {shown(key)}")
    return key


def registered_types(store: JobStore, settings: ServerSettings) -> dict[str, str]:
    """Return the job types a job may be submitted for, by name -> kind of target:
    those installed where the server runs and those registered workers run."""
    known: dict[str, str] = {name: info.target for name, info in settings.job_types.items()}
    for worker in live_workers(store, settings):
        for name in worker["types"]:
            known.setdefault(name, "any")
    return known


def _submit(store: JobStore, settings: ServerSettings, data: Any, key: str | None) -> tuple[Row, bool]:
    known = registered_types(store, settings)
    submission = parse_submission(data, known)
    kind = known[submission.job_type]
    check_type_params(settings.job_types.get(submission.job_type), submission.params)
    problem = target_problem(kind, submission.target, here=store.local_targets)
    if problem is not None:
        raise SubmissionError(problem)
    target = absolute_target(kind, submission.target, here=store.local_targets)
    if key is None:
        return store.create(target, submission.job_type, priority=submission.priority, params=submission.params), True
    fingerprint = Submission(submission.job_type, target, submission.params, submission.priority).fingerprint()
    return store.submit(
        target,
        submission.job_type,
        priority=submission.priority,
        params=submission.params,
        idempotency_key=key,
        request_hash=fingerprint,
    )


def _item(store: JobStore, job: Row) -> dict[str, Any]:
    return detail_item(job, has_logs=store.has_log(job))


async def submit_job(request: Request) -> Response:
    """``POST /api/jobs`` ``{"type", "target", "params"?, "priority"?}``: queue a job.

    201 with the JobDetailItem and ``Location``. With an ``Idempotency-Key`` a retried
    request gets the first job back (``Idempotent-Replayed: true``), never a second one.
    """
    _authorize(request)
    query_params(request, ())
    data = await _json_body(request)
    key = _idempotency_key(request)
    store: JobStore = request.app.state.store
    try:
        job, created = await to_thread.run_sync(_submit, store, request.app.state.settings, data, key)
    except SubmissionError as error:
        raise ApiError(400, str(error)) from None
    except IdempotencyConflict as error:
        raise ApiError(422, str(error)) from None
    item = await to_thread.run_sync(_item, store, job)
    headers = {"Location": f"/api/jobs/{job['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return Response(encode(item), status_code=201, headers=api_headers(headers), media_type=JSON_TYPE)


def _cancel(store: JobStore, job_id: str) -> dict[str, Any]:
    job = store.cancel(job_id)
    if job is None:
        current = store.get(job_id)
        if current is None:
            raise not_found(job_id)
        raise ApiError(
            409, f"job {job_id} is already {current['status']}; only queued or running jobs can be cancelled"
        )
    return _item(store, job)


async def cancel_job(request: Request) -> Response:
    """``POST /api/jobs/{id}/cancel``: cancel a queued or running job; 200 with the job.

    A running job's worker stops it at its next progress step. An ended job is a 409.
    """
    _authorize(request)
    query_params(request, ())
    job_id = path_job_id(request)
    item = await to_thread.run_sync(_cancel, request.app.state.store, job_id)
    return Response(encode(item), headers=api_headers(), media_type=JSON_TYPE)
