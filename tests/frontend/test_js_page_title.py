"""frontend/js/page_title.js: the tab titles of both pages."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

# Pure logic (no engine API beyond the language): Chromium only.
pytestmark = [pytest.mark.browser, pytest.mark.engines("chromium")]

SCAN = {"job_type": "scan", "id_short": "c02d6a3c", "id": "c02d6a3c-0000-4000-8000-000000000000"}


@pytest.fixture
def titles(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)
    return lambda call, arg: page.evaluate(
        f"async (arg) => (await import('/js/page_title.js')).{call}(arg)",
        arg,
    )


@pytest.mark.parametrize(
    ("job", "title"),
    [
        (
            {"status": "running", "progress_percent": 47.9, "processed_count": 479, "total_count": 1000},
            "● Running 47% — scan c02d6a3c",
        ),
        ({"status": "running", "progress_percent": 99.99}, "● Running 99% — scan c02d6a3c"),
        ({"status": "running", "progress_percent": 0}, "● Running — scan c02d6a3c"),
        (
            {"status": "running", "progress_percent": 0, "processed_count": 0, "total_count": 10},
            "● Running 0% — scan c02d6a3c",
        ),
        ({"status": "completed", "progress_percent": 100}, "✓ Completed — scan c02d6a3c"),
        ({"status": "failed"}, "✗ Failed — scan c02d6a3c"),
        ({"status": "cancelled"}, "⊘ Cancelled — scan c02d6a3c"),
        ({"status": "queued"}, "◌ Queued — scan c02d6a3c"),
        ({"status": "paused-by-vpo"}, "? Unknown — scan c02d6a3c"),
    ],
)
def test_job_titles(titles: Any, job: dict[str, Any], title: str) -> None:
    assert titles("jobTitle", {**SCAN, **job}) == title


@pytest.mark.parametrize(
    ("running", "title"),
    [
        (0, "Jobs — jobdash"),
        (3, "(3 running) Jobs — jobdash"),
        (1200, "(1,200 running) Jobs — jobdash"),
        (-1, "Jobs — jobdash"),
    ],
)
def test_dashboard_titles(titles: Any, running: int, title: str) -> None:
    assert titles("dashboardTitle", running) == title
