"""Fixtures shared across the test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.store import JobStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    """A JobStore in an empty data directory (tmp_path), closed afterwards."""
    job_store = JobStore(tmp_path)
    yield job_store
    job_store.close()


# --- browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless system Chromium for the whole test session."""
    from playwright.sync_api import sync_playwright

    from browser_support import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context; fails the test on any console error or page error."""
    context = browser.new_context()
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    new_page.on("pageerror", lambda exc: errors.append(str(exc)))
    new_page.console_errors = errors  # tests that expect errors can inspect and clear this
    yield new_page
    context.close()
    assert not errors, f"console errors in the page: {errors}"


@pytest.fixture(scope="session")
def module_base() -> Iterator[str]:
    """Base URL of a static server over frontend/ for unit tests of ES modules."""
    from browser_support import module_server

    with module_server() as base:
        yield base
