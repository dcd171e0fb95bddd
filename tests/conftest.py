"""Fixtures shared across the test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.store import JobStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    """A JobStore in an empty data directory (tmp_path), closed afterwards."""
    job_store = JobStore(tmp_path)
    yield job_store
    job_store.close()
