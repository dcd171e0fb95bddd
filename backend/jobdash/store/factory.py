"""Opening the configured store: the one place that chooses an implementation."""

from __future__ import annotations

from pathlib import Path

from jobdash.store.interface import JobStore
from jobdash.store.sqlite.store import SqliteStore
from jobdash.store.vpo.store import open_vpo


def open_store(
    data_dir: Path,
    *,
    database_url: str | None = None,
    log_lines_cap: int | None = None,
    vpo_db: Path | None = None,
    vpo_data_dir: Path | None = None,
) -> JobStore:
    """Return the store to serve: PostgreSQL when ``database_url`` is given (many hosts),
    VPO's library database read-only when ``vpo_db`` is (its logs under ``vpo_data_dir``,
    default the database's folder), else jobdash's own SQLite store in ``data_dir``
    (created if new). ``log_lines_cap`` bounds each job's log on PostgreSQL.

    Raises ``FileNotFoundError`` for a missing data directory, ``RuntimeError`` for a
    database written by a newer jobdash, ``ValueError`` for a malformed database URL,
    ``StoreUnavailable`` for a PostgreSQL server that cannot be reached, ``VpoOpenError``
    (one line) for a VPO database that cannot be read.
    """
    assert database_url is None or vpo_db is None, "one store at a time"
    if database_url is not None:
        # Imported here: psycopg is needed only by those who use PostgreSQL.
        from jobdash.store.postgres.store import PostgresStore

        if log_lines_cap is None:
            return PostgresStore(database_url, data_dir=data_dir)
        return PostgresStore(database_url, data_dir=data_dir, log_lines_cap=log_lines_cap)
    if vpo_db is not None:
        return open_vpo(vpo_db, vpo_data_dir)
    return SqliteStore(data_dir)
