"""frontend/js/format.js: display formatting, deterministic in the real Chromium.

Each test checks a table of cases in one page evaluation; a failure shows the cases whose
result differs.
"""

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
def fmt(page: Any, harness: HarnessHTTPServer) -> Any:
    """fmt(name, [args, ...]) -> [format.js's name(...args) for each args], in the page."""
    open_module_page(page, harness.base)

    def run(name: str, cases: list[list[Any]]) -> list[Any]:
        return page.evaluate(
            """async ([name, cases]) => {
                const m = await import("/js/format.js");
                return cases.map((args) => m[name](...args));
            }""",
            [name, cases],
        )

    return run


def check(fmt: Any, name: str, table: list[tuple[list[Any], Any]]) -> None:
    """Assert name(*args) == expected for each row; report every mismatch at once."""
    results = fmt(name, [args for args, _ in table])
    wrong = [(args, expected, got) for (args, expected), got in zip(table, results, strict=True) if got != expected]
    assert not wrong, "\n".join(f"{name}{tuple(a)}: expected {e!r}, got {g!r}" for a, e, g in wrong)


def test_format_count(fmt: Any) -> None:
    """Grouped whole numbers; a missing value is a dash; a locale can be passed."""
    check(
        fmt,
        "formatCount",
        [
            ([0], "0"),
            ([7], "7"),
            ([1234], "1,234"),
            ([1234567], "1,234,567"),
            ([12.6], "13"),
            (["42"], "42"),
            ([None], "—"),
            (["x"], "—"),
            ([1234567, "de"], "1.234.567"),
        ],
    )


def test_format_range(fmt: Any) -> None:
    """The pagination text ("51–100 of 1,234"); an empty list says "No jobs" (or `empty`)."""
    check(
        fmt,
        "formatRange",
        [
            ([50, 50, 1234], "51–100 of 1,234"),
            ([0, 50, 1234], "1–50 of 1,234"),
            ([1200, 34, 1234], "1,201–1,234 of 1,234"),
            ([0, 1, 1], "1 of 1"),
            ([0, 0, 0], "No jobs"),
            ([0, 0, 0, {"empty": "0 of 0"}], "0 of 0"),
            ([100, 0, 40], "0 of 40"),  # an offset past the end
            ([None, None, None], "No jobs"),
        ],
    )


def test_format_duration(fmt: Any) -> None:
    """Durations in the two largest units ("3 min 05 s", "2 h 03 min")."""
    check(
        fmt,
        "formatDuration",
        [
            ([0], "0 s"),
            ([0.4], "< 1 s"),
            ([45], "45 s"),
            ([45.9], "45 s"),
            ([59], "59 s"),
            ([60], "1 min 00 s"),
            ([185], "3 min 05 s"),
            ([3599], "59 min 59 s"),
            ([3600], "1 h 00 min"),
            ([7380], "2 h 03 min"),
            ([93784], "1 d 02 h"),
            ([None], "—"),
            ([-5], "—"),
            (["abc"], "—"),
        ],
    )


def test_format_ago(fmt: Any) -> None:
    """Relative ages, floored; "just now" under a second (and for clock skew)."""
    check(
        fmt,
        "formatAgo",
        [
            ([0], "just now"),
            ([999], "just now"),
            ([-3000], "just now"),
            ([1000], "1 s ago"),
            ([12_500], "12 s ago"),
            ([59_999], "59 s ago"),
            ([60_000], "1 min ago"),
            ([185_000], "3 min ago"),
            ([7_200_000], "2 h ago"),
            ([4 * 86_400_000], "4 d ago"),
            ([None], ""),
        ],
    )


def test_format_timestamp(fmt: Any) -> None:
    """A short date-time in the given zone; the full ISO text for the title."""
    rows = [
        ("2025-11-29T14:03:12Z", "UTC", "Nov 29, 2025, 14:03:12"),
        ("2025-11-29T14:03:12+00:00", "UTC", "Nov 29, 2025, 14:03:12"),
        ("2025-11-29T14:03:12.123456+00:00", "UTC", "Nov 29, 2025, 14:03:12"),
        ("2025-11-29T14:03:12Z", "Europe/Paris", "Nov 29, 2025, 15:03:12"),
        ("2025-11-29T23:30:00-05:00", "Asia/Tokyo", "Nov 30, 2025, 13:30:00"),
        ("2025-01-05T00:00:00Z", "UTC", "Jan 5, 2025, 00:00:00"),
    ]
    check(
        fmt, "formatTimestamp", [([iso, {"timeZone": zone}], {"text": text, "title": iso}) for iso, zone, text in rows]
    )


def test_format_timestamp_missing_and_invalid(fmt: Any) -> None:
    """Missing: a dash; unparsable: shown as given (as text), no title; bad zone: local."""
    check(
        fmt,
        "formatTimestamp",
        [
            ([None], {"text": "—", "title": ""}),
            ([""], {"text": "—", "title": ""}),
            (["yesterday"], {"text": "yesterday", "title": ""}),
        ],
    )
    local, bad_zone = fmt(
        "formatTimestamp", [["2025-11-29T14:03:12Z"], ["2025-11-29T14:03:12Z", {"timeZone": "Not/AZone"}]]
    )
    assert bad_zone == local  # an unknown zone falls back to the browser's


def test_format_percent(fmt: Any) -> None:
    """Progress percentages, one decimal at most, floored (99.96 is not "100%"), clamped."""
    check(
        fmt,
        "formatPercent",
        [
            ([0], "0%"),
            ([25], "25%"),
            ([99.5], "99.5%"),
            ([33.333], "33.3%"),
            ([0.57], "0.5%"),
            ([99.96], "99.9%"),
            ([100], "100%"),
            ([150], "100%"),
            ([-3], "0%"),
            ([None], "—"),
        ],
    )


def test_format_bytes(fmt: Any) -> None:
    """Binary units, one decimal past bytes, rounded (never "1,024.0 KiB")."""
    check(
        fmt,
        "formatBytes",
        [
            ([0], "0 B"),
            ([1023], "1,023 B"),
            ([1024], "1.0 KiB"),
            ([1536], "1.5 KiB"),
            ([1_258_291], "1.2 MiB"),
            ([4 * 1024**2], "4.0 MiB"),
            ([1024**2 - 1], "1.0 MiB"),
            ([1024**2 - 60], "1,023.9 KiB"),
            ([5 * 1024**3], "5.0 GiB"),
            ([3 * 1024**5], "3.0 PiB"),
            ([None], "—"),
            ([-1], "—"),
            (["x"], "—"),
        ],
    )


def test_format_media_time(fmt: Any) -> None:
    """Media time as players show it: m:ss, and h:mm:ss past an hour."""
    check(
        fmt,
        "formatMediaTime",
        [
            ([0], "0:00"),
            ([23], "0:23"),
            ([23.9], "0:23"),
            ([60], "1:00"),
            ([605], "10:05"),
            ([3599], "59:59"),
            ([3600], "1:00:00"),
            ([3725], "1:02:05"),
            ([36_000 + 59], "10:00:59"),
            ([None], "—"),
            ([-1], "—"),
        ],
    )


def test_format_progress_by_unit(fmt: Any) -> None:
    """Counts in the words of their unit: files as today, seconds as media time, bytes
    in binary units, any other unit after the counts; no unit means files."""
    check(
        fmt,
        "formatProgress",
        [
            ([1417, 3000, "files"], "1,417 of 3,000 files"),
            ([1417, 3000], "1,417 of 3,000 files"),
            ([1417, 3000, None], "1,417 of 3,000 files"),
            ([1417, 3000, ""], "1,417 of 3,000 files"),
            ([23, 60, "seconds"], "0:23 of 1:00"),
            ([1830, 5400, "seconds"], "30:30 of 1:30:00"),
            ([1_258_291, 4 * 1024**2, "bytes"], "1.2 MiB of 4.0 MiB"),
            ([512, 2048, "bytes"], "512 B of 2.0 KiB"),
            ([5, 9, "items"], "5 of 9 items"),
            ([5, 9, "frames"], "5 of 9 frames"),
            ([1234, 5678, "Episodes"], "1,234 of 5,678 Episodes"),
            # A unit is data: anything but a short plain word is left out.
            ([5, 9, "<img src=x onerror=alert(1)>"], "5 of 9"),
            ([5, 9, "x" * 40], "5 of 9"),
        ],
    )


def test_format_progress_parts(fmt: Any) -> None:
    """The pieces the job page writes into its own elements; "" unit when the numbers carry it."""
    check(
        fmt,
        "formatProgressParts",
        [
            ([1417, 3000, "files"], {"processed": "1,417", "total": "3,000", "unit": "files"}),
            ([23, 60, "seconds"], {"processed": "0:23", "total": "1:00", "unit": ""}),
            ([1024, 4096, "bytes"], {"processed": "1.0 KiB", "total": "4.0 KiB", "unit": ""}),
            ([5, 9, "items"], {"processed": "5", "total": "9", "unit": "items"}),
        ],
    )
