"""Test helpers that act as another process would: raw SQL on the store's file, and
file-system protection that holds even for root."""

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


@contextmanager
def other_writer(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """Yield a separate sqlite3 connection on the store's file in a write transaction;
    commit and close after."""
    conn = sqlite3.connect(data_dir / DB_FILENAME, timeout=5, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def set_columns(data_dir: Path, job_id: str, **columns: Any) -> None:
    """Given a job id, overwrite the given columns of its row directly in SQL."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with other_writer(data_dir) as conn:
        conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*columns.values(), job_id])


def insert_row(data_dir: Path, row: Mapping[str, Any]) -> None:
    """Insert a jobs row as another process would (column -> value)."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    with other_writer(data_dir) as conn:
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
