"""Fixtures shared across the test modules."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.store.factory import open_store
from support.engines import ENGINES, selected_engines

# --- stores -------------------------------------------------------------------------------

#: The writable stores every store, API, worker and CLI test runs against.
STORE_KINDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """One private PostgreSQL server for the whole test session (skips, saying why, where
    PostgreSQL is not installed)."""
    from support.postgres import ClusterUnavailable, PrivateCluster

    root = Path(tempfile.mkdtemp(prefix="jobdash-pg-"))
    try:
        cluster = PrivateCluster(root).start()
    except ClusterUnavailable as error:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL store not tested: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def database_url(pg_cluster: Any) -> Iterator[str]:
    """The URL of a new database with jobdash's schema, dropped afterwards."""
    url = pg_cluster.new_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which store a test runs against: each test that uses it runs once per kind."""
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The ``--database`` URL of this test's store: None for SQLite (the data dir)."""
    if store_kind == "sqlite":
        return None
    return str(request.getfixturevalue("database_url"))


@pytest.fixture
def store(store_url: str | None, tmp_path: Path) -> Iterator[Any]:
    """A writable store, empty: SQLite in tmp_path, or a new PostgreSQL database."""
    job_store = open_store(tmp_path, database_url=store_url)
    yield job_store
    job_store.close()


@pytest.fixture
def file_logs(store_kind: str) -> None:
    """For a test about log files: skipped (saying why) on PostgreSQL, where a job's log
    is rows in the database."""
    if store_kind != "sqlite":
        pytest.skip("job logs are rows in the database on the PostgreSQL store, not files")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Any]:
    """A SqliteStore in an empty data directory, for what only the SQLite store has."""
    from jobdash.store.sqlite.store import SqliteStore

    job_store = SqliteStore(tmp_path)
    yield job_store
    job_store.close()


# --- browser ------------------------------------------------------------------------------


#: The engines Playwright drives here: the system Chromium, and Firefox ESR through its
#: WebDriver BiDi (``moz-firefox`` channel). WebKit runs in its own suite (Selenium).
PLAYWRIGHT_ENGINES = ("chromium", "firefox")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the files with slow tests (real processes, fixed-length drills) first, each
    file's tests in their order: ./scripts/test hands files to its processes in this
    order (``--dist loadfile --no-loadscope-reorder``), so a minute-long drill never
    starts last while the other process has nothing left to do."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
    _keep_chosen_engines(config, items)


def _keep_chosen_engines(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the engine variants a test's ``engines`` mark leaves out: pure logic and
    layout variants run in one engine, which costs the suite a browser context each (and
    Firefox's take a second or two), while every page still runs in each engine."""
    dropped = []
    for item in items:
        marker = item.get_closest_marker("engines")
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("browser") if callspec is not None else None
        if marker is not None and engine is not None and engine not in marker.args:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in gone]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser",
        action="append",
        choices=ENGINES,
        help="run the browser tests in this engine only (repeatable; default: all three; "
        "env JOBDASH_BROWSERS=chromium,firefox)",
    )


@pytest.fixture(scope="session")
def launched_browsers() -> Iterator[Callable[[str], Any]]:
    """Launch each engine's browser once per test process, on first use: given an engine
    name, return its headless browser (all closed at the end of the session).

    Kept apart from the parametrized ``browser`` fixture so that both engines stay up
    side by side: a session-scoped parametrized fixture would be torn down and launched
    again each time the test order switches engine (Firefox takes seconds to start).
    """
    from playwright.sync_api import sync_playwright

    from support.browser import launch

    with sync_playwright() as playwright:
        launched: dict[str, Any] = {}

        def get(engine: str) -> Any:
            if engine not in launched:
                launched[engine] = launch(playwright, engine)
            return launched[engine]

        yield get
        for running in launched.values():
            running.close()


@pytest.fixture(params=PLAYWRIGHT_ENGINES)
def browser(request: pytest.FixtureRequest, launched_browsers: Callable[[str], Any]) -> Any:
    """The headless browser of this test's engine: each browser test runs in Chromium and
    in Firefox ESR (skipped, saying why, where one is missing or not chosen)."""
    engine = str(request.param)
    if engine not in selected_engines(request.config):
        pytest.skip(f"{engine} not chosen (--browser / JOBDASH_BROWSERS)")
    return launched_browsers(engine)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context; fails the test on any console error or page error."""
    from support.browser import watched_page

    with watched_page(browser) as new_page:
        yield new_page
