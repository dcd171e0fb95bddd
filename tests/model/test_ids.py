"""Job ids: only canonical UUIDs are ids (jobdash.model.ids)."""

from __future__ import annotations

from typing import Any

import pytest

from jobdash.model.ids import is_uuid

CANONICAL = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"


@pytest.mark.parametrize(
    "text",
    # Fixed values (uuid4() and uuid1() made once): collection must be the same in every
    # test process.
    [
        CANONICAL,
        "6dd86cf6-0811-4cd4-90de-2d3994972369",
        "00000000-0000-0000-0000-000000000000",
        "7cf92c36-f1a6-11f1-9ee5-02fc00000001",
    ],
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
