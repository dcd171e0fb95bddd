"""Reading a request's parts the same way in every endpoint, and the API's HTTP error.

Every problem becomes an :class:`ApiError` (or ``ParamError``), which the app turns into
the one JSON error shape.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request

from jobdash.model.ids import is_uuid
from jobdash.model.list_query import reject_unknown, shown


class ApiError(Exception):
    """An HTTP error with a message for the client (400, 404, ...)."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}


def query_params(request: Request, allowed: Sequence[str]) -> dict[str, list[str]]:
    """Given a request, return its query parameters (name -> values); ParamError for a
    name outside ``allowed``."""
    params = {name: request.query_params.getlist(name) for name in request.query_params.keys()}
    reject_unknown(params, allowed)
    return params


def job_id(request: Request) -> str:
    """Given a request for one job, return the job id from its path; 400 unless a UUID."""
    value = request.path_params["job_id"]
    if not is_uuid(value):
        raise ApiError(
            400,
            f"job id must be a UUID in canonical form (like 0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11); got {shown(value)}",
        )
    return value


def not_found(value: str) -> ApiError:
    """Return the 404 for a job id that names no job."""
    return ApiError(404, f"no job with id {value}")
