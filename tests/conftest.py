"""Fixtures shared across the test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.store.sqlite.store import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A SqliteStore in an empty data directory (tmp_path), closed afterwards."""
    job_store = SqliteStore(tmp_path)
    yield job_store
    job_store.close()


# --- browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless system Chromium for the whole test session."""
    from playwright.sync_api import sync_playwright

    from support.browser import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context; fails the test on any console error or page error."""
    from support.browser import watched_page

    with watched_page(browser) as new_page:
        yield new_page
