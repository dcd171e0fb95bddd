"""The OpenAPI 3.1 document of the JSON API, built from the same constants the API checks."""

from __future__ import annotations

from functools import cache
from typing import Any

from jobdash.model.job_types import TARGET_KINDS
from jobdash.model.list_query import LIMIT_DEFAULT, LIMIT_MAX, LIMIT_MIN, OFFSET_MAX, SINCE_WINDOWS, SORTS
from jobdash.model.states import JOB_TYPE_PATTERN, JOB_TYPES, PRIORITY_MAX, PRIORITY_MIN, STATUSES
from jobdash.version import __version__

_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": ["integer", "null"], "minimum": 0}

_LIST_ITEM = {
    "type": "object",
    "required": [
        "id",
        "job_type",
        "status",
        "file_path",
        "progress_percent",
        "processed_count",
        "total_count",
        "progress_unit",
        "created_at",
        "started_at",
        "completed_at",
        "duration_seconds",
        "progress_updated_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        # Open vocabulary: plugins register types, other writers may store any name.
        "job_type": {"type": "string"},
        # "unknown": a status another writer stored that jobdash does not know.
        "status": {"type": "string", "enum": [*STATUSES, "unknown"]},
        "file_path": {"type": "string"},
        "progress_percent": {"type": "number", "minimum": 0, "maximum": 100},
        "processed_count": _COUNT,
        "total_count": _COUNT,
        "progress_unit": {**_NULLABLE_STR, "description": "What the counts count: files, bytes, seconds, ..."},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": _NULLABLE_TIME,
        "completed_at": _NULLABLE_TIME,
        "duration_seconds": {"type": ["number", "null"]},
        "progress_updated_at": {
            **_NULLABLE_TIME,
            "description": "When the job's progress last changed; null before its first progress report, "
            "or when the store does not know.",
        },
    },
}

_DETAIL_ITEM = {
    "type": "object",
    "required": [
        *_LIST_ITEM["required"],
        "id_short",
        "priority",
        "policy_name",
        "error_message",
        "output_path",
        "summary",
        "summary_raw",
        "params",
        "origin",
        "batch_id",
        "has_logs",
    ],
    "properties": {
        **_LIST_ITEM["properties"],
        "id_short": {"type": "string", "minLength": 8, "maxLength": 8},
        "priority": {"type": "integer", "minimum": 0, "maximum": 1000},
        "policy_name": _NULLABLE_STR,
        "error_message": _NULLABLE_STR,
        "output_path": _NULLABLE_STR,
        "summary": _NULLABLE_STR,
        "summary_raw": {"type": ["object", "null"]},
        "params": {"type": "object", "description": "The parameters the job was submitted with."},
        "origin": {**_NULLABLE_STR, "description": "Who queued it, where the orchestrator records that (VPO)."},
        "batch_id": {**_NULLABLE_STR, "description": "The batch it belongs to, where the orchestrator records it."},
        "has_logs": {"type": "boolean"},
    },
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "What is wrong and what is allowed."}},
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"ETag": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


_COMMON = {
    "304": {"description": "Not modified: the If-None-Match ETag still matches (no body)."},
    "400": _error("Invalid parameter: the message names it and what is allowed."),
    "503": {
        **_error("The job store is unavailable; retry after Retry-After seconds."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}

_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "An ETag from an earlier response; 304 when nothing changed.",
}

_PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "examples": ["wait=25"]},
    "description": "wait=N (RFC 7240, 1-30 s; larger values are capped): with a matching If-None-Match, "
    "hold the request until the answer changes (200) or the wait runs out (304).",
}

_PREFERENCE_APPLIED = {
    "required": False,
    "schema": {"type": "string"},
    "description": "The wait applied (wait=N), when the request asked for one: this endpoint holds polls.",
}


def _held(responses: dict[str, Any]) -> dict[str, Any]:
    """Given an endpoint's responses, return them with Preference-Applied on 200 and 304."""
    held = dict(responses)
    for status in ("200", "304"):
        held[status] = {**held[status], "headers": {**held[status].get("headers", {})}}
        held[status]["headers"]["Preference-Applied"] = _PREFERENCE_APPLIED
    return held


_JOB_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "description": "The job's UUID (a non-UUID is a 400, an unknown UUID a 404).",
}


_WRITE_ERRORS = {
    "400": _error("Invalid request: the message names the field and what is allowed."),
    "401": {
        **_error("A valid bearer token is required."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "405": _error("Writes are off on this server (no API tokens configured)."),
    "503": _COMMON["503"],
}

_SUBMISSION = {
    "type": "object",
    "required": ["type", "target"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "description": "A registered job type (see /api/job-types)."},
        "target": {"type": "string", "minLength": 1, "description": "The path (or name) the job works on."},
        "params": {"type": "object", "description": "Parameters for the job type, a JSON object."},
        "priority": {"type": "integer", "minimum": PRIORITY_MIN, "maximum": PRIORITY_MAX, "default": 100},
    },
}

_JOB_TYPES = {
    "type": "object",
    "required": ["job_types", "workers_known"],
    "properties": {
        "workers_known": {
            "type": "boolean",
            "description": "False when the store is another program's (VPO): its workers do not register here.",
        },
        "job_types": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "description", "target", "workers"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "target": {"type": ["string", "null"], "enum": [*TARGET_KINDS, None]},
                    "workers": {"type": "integer", "minimum": 0, "description": "Live workers that run it."},
                },
            },
        },
    },
}

_WORKERS = {
    "type": "object",
    "required": ["workers", "alive", "workers_known"],
    "properties": {
        "alive": {"type": "integer", "minimum": 0},
        "workers_known": {
            "type": "boolean",
            "description": "False when the store is another program's (VPO): its workers do not register here.",
        },
        "workers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "host", "pid", "types", "state", "started_at", "stopped_at", "current_job"],
                "properties": {
                    "id": {"type": "string"},
                    "host": {"type": "string"},
                    "pid": {"type": "integer"},
                    "types": {"type": "array", "items": {"type": "string"}},
                    "state": {"type": "string", "enum": ["alive", "gone"]},
                    "started_at": _NULLABLE_TIME,
                    "stopped_at": _NULLABLE_TIME,
                    "current_job": {
                        "type": ["object", "null"],
                        "properties": {
                            "id": {"type": "string"},
                            "job_type": _NULLABLE_STR,
                            "file_path": _NULLABLE_STR,
                        },
                    },
                },
            },
        },
    },
}


def _names_pattern(name: str) -> str:
    """Given the pattern of one name, return the pattern of a comma-separated list of them
    (spaces around each ignored), or nothing.

    >>> import re; pattern = re.compile(_names_pattern("[a-z]+"))
    >>> [bool(pattern.match(text)) for text in ("a", "b, a", "", "a,", "A")]
    [True, True, True, False, False]
    """
    one = rf"\s*{name}\s*"
    return rf"^({one}(,{one})*)?$"


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _choices_pattern(choices: tuple[str, ...]) -> str:
    """Given the allowed values, return the pattern of what the API takes: one or more of
    them, comma-separated, spaces around each ignored; or nothing (not given).

    >>> import re; pattern = re.compile(_choices_pattern(("a", "b")))
    >>> [bool(pattern.match(text)) for text in ("a", "b, a", "", "a,", "c", "a,c")]
    [True, True, True, False, False, False]
    """
    one = rf"\s*({'|'.join(choices)})\s*"
    return rf"^({one}(,{one})*)?$"


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI document served at ``/api/openapi.json``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jobdash API",
            "version": __version__,
            "description": "JSON API of jobdash, the live jobs dashboard. Reads are open; writes need a bearer token.",
        },
        "paths": {
            "/api/jobs": {
                "get": {
                    "operationId": "listJobs",
                    "summary": "List jobs, newest first by default.",
                    "parameters": [
                        _query(
                            "status",
                            {"type": "string", "pattern": _choices_pattern(STATUSES)},
                            f"One or more of {', '.join(STATUSES)}, comma-separated.",
                        ),
                        _query(
                            "type",
                            {"type": "string", "pattern": _names_pattern(JOB_TYPE_PATTERN.pattern)},
                            "One or more job types, comma-separated: registered ones (see /api/job-types) "
                            f"or ones present in the store, such as {', '.join(JOB_TYPES)}.",
                        ),
                        _query(
                            "since",
                            {"type": "string", "enum": list(SINCE_WINDOWS)},
                            "Only jobs created within this window.",
                        ),
                        _query(
                            "sort",
                            {"type": "string", "enum": list(SORTS)},
                            "Sort key; a leading '-' sorts descending. Default -created_at.",
                        ),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": LIMIT_MIN, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
                            "Page size.",
                        ),
                        _query(
                            "offset",
                            {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX, "default": 0},
                            "Index of the first job of the page.",
                        ),
                        _IF_NONE_MATCH,
                        _PREFER,
                    ],
                    "responses": _held({"200": _ok("JobList", "One page of jobs."), **_COMMON}),
                },
                "post": {
                    "operationId": "submitJob",
                    "summary": "Queue a job (needs an API token; writes are off without tokens).",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
                            "description": "A retried submission with the same key returns the first job (24 h).",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobSubmission"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Queued (or, with a replayed Idempotency-Key, the first job).",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobDetailItem"}}},
                        },
                        **_WRITE_ERRORS,
                        "413": _error("The body is over 64 KiB."),
                        "415": _error("The body is not application/json."),
                        "422": _error("The Idempotency-Key was used for a different request."),
                    },
                },
            },
            "/api/jobs/{id}/cancel": {
                "post": {
                    "operationId": "cancelJob",
                    "summary": "Cancel a queued or running job (needs an API token).",
                    "security": [{"bearer": []}],
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": {
                            "description": "Cancelled; a running job stops at its next progress step.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobDetailItem"}}},
                        },
                        **_WRITE_ERRORS,
                        "404": _error("No job has this id."),
                        "409": _error("The job has already ended."),
                    },
                }
            },
            "/api/job-types": {
                "get": {
                    "operationId": "listJobTypes",
                    "summary": "Every known job type, and how many live workers run it.",
                    "parameters": [_IF_NONE_MATCH, _PREFER],
                    "responses": _held({"200": _ok("JobTypes", "The job types."), **_COMMON}),
                }
            },
            "/api/workers": {
                "get": {
                    "operationId": "listWorkers",
                    "summary": "The workers registry: alive workers and recently gone ones.",
                    "parameters": [_IF_NONE_MATCH, _PREFER],
                    "responses": _held({"200": _ok("Workers", "The workers."), **_COMMON}),
                }
            },
            "/api/jobs/{id}": {
                "get": {
                    "operationId": "getJob",
                    "summary": "One job with every field.",
                    "parameters": [_JOB_ID, _IF_NONE_MATCH, _PREFER],
                    "responses": _held(
                        {
                            "200": _ok("JobDetailItem", "The job."),
                            "404": _error("No job has this id."),
                            **_COMMON,
                        }
                    ),
                }
            },
            "/api/jobs/{id}/logs": {
                "get": {
                    "operationId": "getJobLogs",
                    "summary": "Log lines of one job, from an absolute line offset.",
                    "parameters": [
                        _JOB_ID,
                        _query(
                            "offset",
                            {"type": "integer", "minimum": 0, "maximum": 10**12},
                            "Index (0-based) of the first line wanted; omit for the tail.",
                        ),
                        _query(
                            "lines",
                            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200},
                            "How many lines at most.",
                        ),
                        _IF_NONE_MATCH,
                        _PREFER,
                    ],
                    "responses": _held(
                        {
                            "200": _ok("JobLogs", "The lines."),
                            "404": _error("No job has this id."),
                            **_COMMON,
                        }
                    ),
                }
            },
            "/api/config/polling": {
                "get": {
                    "operationId": "getPollingConfig",
                    "summary": "The server's polling settings.",
                    "parameters": [_IF_NONE_MATCH],
                    "responses": {"200": _ok("PollingConfig", "The settings."), **_COMMON},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "304": _COMMON["304"],
                        "400": _COMMON["400"],
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "200 when the server and its store answer.",
                    "responses": {
                        "200": _ok("Health", "Healthy."),
                        "304": _COMMON["304"],
                        "503": _COMMON["503"],
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "JobSubmission": _SUBMISSION,
                "JobTypes": _JOB_TYPES,
                "Workers": _WORKERS,
                "JobListItem": _LIST_ITEM,
                "JobDetailItem": _DETAIL_ITEM,
                "JobList": {
                    "type": "object",
                    "required": ["jobs", "total", "limit", "offset", "has_filters", "running"],
                    "properties": {
                        "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/JobListItem"}},
                        "total": {"type": "integer", "minimum": 0},
                        "limit": {"type": "integer", "minimum": LIMIT_MIN, "maximum": LIMIT_MAX},
                        "offset": {"type": "integer", "minimum": 0},
                        "has_filters": {"type": "boolean"},
                        "running": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "How many jobs are running, whatever the filters (the tab title counts them).",
                        },
                    },
                },
                "JobLogs": {
                    "type": "object",
                    "required": ["job_id", "lines", "total_lines", "offset", "has_more"],
                    "properties": {
                        "job_id": {"type": "string", "format": "uuid"},
                        "lines": {"type": "array", "items": {"type": "string"}},
                        "total_lines": {"type": "integer", "minimum": 0},
                        "offset": {"type": "integer", "minimum": 0},
                        "has_more": {"type": "boolean"},
                    },
                },
                "PollingConfig": {
                    "type": "object",
                    "required": ["interval_ms", "log_interval_ms", "enabled"],
                    "properties": {
                        "interval_ms": {"type": "integer", "minimum": 2000, "maximum": 60000},
                        "log_interval_ms": {"type": "integer", "minimum": 2000},
                        "enabled": {"type": "boolean"},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "data_version", "held_polls"],
                    "properties": {
                        "status": {"type": "string"},
                        "data_version": {"type": "integer"},
                        "held_polls": {"type": "integer", "description": "Requests this process holds now."},
                    },
                },
                "Error": _ERROR,
            },
        },
    }
