"""The vocabulary of jobs: types, statuses and which statuses are final."""

from __future__ import annotations

JOB_TYPES: tuple[str, ...] = ("scan", "apply", "transcode", "move", "process", "prune")
STATUSES: tuple[str, ...] = ("queued", "running", "completed", "failed", "cancelled")
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

PRIORITY_MIN, PRIORITY_MAX, PRIORITY_DEFAULT = 0, 1000, 100


def is_terminal(status: str) -> bool:
    """Given a status, return True if the job can no longer change.

    >>> is_terminal("failed"), is_terminal("running")
    (True, False)
    """
    return status in TERMINAL_STATUSES
