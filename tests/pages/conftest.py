"""Fixtures of the page tests: the real build served by the real server, and page drivers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real server per test module, over a default build (no worker: tests drive
    jobs through ``server.store``). Modules that need other build flags define their own."""
    from support.live_server import live_server

    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def dash(page: Any, server: Any) -> Any:
    """The dashboard of the module's server, with no jobs yet."""
    from support.dashboard import Dashboard

    server.reset()
    return Dashboard(page, server)


@pytest.fixture
def detail(page: Any, server: Any) -> Any:
    """The job page driver of the module's server, with no jobs yet."""
    from support.job_page import DetailPage

    server.reset()
    return DetailPage(page, server)
