"""Where jobdash keeps its data (the SQLite file and job logs) by default."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def default_data_dir(
    env: Mapping[str, str] | None = None, platform: str | None = None, home: Path | None = None
) -> Path:
    """Given the environment and platform, return the per-user data directory.

    Linux and other Unix: ``$XDG_DATA_HOME/jobdash`` (``~/.local/share/jobdash``);
    macOS: ``~/Library/Application Support/jobdash``; Windows: ``%LOCALAPPDATA%\\jobdash``.

    >>> default_data_dir({"XDG_DATA_HOME": "/srv/data"}, "linux")
    PosixPath('/srv/data/jobdash')
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    home = Path.home() if home is None else home
    if platform == "darwin":
        return home / "Library" / "Application Support" / "jobdash"
    if platform.startswith("win"):
        base = env.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "jobdash"
    base = env.get("XDG_DATA_HOME")
    return (Path(base) if base else home / ".local" / "share") / "jobdash"


def prepare_data_dir(path: Path) -> Path:
    """Given a data directory, create it (and its parents) if needed and return it resolved.

    Raises ``ValueError`` with a clear message when it cannot be used.
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"data directory {path} exists but is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create data directory {path}: {error.strerror}") from error
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"data directory {path} is not writable")
    return path.resolve()
