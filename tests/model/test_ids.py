"""Job ids: only canonical UUIDs are ids (jobdash.model.ids)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from jobdash.model.ids import is_uuid

CANONICAL = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"


@pytest.mark.parametrize(
    "text",
    [CANONICAL, str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000", str(uuid.uuid1())],
)
def test_is_uuid_accepts_canonical_ids(text: str) -> None:
    """Lower-case hyphenated UUIDs are ids."""
    assert is_uuid(text)


@pytest.mark.parametrize(
    "text",
    [
        CANONICAL.upper(),
        CANONICAL.replace("-", ""),
        "{" + CANONICAL + "}",
        "urn:uuid:" + CANONICAL,
        " " + CANONICAL,
        CANONICAL + "\n",
        CANONICAL[:-1],
        CANONICAL + "0",
        CANONICAL[:-1] + "g",
        "",
        "../etc/passwd",
        "..%2F..%2Fetc",
        "0b7e2b5e",
        "\u0660" * 8 + CANONICAL[8:],
        None,
        12345,
        b"0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11",
    ],
)
def test_is_uuid_rejects_everything_else(text: Any) -> None:
    """Upper case, braces, urn: form, whitespace, wrong length, paths and non-strings are not ids."""
    assert is_uuid(text) is False
