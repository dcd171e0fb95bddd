"""Test helpers that act as another process would: raw SQL on the store's database (the
SQLite file, or the PostgreSQL database), and file-system protection that holds even for
root.

``where`` is a data directory (the SQLite store's) or a store object. SQL is written
with ``?`` placeholders, as sqlite3 takes them; on PostgreSQL they become ``%s``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jobdash.store.sqlite.store import DB_FILENAME


class _PostgresWriter:
    """A psycopg connection that takes sqlite3's ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Any = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), args)


def database_url(where: Path | Any) -> str | None:
    """Given a data directory or a store, return its PostgreSQL URL (None for SQLite)."""
    url = getattr(where, "url", None)
    return getattr(url, "conninfo", None)


@contextmanager
def other_writer(where: Path | Any) -> Iterator[Any]:
    """Yield a separate connection on the store's database in a write transaction;
    commit and close after."""
    url = database_url(where)
    if url is not None:
        import psycopg

        with psycopg.connect(url) as pg:
            yield _PostgresWriter(pg)
        return
    data_dir = where if isinstance(where, Path) else where.data_dir
    conn = sqlite3.connect(data_dir / DB_FILENAME, timeout=5, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def set_columns(where: Path | Any, job_id: str, **columns: Any) -> None:
    """Given a job id, overwrite the given columns of its row directly in SQL."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with other_writer(where) as conn:
        conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*columns.values(), job_id])


def insert_row(where: Path | Any, row: Mapping[str, Any]) -> None:
    """Insert a jobs row as another process would (column -> value)."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    with other_writer(where) as conn:
        conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({marks})", list(row.values()))


@contextmanager
def write_protected(path: Path) -> Iterator[None]:
    """Make a file or directory unwritable for this process, even as root.

    chmod first; root ignores permission bits, so ``chattr +i`` too when needed (the
    test is skipped where neither works).
    """
    mode = path.stat().st_mode
    os.chmod(path, 0o555 if path.is_dir() else 0o444)
    immutable = False
    try:
        if os.access(path, os.W_OK):
            if (
                shutil.which("chattr") is None
                or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0
            ):
                pytest.skip(f"cannot make {path} unwritable for this user")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        os.chmod(path, mode)
