"""frontend/js/job_time.js: elapsed time of a running job, duration of an ended one."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

STARTED = "2025-01-01T10:00:00.000Z"
STARTED_MS = 1_735_725_600_000


@pytest.fixture
def view(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)

    def run(job: dict[str, Any], now: int) -> Any:
        return page.evaluate('async ([job, now]) => (await import("/js/job_time.js")).timingView(job, now)', [job, now])

    return run


@pytest.mark.parametrize(
    ("job", "offset_ms", "expected"),
    [
        ({"status": "running", "started_at": STARTED}, 185_900, ("Elapsed", "3 min 05 s", "", True)),
        ({"status": "running", "started_at": STARTED}, -5_000, ("Elapsed", "0 s", "", True)),
        ({"status": "running", "started_at": None}, 0, ("Elapsed", "—", "", False)),
        (
            {"status": "completed", "started_at": STARTED, "duration_seconds": 7380},
            10**9,
            ("Duration", "2 h 03 min", "", False),
        ),
        ({"status": "failed", "started_at": STARTED, "duration_seconds": 0.4}, 0, ("Duration", "< 1 s", "", False)),
        (
            {"status": "queued", "started_at": None, "duration_seconds": None},
            0,
            ("Duration", "—", "not started", False),
        ),
        (
            {"status": "cancelled", "started_at": None, "duration_seconds": None},
            0,
            ("Duration", "—", "not started", False),
        ),
    ],
)
def test_timing(view: Any, job: dict[str, Any], offset_ms: int, expected: tuple[Any, ...]) -> None:
    shown = view(job, STARTED_MS + offset_ms)
    assert (shown["label"], shown["text"], shown["hint"], shown["ticking"]) == expected


def test_terminal_statuses(page: Any, harness: HarnessHTTPServer) -> None:
    open_module_page(page, harness.base)
    result = page.evaluate("""async () => {
      const { isTerminal } = await import("/js/job_time.js");
      return ["queued", "running", "completed", "failed", "cancelled", ""].map(isTerminal);
    }""")
    assert result == [False, False, True, True, True, False]
