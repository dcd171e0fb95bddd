"""Which browser engines a test run drives: chosen with ``--browser`` (repeatable) or
``JOBDASH_BROWSERS=chromium,firefox``; all three by default."""

from __future__ import annotations

import os

import pytest

ENGINES = ("chromium", "firefox", "webkit")


def selected_engines(config: pytest.Config) -> tuple[str, ...]:
    """The engines chosen by --browser or JOBDASH_BROWSERS (default: all).

    An unknown name in the environment variable is an error that names the known ones
    (``--browser`` checks its own choices).
    """
    chosen = config.getoption("--browser") or [
        name.strip() for name in os.environ.get("JOBDASH_BROWSERS", "").split(",") if name.strip()
    ]
    unknown = sorted(set(chosen) - set(ENGINES))
    if unknown:
        raise pytest.UsageError(f"JOBDASH_BROWSERS: unknown engine {', '.join(unknown)}; known: {', '.join(ENGINES)}")
    return tuple(chosen) or ENGINES
