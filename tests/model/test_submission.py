"""Validating submissions the same way for the API, the CLI and Python (jobdash.model.submission)."""

from __future__ import annotations

from typing import Any

import pytest

from jobdash.model.job_types import JobTypeInfo
from jobdash.model.submission import (
    PARAMS_MAX_BYTES,
    Submission,
    SubmissionError,
    check_type_params,
    parse_submission,
)

KNOWN = {"scan": None, "transcode": None}


def test_a_full_submission() -> None:
    data = {"type": "transcode", "target": "/m/a.mkv", "params": {"preset": "copy"}, "priority": 3.0}
    assert parse_submission(data, KNOWN) == Submission("transcode", "/m/a.mkv", {"preset": "copy"}, 3)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"type": "x", "target": "/"}, "type must be a registered job type, one of scan, transcode; got 'x'"),
        ({"target": "/"}, "type is required: one of scan, transcode"),
        ({"type": "scan", "target": " "}, "target is required: the path (or name) the job works on"),
        ({"type": "scan", "target": "a\x00b"}, "target must be at most 4096 characters with no NUL"),
        ({"type": "scan", "target": "/", "params": {"": 1}}, "params names must be text of 1-100 characters"),
        (
            {"type": "scan", "target": "/", "params": {"x": "y" * PARAMS_MAX_BYTES}},
            "params must be at most 16,384 bytes",
        ),
        ({"type": "scan", "target": "/", "priority": 2.5}, "priority must be a whole number from 0 (first) to 1000"),
        ({"type": "scan", "target": "/", "priority": -1}, "priority must be a whole number from 0 (first) to 1000"),
        ({"type": "scan", "target": "/", "extra": 1}, "unknown field 'extra'; allowed: type, target, params, priority"),
        ("scan", 'the body must be a JSON object like {"type": "scan", "target": "/media"}'),
    ],
)
def test_bad_submissions(data: Any, message: str) -> None:
    with pytest.raises(SubmissionError) as excinfo:
        parse_submission(data, KNOWN)
    assert str(excinfo.value).startswith(message), str(excinfo.value)


def test_no_registered_types_says_so() -> None:
    with pytest.raises(SubmissionError, match="none \\(no job type is registered\\)"):
        parse_submission({"type": "scan", "target": "/"}, {})


def test_a_type_checks_its_own_params() -> None:
    def check(params: dict[str, Any]) -> None:
        if params.get("preset") not in (None, "copy"):
            raise ValueError("param preset must be one of copy")

    info = JobTypeInfo("transcode", "file", "", check)
    check_type_params(info, {"preset": "copy"})
    check_type_params(None, {"anything": 1})
    with pytest.raises(SubmissionError, match="^param preset must be one of copy$"):
        check_type_params(info, {"preset": "vp9"})


def test_the_fingerprint_ignores_key_order_but_not_values() -> None:
    one = Submission("scan", "/m", {"a": 1, "b": 2})
    assert one.fingerprint() == Submission("scan", "/m", {"b": 2, "a": 1}).fingerprint()
    assert one.fingerprint() != Submission("scan", "/m", {"a": 1, "b": 3}).fingerprint()
    assert one.fingerprint() != Submission("scan", "/m", {"a": 1, "b": 2}, priority=5).fingerprint()
