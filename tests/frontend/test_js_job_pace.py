"""frontend/js/job_pace.js: time left or a stall warning for a running job, from the
versions of the job a page sees (recorded series, times given, never read)."""

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
STALL_MS = 120_000


def iso(seconds: float) -> str:
    """The ISO time ``seconds`` after START_MS, as the API writes it."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(START_MS / 1000 + seconds, UTC).isoformat()


def job(processed: int | None, total: int | None = 100, *, status: str = "running", moved: float | None = None) -> dict:
    """A JobListItem-like job ``processed`` of ``total``; ``moved``: progress_updated_at (s)."""
    percent = 0 if processed is None or not total else 100 * processed / total
    return {
        "status": status,
        "started_at": iso(0),
        "processed_count": processed,
        "total_count": total if processed is not None else None,
        "progress_percent": percent,
        "progress_updated_at": iso(moved) if moved is not None else None,
    }


@pytest.fixture
def pace(page: Any, harness: HarnessHTTPServer) -> Any:
    """pace(steps) -> [PaceView after each step]; a step is (seconds, job or None: only look)."""
    open_module_page(page, harness.base)

    def views(steps: list[tuple[float, dict | None]], *, compact: bool = False) -> list[dict]:
        return page.evaluate(
            """async ([steps, start, stall, compact]) => {
                const { JobPace } = await import("/js/job_pace.js");
                const first = steps.find(([, job]) => job)[1];
                const pace = new JobPace({ stallAfterMs: stall, startedAt: first.started_at });
                return steps.map(([s, job]) => {
                    const now = start + s * 1000;
                    if (job) pace.observe(job, now);
                    return pace.view(now, { compact });
                });
            }""",
            [steps, START_MS, STALL_MS, compact],
        )

    return views


def test_a_steady_job_shows_its_time_left(pace: Any) -> None:
    """1% every 5 s from the start: about 6 min 40 s left at 100 s (20%)."""
    steps = [(s, job(s // 5)) for s in range(5, 105, 5)]
    last = pace(steps)[-1]
    assert last == {"kind": "time-left", "text": "about 7 min left"}
    assert pace(steps, compact=True)[-1]["text"] == "~7 min left"


def test_progress_still_for_the_stall_time_is_a_stall_until_it_moves(pace: Any) -> None:
    """Stalled after 120 s of still progress (the page's own view of it), said in
    minutes as it grows; cleared at once when progress moves again."""
    steps = [(s, job(s // 5)) for s in range(5, 65, 5)]  # 12% at 60 s, then nothing moves
    steps += [(60 + 119, None), (60 + 120, None), (60 + 200, None), (60 + 3700, job(12))]
    steps += [(60 + 3705, job(13))]
    views = pace(steps)
    assert views[-5]["kind"] != "stalled", "119 s: not yet"
    assert views[-4] == {"kind": "stalled", "text": "No progress for 2 min"}
    assert views[-3] == {"kind": "stalled", "text": "No progress for 3 min"}
    assert views[-2] == {"kind": "stalled", "text": "No progress for 1 h 1 min"}, "the same progress again: still"
    assert views[-1]["kind"] != "stalled", "moved: cleared"


def test_after_a_reload_the_api_says_when_progress_last_moved(pace: Any) -> None:
    """A page that loads a job whose progress last moved 10 min ago shows the stall at once."""
    views = pace([(900, job(40, moved=300))])
    assert views == [{"kind": "stalled", "text": "No progress for 10 min"}]


def test_a_change_the_page_saw_counts_from_the_page_clock(pace: Any) -> None:
    """Only the first look trusts the server's time: a server clock 10 min behind the
    browser's cannot make a job the page sees moving look stalled."""
    steps = [(600, job(10, moved=0)), (605, job(11, moved=5)), (610, None)]
    assert [view["kind"] for view in pace(steps)] == ["stalled", "time-left", "time-left"]


def test_without_progress_updated_at_the_page_counts_from_what_it_saw(pace: Any) -> None:
    """A store that does not know (null): the stall counts from when the page first saw
    that progress, so a fresh page shows none at once."""
    fresh, later = pace([(900, job(40)), (900 + 60, None)])
    assert fresh == {"kind": "time-left", "text": "about 23 min left"}, "seeded from started_at"
    assert later["kind"] != "stalled"
    assert pace([(900, job(40)), (900 + 120, None)])[-1] == {"kind": "stalled", "text": "No progress for 2 min"}


def test_no_progress_data_no_pace_and_an_ended_job_none(pace: Any) -> None:
    """A running job that reports no progress has neither time left nor a stall; a job
    that ended says nothing."""
    assert pace([(10, job(None)), (1000, None)])[-1] == {"kind": "none", "text": ""}
    steps = [(s, job(s // 5)) for s in range(5, 105, 5)] + [(110, job(22, status="completed"))]
    assert pace(steps)[-1] == {"kind": "none", "text": ""}


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "No progress for 0 s"),
        (59_999, "No progress for 59 s"),
        (120_000, "No progress for 2 min"),
        (179_999, "No progress for 2 min"),
        (3_600_000, "No progress for 1 h"),
        (3_900_000, "No progress for 1 h 5 min"),
    ],
)
def test_stall_words(page: Any, harness: HarnessHTTPServer, ms: int, text: str) -> None:
    open_module_page(page, harness.base)
    assert page.evaluate("async (ms) => (await import('/js/job_pace.js')).formatStall(ms)", ms) == text
