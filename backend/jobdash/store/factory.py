"""Opening the configured store: the one place that chooses an implementation."""

from __future__ import annotations

from pathlib import Path

from jobdash.store.interface import JobStore
from jobdash.store.sqlite.store import SqliteStore
from jobdash.store.vpo.store import open_vpo


def open_store(data_dir: Path, *, vpo_db: Path | None = None, vpo_data_dir: Path | None = None) -> JobStore:
    """Return the store to serve: VPO's library database read-only when ``vpo_db`` is
    given (its logs under ``vpo_data_dir``, default the database's folder), else jobdash's
    own SQLite store in ``data_dir`` (created if new).

    Raises ``FileNotFoundError`` for a missing data directory, ``RuntimeError`` for a
    database written by a newer jobdash, ``VpoOpenError`` (one line) for a VPO database
    that cannot be read.
    """
    if vpo_db is not None:
        return open_vpo(vpo_db, vpo_data_dir)
    return SqliteStore(data_dir)
