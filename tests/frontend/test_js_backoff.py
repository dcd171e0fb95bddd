"""frontend/js/backoff.js: the retry schedule, in the real Chromium."""

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


def _call(page: Any, harness: HarnessHTTPServer, script: str, arg: Any = None) -> Any:
    open_module_page(page, harness.base)
    return page.evaluate(
        f"""async (arg) => {{
            const m = await import("/js/backoff.js");
            return ({script})(m, arg);
        }}""",
        arg,
    )


def test_schedule_interval_interval_then_10_20_40_80_120(page: Any, harness: HarnessHTTPServer) -> None:
    """Failures 0..9 at a 5 s interval: 5, 5, 5, 10, 20, 40, 80, 120, 120, 120 s."""
    delays = _call(page, harness, "(m) => [0,1,2,3,4,5,6,7,8,9,50].map(f => m.nextDelayMs(f, 5000))")
    assert delays == [5000, 5000, 5000, 10000, 20000, 40000, 80000, 120000, 120000, 120000, 120000]


def test_schedule_keeps_the_configured_interval_before_backoff(page: Any, harness: HarnessHTTPServer) -> None:
    """The first gaps follow the page's interval (2 s here); the backoff steps do not."""
    delays = _call(page, harness, "(m) => [0,1,2,3,7].map(f => m.nextDelayMs(f, 2000))")
    assert delays == [2000, 2000, 2000, 10000, 120000]


def test_steps_constant(page: Any, harness: HarnessHTTPServer) -> None:
    """BACKOFF_STEPS_MS lists the backoff gaps and cannot be changed by a caller."""
    steps, frozen = _call(page, harness, "(m) => [m.BACKOFF_STEPS_MS, Object.isFrozen(m.BACKOFF_STEPS_MS)]")
    assert steps == [10000, 20000, 40000, 80000, 120000]
    assert frozen is True


def test_retry_after_is_a_minimum(page: Any, harness: HarnessHTTPServer) -> None:
    """The wait is the larger of the backoff and the server's Retry-After."""
    table = [
        (0, 30000, 30000),  # a Retry-After above the interval wins
        (1, 1000, 5000),  # below the interval: the interval
        (3, 2000, 10000),  # below the backoff: the backoff
        (3, 15000, 15000),  # above the backoff: Retry-After
        (9, 300000, 300000),  # above the 120 s cap: Retry-After is a minimum, not capped
        (4, 0, 20000),
        (4, -5, 20000),  # nonsense Retry-After is ignored
    ]
    delays = _call(page, harness, "(m, rows) => rows.map(([f, r]) => m.nextDelayMs(f, 5000, r))", table)
    assert delays == [expected for _, _, expected in table]


def test_is_backing_off_from_the_third_failure(page: Any, harness: HarnessHTTPServer) -> None:
    """1–2 failures are reconnecting (not backoff); the 3rd and later are offline."""
    flags = _call(page, harness, "(m) => [0,1,2,3,4,100].map(f => m.isBackingOff(f))")
    assert flags == [False, False, False, True, True, True]


def test_odd_failure_counts_count_as_none(page: Any, harness: HarnessHTTPServer) -> None:
    """A negative, fractional or non-number failure count never throws."""
    delays = _call(page, harness, "(m) => [-1, NaN, undefined, 2.9, 3.5].map(f => m.nextDelayMs(f, 5000))")
    assert delays == [5000, 5000, 5000, 5000, 10000]
