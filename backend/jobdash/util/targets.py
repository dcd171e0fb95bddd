"""Checking a job's target on this host's file system (read-only: a stat, nothing more)."""

from __future__ import annotations

import os
from pathlib import Path


def target_problem(kind: str, target: str) -> str | None:
    """Given a target kind and a target, return what is wrong with it, or None.

    ``kind`` is one of directory, file, path or any (see
    :data:`jobdash.model.job_types.TARGET_KINDS`).

    >>> target_problem("any", "anything"), target_problem("directory", "/")
    (None, None)
    >>> target_problem("file", "/")
    "target '/' is a directory; this job type needs a file"
    """
    if kind == "any":
        return None
    path = Path(target).expanduser()
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except (OSError, ValueError):
        exists = is_dir = False
    if not exists:
        return f"target {target!r:.200} does not exist on this host"
    if kind == "directory" and not is_dir:
        return f"target {target!r:.200} is not a directory; this job type needs a directory"
    if kind == "file" and is_dir:
        return f"target {target!r:.200} is a directory; this job type needs a file"
    if not os.access(path, os.R_OK):
        return f"target {target!r:.200} is not readable"
    return None


def absolute_target(kind: str, target: str) -> str:
    """Given a target kind and a target, return the path made absolute (text as given
    for kind ``any``), so that a worker started elsewhere finds the same file.

    >>> absolute_target("any", "name"), absolute_target("directory", "/srv/../srv")
    ('name', '/srv')
    """
    if kind == "any":
        return target
    return str(Path(target).expanduser().resolve())
