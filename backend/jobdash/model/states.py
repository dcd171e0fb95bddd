"""The vocabulary of jobs: types, statuses and which statuses are final."""

from __future__ import annotations

import re

# The orchestrator's own job types. The vocabulary is open: plugins register more, and
# rows written by other processes may carry any name.
JOB_TYPES: tuple[str, ...] = ("scan", "apply", "transcode", "move", "process", "prune")
JOB_TYPE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,39}")
JOB_TYPE_RULE = "1-40 characters: a lower-case letter, then lower-case letters, digits, '_' or '-'"
STATUSES: tuple[str, ...] = ("queued", "running", "completed", "failed", "cancelled")
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

PRIORITY_MIN, PRIORITY_MAX, PRIORITY_DEFAULT = 0, 1000, 100


def is_terminal(status: str) -> bool:
    """Given a status, return True if the job can no longer change.

    >>> is_terminal("failed"), is_terminal("running")
    (True, False)
    """
    return status in TERMINAL_STATUSES


def is_job_type_name(name: object) -> bool:
    """Given a value, return True if it is a valid job type name.

    >>> is_job_type_name("transcode"), is_job_type_name("Checksum"), is_job_type_name("a b")
    (True, False, False)
    """
    return isinstance(name, str) and JOB_TYPE_PATTERN.fullmatch(name) is not None


#: Lines one job's log keeps at most where logs are rows in a shared database (the
#: PostgreSQL store); past it one marker line says the rest were dropped.
LOG_LINES_CAP_DEFAULT = 1_000_000
