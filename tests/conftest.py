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
    from browser_support import watched_page

    with watched_page(browser) as new_page:
        yield new_page


@pytest.fixture(scope="session")
def module_base() -> Iterator[str]:
    """Base URL of a static server over frontend/ for unit tests of ES modules."""
    from browser_support import module_server

    with module_server() as base:
        yield base


# --- the real build served by the real server, for page tests ------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real server per test module, over a default build (no worker: tests drive
    jobs through ``server.store``). Modules that need other build flags define their own."""
    from live_server import live_server

    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def dash(page: Any, server: Any) -> Any:
    """The dashboard of the module's server, with no jobs yet."""
    from dashboard_support import Dashboard

    server.reset()
    return Dashboard(page, server)


@pytest.fixture
def detail(page: Any, server: Any) -> Any:
    """The job page driver of the module's server, with no jobs yet."""
    from job_page_support import DetailPage

    server.reset()
    return DetailPage(page, server)
