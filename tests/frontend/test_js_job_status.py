"""frontend/js/job_status.js: a status badge's key, text and title; "unknown" (a status a
VPO database may hold that this page does not know) reads as Unknown, with a title."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def badge(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)

    def run(status: Any) -> Any:
        return page.evaluate(
            """async (status) => {
              const m = await import("/js/job_status.js");
              return [m.statusKey(status), m.statusText(status), m.statusTitle(status)];
            }""",
            status,
        )

    return run


@pytest.mark.parametrize("status", ["queued", "running", "completed", "failed", "cancelled"])
def test_known_statuses_read_as_themselves_without_a_title(badge: Any, status: str) -> None:
    assert badge(status) == [status, status.capitalize(), None]


@pytest.mark.parametrize("status", ["unknown", "paused", "", None, "<b>x</b>"])
def test_anything_else_is_unknown_with_an_explanation(badge: Any, status: Any) -> None:
    key, text, title = badge(status)
    assert (key, text) == ("unknown", "Unknown")
    assert "does not know" in title and "keeps checking" in title


def test_unknown_is_not_terminal(page: Any, harness: HarnessHTTPServer) -> None:
    open_module_page(page, harness.base)
    assert page.evaluate('async () => (await import("/js/job_time.js")).isTerminal("unknown")') is False
