"""Fixtures of the WebKit suite: one WebKitGTK session (Selenium, private Xvfb) per test
process, and the real build served by the real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.engines import selected_engines


def _session(request: pytest.FixtureRequest, scheme: str) -> Iterator[Any]:
    from support.webkit import WebKitUnavailable, webkit_driver

    if "webkit" not in selected_engines(request.config):
        pytest.skip("webkit not chosen (--browser / JOBDASH_BROWSERS)")
    try:
        with webkit_driver(scheme) as driver:
            yield driver
    except WebKitUnavailable as error:
        pytest.skip(f"WebKit not tested: {error}")


@pytest.fixture(scope="session")
def webkit(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The WebKitGTK WebDriver session (skipped, saying why, when WebKit is not chosen or
    not installed)."""
    yield from _session(request, "light")


@pytest.fixture(scope="session")
def webkit_dark(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A second WebKitGTK session whose pages prefer the dark colour scheme."""
    yield from _session(request, "dark")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real server per test module, over a default build, without a worker."""
    from support.live_server import live_server

    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def driver(webkit: Any, server: Any) -> Iterator[Any]:
    """The WebKit session at a fresh start: no jobs on the server, a desktop window."""
    from support.webkit import resize

    server.reset()
    resize(webkit, 1280, 900)
    yield webkit
    # One window for the next test (a test may have opened more, or closed the first).
    for handle in webkit.window_handles[1:]:
        webkit.switch_to.window(handle)
        webkit.close()
    webkit.switch_to.window(webkit.window_handles[0])
    webkit.get("about:blank")
