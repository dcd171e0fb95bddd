"""Job ids: canonical UUIDv4 text, checked before an id is used for anything else."""

from __future__ import annotations

import uuid


def is_uuid(text: str) -> bool:
    """Given text, return True if it is a canonical (lower-case, hyphenated) UUID.

    >>> is_uuid("0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"), is_uuid("../etc/passwd")
    (True, False)
    """
    try:
        return str(uuid.UUID(text)) == text
    except (ValueError, AttributeError, TypeError):
        return False
