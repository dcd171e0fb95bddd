"""Opening the configured store: the one place that chooses an implementation."""

from __future__ import annotations

from pathlib import Path

from jobdash.store.interface import JobStore
from jobdash.store.sqlite.store import SqliteStore


def open_store(data_dir: Path) -> JobStore:
    """Given a data directory, return the store kept there (SQLite, created if new).

    Raises ``FileNotFoundError`` for a missing directory and ``RuntimeError`` for a
    database written by a newer jobdash.
    """
    return SqliteStore(data_dir)
