"""What a job type declares about itself, as the API and the CLI need to know it.

A job type's handler may declare the kind of target it works on; submissions are
checked against it (a scan needs a directory that exists, a transcode a file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Kinds of target: what the submitted TARGET must be on the submitting host.
TARGET_KINDS: dict[str, str] = {
    "directory": "a directory that exists",
    "file": "a file that exists",
    "path": "a file or directory that exists",
    "any": "any non-empty text",
}


@dataclass(frozen=True)
class JobTypeInfo:
    """A registered job type: its name, its kind of target, a one-line description, and
    the check of its params (raises ValueError naming what is wrong), if it has one."""

    name: str
    target: str = "any"
    description: str = ""
    check_params: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        assert self.target in TARGET_KINDS, f"target kind must be one of {', '.join(TARGET_KINDS)}"
