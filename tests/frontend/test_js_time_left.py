"""frontend/js/time_left.js: a running job's time left, from recorded progress series.

Each series is what a page polling every 5 s would see: (seconds since the job started,
fraction done). The estimator runs in the real browser; times are given, never read.
"""

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

START_MS = 1_700_000_000_000
POLL_S = 5


@pytest.fixture
def run(page: Any, harness: HarnessHTTPServer) -> Any:
    """run(series, seeded=False) -> [estimate in s or None after each observation]."""
    open_module_page(page, harness.base)

    def estimates(series: list[tuple[float, float]], *, seeded: bool = False) -> list[float | None]:
        return page.evaluate(
            """async ([series, start, seeded]) => {
                const { TimeLeftEstimator } = await import("/js/time_left.js");
                const estimator = new TimeLeftEstimator({ startedAtMs: seeded ? start : null });
                return series.map(([s, fraction]) => {
                    const now = start + s * 1000;
                    estimator.observe(now, fraction);
                    const left = estimator.estimateMs(now);
                    return left === null ? null : left / 1000;
                });
            }""",
            [series, START_MS, seeded],
        )

    return estimates


def steady(seconds: int, total_s: float, start_s: int = POLL_S) -> list[tuple[float, float]]:
    """Polls every 5 s of a job that takes ``total_s`` at a constant rate."""
    return [(s, min(1.0, s / total_s)) for s in range(start_s, seconds + 1, POLL_S)]


def test_a_steady_job_gets_a_close_estimate_once_past_2_percent_and_10_s(run: Any) -> None:
    series = steady(300, 500)  # 1% every 5 s
    left = run(series)
    shown = [(s, est) for (s, _), est in zip(series, left, strict=True) if est is not None]
    assert shown, left
    assert shown[0][0] >= 10, "no estimate before 10 s of progress"
    for s, est in shown:
        assert abs(est - (500 - s)) <= 0.05 * (500 - s), (s, est)


def test_nothing_is_shown_before_2_percent(run: Any) -> None:
    # 0.1% every 5 s: a minute in, still under 2%.
    series = [(s, s / 5000) for s in range(5, 95, 5)]
    left = run(series)
    assert all(est is None for (s, _), est in zip(series, left, strict=True) if s / 5000 < 0.02), left
    assert left[-1] is None


def test_an_accelerating_job_converges_on_its_new_rate(run: Any) -> None:
    # 0.5% per poll for a minute, then 2% per poll: the job ends at 60 + 94/2*5 = 295 s.
    series = [(s, 0.001 * s) for s in range(5, 61, 5)]
    series += [(s, 0.06 + 0.004 * (s - 60)) for s in range(65, 291, 5)]
    left = run(series)
    for (s, _), est in zip(series, left, strict=True):
        assert est is None or est >= 0
        if 240 <= s <= 285:  # two minutes after the change: the window holds only the new rate
            assert est is not None and abs(est - (295 - s)) <= 0.3 * (295 - s) + 5, (s, est)


def test_a_stalled_job_loses_its_estimate_and_a_resumed_one_gets_it_back(run: Any) -> None:
    moving = steady(100, 500)  # 20% after 100 s
    stalled = [(s, 0.2) for s in range(105, 206, 5)]  # no progress for 100 s
    resumed = [(s, 0.2 + (s - 205) / 500) for s in range(210, 451, 5)]  # the old rate again
    left = run(moving + stalled + resumed)
    before, during, after = left[: len(moving)], left[len(moving) : len(moving) + len(stalled)], left[-len(resumed) :]
    assert before[-1] is not None and abs(before[-1] - 400) < 20, before
    # A few polls into the stall the projections drift apart: no estimate while it lasts.
    assert all(est is None for est in during[3:]), during
    assert all(est is None or est >= 0 for est in left)
    # Once the stall has left the two-minute window, the estimate is back and close.
    shown = [est for est in after[-10:] if est is not None]
    assert len(shown) == 10, after
    end = resumed[-1][0]
    assert abs(shown[-1] - (500 - (end - 105))) <= 0.1 * (500 - (end - 105)), shown


def test_after_a_reload_the_estimate_is_seeded_from_started_at(run: Any) -> None:
    # The page loads 100 s into a job that is 20% done: an estimate at the first poll.
    left = run([(100, 0.2)], seeded=True)
    assert left[0] is not None and abs(left[0] - 400) < 1, left
    # Without the seed, one observation says nothing.
    assert run([(100, 0.2)]) == [None]


def test_progress_that_goes_back_starts_afresh_and_a_done_job_has_no_estimate(run: Any) -> None:
    series = steady(100, 500) + [(105, 0.01), (110, 0.02)]
    left = run(series)
    assert left[len(steady(100, 500)) - 1] is not None
    assert left[-2:] == [None, None]  # a fresh start: under 10 s of progress
    assert run([*steady(100, 500), (105, 1.0)])[-1] is None


@pytest.mark.parametrize(
    ("ms", "full", "compact"),
    [
        (-5_000, "a few seconds left", "<5 s left"),
        (3_000, "a few seconds left", "<5 s left"),
        (42_000, "about 40 s left", "~40 s left"),
        (43_000, "about 45 s left", "~45 s left"),
        (58_000, "about 1 min left", "~1 min left"),
        (185_000, "about 3 min left", "~3 min left"),
        (59 * 60_000, "about 59 min left", "~59 min left"),
        (3_590_000, "about 1 h left", "~1 h left"),
        (4_870_000, "about 1 h 20 min left", "~1 h 20 min left"),
        (3 * 3_600_000 + 2 * 60_000, "about 3 h left", "~3 h left"),
    ],
)
def test_time_left_in_words(page: Any, harness: HarnessHTTPServer, ms: int, full: str, compact: str) -> None:
    open_module_page(page, harness.base)
    got = page.evaluate(
        """async (ms) => {
            const { formatTimeLeft } = await import("/js/time_left.js");
            return [formatTimeLeft(ms), formatTimeLeft(ms, { compact: true })];
        }""",
        ms,
    )
    assert got == [full, compact]
