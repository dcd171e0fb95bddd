"""Fixtures of the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.store.factory import open_store
from support.cli import TEST_ENV


@pytest.fixture
def store(data: Path, store_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The store the commands of this test work on (SQLite in ``data``, or PostgreSQL,
    which every command then reaches through JOBDASH_DATABASE_URL), to inspect what the
    commands did."""
    if store_url is not None:
        monkeypatch.setitem(TEST_ENV, "JOBDASH_DATABASE_URL", store_url)
    job_store = open_store(data, database_url=store_url)
    yield job_store
    job_store.close()
