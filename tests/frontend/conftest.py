"""Fixtures of the ES-module unit tests: the modules served as they are, to the real browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

#: Test modules whose tests each need a page of their own: a fake clock (installed once per
#: context), the context's offline switch, or console listeners of their own.
OWN_PAGE_MODULES = {"test_js_polling", "test_js_connection_status", "test_js_debug_log"}


@pytest.fixture(scope="session")
def module_base() -> Iterator[str]:
    """Base URL of a static server over frontend/ for unit tests of ES modules."""
    from support.browser import module_server

    with module_server() as base:
        yield base


@pytest.fixture(scope="session")
def _module_pages() -> Iterator[dict[int, tuple[str, Any]]]:
    """Per browser: the test module it serves and that module's page (see ``page``)."""
    pages: dict[int, tuple[str, Any]] = {}
    yield pages
    for _, shared in pages.values():
        shared.context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, _module_pages: dict[int, tuple[str, Any]]) -> Iterator[Any]:
    """A page that fails the test on any console or page error, as everywhere else, but
    shared by the tests of one module (per engine): each test opens the harness page
    anew (a new document: no module or state carries over), and a new context costs more
    than most of these tests. Modules in OWN_PAGE_MODULES get a fresh one per test."""
    from support.browser import track_console_errors, watched_page

    module = request.module.__name__.rsplit(".", 1)[-1]
    if module in OWN_PAGE_MODULES:
        with watched_page(browser) as own:
            yield own
        return
    current = _module_pages.get(id(browser))
    if current is None or current[0] != module:
        if current is not None:
            current[1].context.close()
        shared = browser.new_context().new_page()
        track_console_errors(shared)
        _module_pages[id(browser)] = current = (module, shared)
    shared = current[1]
    shared.console_errors.clear()
    yield shared
    errors = list(shared.console_errors)
    assert not errors, f"console errors in the page: {errors}"
