"""frontend/js/log_line.js: a log line split into time (date apart), level and message,
for jobdash's own lines ("<time> <LEVEL> <message>") and VPO's ("[<time>] <message>")."""

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


@pytest.fixture
def parse(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)

    def run(text: Any) -> Any:
        return page.evaluate('async (text) => (await import("/js/log_line.js")).parseLogLine(text)', text)

    return run


def parts(fmt: str, date: str, clock: str, level: str, message: str) -> dict[str, str]:
    return {"format": fmt, "date": date, "clock": clock, "level": level, "message": message}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2026-12-06T13:20:03.323Z INFO found 412 media files",
            parts("jobdash", "2026-12-06T", "13:20:03.323Z", "INFO", "found 412 media files"),
        ),
        (
            "2026-12-06T13:20:03.323Z ERROR E07.mkv: cannot read: Permission denied",
            parts("jobdash", "2026-12-06T", "13:20:03.323Z", "ERROR", "E07.mkv: cannot read: Permission denied"),
        ),
        # A timestamp of another shape keeps its level; the whole of it is the clock.
        ("12:00:01 WARN slow disk", parts("jobdash", "", "12:00:01", "WARN", "slow disk")),
        (
            "[2026-12-06T13:20:03.323968Z] Transcoding video track: h264 -> hevc",
            parts("vpo", "2026-12-06T", "13:20:03.323968Z", "", "Transcoding video track: h264 -> hevc"),
        ),
        # VPO's indented lines keep their indent; an offset instead of Z is a time too.
        (
            "[2026-12-06T13:19:55.462217Z]   Operations: audio_filter",
            parts("vpo", "2026-12-06T", "13:19:55.462217Z", "", "  Operations: audio_filter"),
        ),
        (
            "[2026-12-06T13:19:55+00:00] ERROR: Unknown job type: JobType.APPLY",
            parts("vpo", "2026-12-06T", "13:19:55+00:00", "", "ERROR: Unknown job type: JobType.APPLY"),
        ),
        # A VPO line with nothing after the time (an empty message).
        ("[2026-12-06T13:20:03.323968Z]", parts("vpo", "2026-12-06T", "13:20:03.323968Z", "", "")),
        (
            "[2026-12-06T13:20:03.323968Z] <img src=x onerror=alert(1)>",
            parts("vpo", "2026-12-06T", "13:20:03.323968Z", "", "<img src=x onerror=alert(1)>"),
        ),
    ],
)
def test_lines_of_both_formats_are_split(parse: Any, line: str, expected: dict[str, str]) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "ffmpeg: frame=  552 fps=24",
        "[worker 3] started",  # brackets, but no time in them
        "[2026-12-06] no time of day",
        "[2026-12-06T13:20:03.323968Z]no space after the bracket",
        " [2026-12-06T13:20:03.323968Z] indented before the bracket",
        "2026-12-06T13:20:03.323Z NOTICE not a level jobdash writes",
        "",
    ],
)
def test_other_lines_are_plain(parse: Any, line: str) -> None:
    assert parse(line) is None


def test_missing_text_is_a_plain_line(parse: Any) -> None:
    assert parse(None) is None


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("13:20:03.323968Z", ["13:20:03.323", "968", "Z"]),  # VPO's microseconds
        ("13:20:03.323968+00:00", ["13:20:03.323", "968", "+00:00"]),
        ("13:20:03.3239", ["13:20:03.323", "9", ""]),
        ("13:20:03.323Z", None),  # jobdash's own: milliseconds only
        ("13:20:03Z", None),
        ("12:00:01", None),
        ("", None),
    ],
)
def test_a_clock_splits_where_the_milliseconds_end(
    page: Any, harness: HarnessHTTPServer, clock: str, expected: Any
) -> None:
    open_module_page(page, harness.base)
    result = page.evaluate('async (clock) => (await import("/js/log_line.js")).splitClock(clock)', clock)
    assert result == expected
    if expected:
        assert "".join(expected) == clock
