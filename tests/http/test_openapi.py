"""The OpenAPI document's parameter schemas describe exactly what the API accepts."""

from __future__ import annotations

import re

import pytest

from jobdash.http.openapi import openapi_document
from jobdash.model.list_query import ParamError, parse_list_query
from jobdash.model.states import JOB_TYPES, STATUSES

SAMPLES = [
    "",
    " ",
    ",",
    "failed",
    "failed,running",
    " failed , running ",
    "failed,",
    ",failed",
    "FAILED",
    "failed,,running",
    "fail ed",
    "failed;running",
    "failed\x00",
    "\x00failed",
    "failed\n",
    "\tfailed",
    "failed,failed",
    "scan",
    "scan,move",
    "scan, prune ",
    "scan,",
    "bogus",
    "💥",
    "queued,cancelled,completed",
]


def _pattern(name: str) -> re.Pattern[str]:
    parameters = openapi_document()["paths"]["/api/jobs"]["get"]["parameters"]
    (schema,) = [p["schema"] for p in parameters if p["name"] == name]
    return re.compile(schema["pattern"])


def _accepted(name: str, value: str) -> bool:
    try:
        parse_list_query({name: [value]})
    except ParamError:
        return False
    return True


@pytest.mark.parametrize("name, choices", [("status", STATUSES), ("type", JOB_TYPES)])
def test_list_filter_patterns_match_what_the_api_accepts(name: str, choices: tuple[str, ...]) -> None:
    """Drill 4 (fuzzing) found ``status`` and ``type`` documented as any string while the
    API takes only its values, comma-separated: the document now says so, exactly."""
    pattern = _pattern(name)
    samples = SAMPLES + [",".join(choices), " , ".join(reversed(choices))]
    for value in samples:
        assert bool(pattern.search(value)) == _accepted(name, value), (name, value)
