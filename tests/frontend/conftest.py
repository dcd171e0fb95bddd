"""Fixtures of the ES-module unit tests: the modules served as they are, to the real browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def module_base() -> Iterator[str]:
    """Base URL of a static server over frontend/ for unit tests of ES modules."""
    from support.browser import module_server

    with module_server() as base:
        yield base
