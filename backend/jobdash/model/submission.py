"""Validating a job submission (pure): the same rules for the API, the CLI and Python.

Every problem raises :class:`SubmissionError` naming the field and what is allowed.
Whether the target exists is checked apart from this (it reads the file system).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobdash.model.job_types import JobTypeInfo
from jobdash.model.list_query import shown
from jobdash.model.states import PRIORITY_DEFAULT, PRIORITY_MAX, PRIORITY_MIN

FIELDS = ("type", "target", "params", "priority")
TARGET_MAX_CHARS = 4096
PARAMS_MAX_BYTES = 16 * 1024
PARAM_KEY_MAX_CHARS = 100


class SubmissionError(ValueError):
    """A submission is invalid; the message names the field and what is allowed."""


@dataclass(frozen=True)
class Submission:
    """A validated request to queue one job."""

    job_type: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    priority: int = PRIORITY_DEFAULT

    def fingerprint(self) -> str:
        """Return a stable text form of the request (a retried submit must match it).

        >>> Submission("scan", "/m", {"b": 1, "a": 2}).fingerprint()
        '{"params":{"a":2,"b":1},"priority":100,"target":"/m","type":"scan"}'
        """
        data = {"type": self.job_type, "target": self.target, "params": self.params, "priority": self.priority}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_type(job_type: Any, known: Mapping[str, Any]) -> str:
    """Given a requested type and the registered ones, return it or raise SubmissionError."""
    if not isinstance(job_type, str) or not job_type:
        raise SubmissionError(f"type is required: one of {_choices(known)}")
    if job_type not in known:
        raise SubmissionError(f"type must be a registered job type, one of {_choices(known)}; got {shown(job_type)}")
    return job_type


def check_priority(priority: Any) -> int:
    """Given a requested priority, return it or raise SubmissionError.

    >>> check_priority(5)
    5
    """
    if isinstance(priority, bool) or not isinstance(priority, int) or not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        raise SubmissionError(
            f"priority must be a whole number from {PRIORITY_MIN} (first) to {PRIORITY_MAX} (last); got {priority!r:.40}"
        )
    return priority


def check_params(params: Any) -> dict[str, Any]:
    """Given requested params, return them as a JSON object or raise SubmissionError.

    >>> check_params({"preset": "copy"})
    {'preset': 'copy'}
    """
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise SubmissionError(f"params must be a JSON object of names to values; got {type(params).__name__}")
    for key in params:
        if not isinstance(key, str) or not key or len(key) > PARAM_KEY_MAX_CHARS:
            raise SubmissionError(f"params names must be text of 1-{PARAM_KEY_MAX_CHARS} characters; got {key!r:.40}")
    try:
        text = json.dumps(params, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError):
        raise SubmissionError(
            "params must hold only JSON values (text, numbers, true/false, null, lists, objects)"
        ) from None
    if len(text.encode()) > PARAMS_MAX_BYTES:
        raise SubmissionError(f"params must be at most {PARAMS_MAX_BYTES:,} bytes as JSON; got {len(text.encode()):,}")
    return params


def check_target(target: Any) -> str:
    """Given a requested target, return it or raise SubmissionError (text only: whether it
    exists is the caller's check)."""
    if not isinstance(target, str) or not target.strip():
        raise SubmissionError("target is required: the path (or name) the job works on")
    if len(target) > TARGET_MAX_CHARS or "\x00" in target:
        raise SubmissionError(f"target must be at most {TARGET_MAX_CHARS} characters with no NUL; got {shown(target)}")
    return target


def check_type_params(info: JobTypeInfo | None, params: dict[str, Any]) -> None:
    """Given a job type's declaration and params, raise SubmissionError if its own check
    refuses them (for example an unknown transcode preset)."""
    if info is None or info.check_params is None:
        return
    try:
        info.check_params(params)
    except ValueError as error:
        raise SubmissionError(str(error)) from None


def parse_submission(data: Any, known: Mapping[str, Any]) -> Submission:
    """Given a decoded JSON body and the registered job types, return a Submission.

    >>> parse_submission({"type": "scan", "target": "/media"}, {"scan": None}).priority
    100
    """
    if not isinstance(data, dict):
        raise SubmissionError('the body must be a JSON object like {"type": "scan", "target": "/media"}')
    unknown = [key for key in data if key not in FIELDS]
    if unknown:
        raise SubmissionError(f"unknown field {shown(str(unknown[0]))}; allowed: {', '.join(FIELDS)}")
    priority = data.get("priority", PRIORITY_DEFAULT)
    if isinstance(priority, float) and math.isfinite(priority) and priority.is_integer():
        priority = int(priority)
    return Submission(
        job_type=check_type(data.get("type"), known),
        target=check_target(data.get("target")),
        params=check_params(data.get("params")),
        priority=check_priority(priority),
    )


def _choices(known: Mapping[str, Any]) -> str:
    return ", ".join(sorted(known)) if known else "none (no job type is registered)"
