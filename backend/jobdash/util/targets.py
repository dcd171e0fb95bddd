"""Checking a job's target on this host's file system (read-only: a stat, nothing more)."""

from __future__ import annotations

import os
from pathlib import Path


def target_problem(kind: str, target: str, *, here: bool = True) -> str | None:
    """Given a target kind and a target, return what is wrong with it, or None.

    ``kind`` is one of directory, file, path or any (see
    :data:`jobdash.model.job_types.TARGET_KINDS`). ``here`` says the workers run on this
    host, so the target is looked at here; otherwise (workers on other hosts, which may
    mount what this one does not) it need only be an absolute path, and the worker that
    runs the job reports a target it cannot use.

    >>> target_problem("any", "anything"), target_problem("directory", "/")
    (None, None)
    >>> target_problem("file", "/")
    "target '/' is a directory; this job type needs a file"
    >>> target_problem("file", "/mnt/nas/clip.mkv", here=False)
    >>> target_problem("file", "clip.mkv", here=False)
    "target 'clip.mkv' must be an absolute path: the workers that run it are on other hosts"
    """
    if kind == "any":
        return None
    if not here:
        if not os.path.isabs(target):
            return f"target {target!r:.200} must be an absolute path: the workers that run it are on other hosts"
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


def absolute_target(kind: str, target: str, *, here: bool = True) -> str:
    """Given a target kind and a target, return the path made absolute (text as given
    for kind ``any``), so that a worker started elsewhere finds the same file. With
    ``here`` False (workers on other hosts) it is only normalised: this host's symlinks
    say nothing about theirs.

    >>> absolute_target("any", "name"), absolute_target("directory", "/srv/../srv")
    ('name', '/srv')
    >>> absolute_target("file", "/mnt//nas/./a.mkv", here=False)
    '/mnt/nas/a.mkv'
    """
    if kind == "any":
        return target
    if not here:
        return os.path.normpath(target)
    return str(Path(target).expanduser().resolve())
