"""frontend/js/job_progress.js: the counts, bar input and sentence of the detail page."""

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
def call(page: Any, harness: HarnessHTTPServer) -> Any:
    """call(name, job) -> job_progress.js's name(job), in the page."""
    open_module_page(page, harness.base)

    def run(name: str, job: dict[str, Any]) -> Any:
        return page.evaluate('async ([name, job]) => (await import("/js/job_progress.js"))[name](job)', [name, job])

    return run


def job(
    status: str = "running",
    percent: float = 0,
    processed: Any = None,
    total: Any = None,
    summary: Any = None,
    unit: Any = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "progress_percent": percent,
        "processed_count": processed,
        "total_count": total,
        "progress_unit": unit,
        "summary_raw": summary,
    }


def test_the_apis_counts_come_first(call: Any) -> None:
    counts = call("progressCounts", job(processed=25, total=100, summary={"processed": 1, "total": 2}))
    assert counts == {"processed": 25, "total": 100, "unit": "files", "source": "progress"}


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ({"processed": 3, "total": 9}, (3, 9)),
        ({"files_scanned": 40, "files_found": 41}, (40, 41)),
        ({"items_processed": 2, "items_total": 2, "unit": "items"}, (2, 2)),
        ({"processed": -1, "total": 9}, None),
        ({"processed": 1.5, "total": 9}, None),
        ({"processed": "3", "total": "9"}, None),
        ([3, 9], None),
        (None, None),
    ],
)
def test_counts_fall_back_to_the_summary(call: Any, summary: Any, expected: Any) -> None:
    counts = call("progressCounts", job("completed", summary=summary))
    assert (None if counts is None else (counts["processed"], counts["total"])) == expected
    if counts is not None:
        assert counts["source"] == "summary"


def test_a_plain_unit_from_the_summary_is_used_anything_else_is_files(call: Any) -> None:
    assert call("progressUnit", job(summary={"unit": "episodes"})) == "episodes"
    # The API's progress_unit comes first.
    assert call("progressUnit", job(unit="seconds", summary={"unit": "episodes"})) == "seconds"
    assert call("progressUnit", job(unit="<b>x</b>", summary={"unit": "episodes"})) == "episodes"
    assert call("progressUnit", job(summary={"unit": "<b>x</b>"})) == "files"
    assert call("progressUnit", job(summary={"unit": 3})) == "files"
    assert call("progressUnit", {"status": "running"}) == "files"


def test_the_bar_input_is_the_apis_fields_or_the_summarys_counts(call: Any) -> None:
    assert call("progressInput", job(percent=25, processed=25, total=100)) == {
        "status": "running",
        "progress_percent": 25,
        "processed_count": 25,
        "total_count": 100,
        "progress_unit": "files",
    }
    # Counts from the summary give the percentage when the API has none.
    assert call("progressInput", job("completed", summary={"processed": 1, "total": 4})) == {
        "status": "completed",
        "progress_percent": 25,
        "processed_count": 1,
        "total_count": 4,
        "progress_unit": "files",
    }
    assert call("progressInput", job("running")) == {
        "status": "running",
        "progress_percent": 0,
        "processed_count": None,
        "total_count": None,
        "progress_unit": None,
    }


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (job("running", 25, 25, 100), "Processing 25 of 100 files"),
        (job("running", 41, 1234, 3000), "Processing 1,234 of 3,000 files"),
        (job("completed", 100, 100, 100), "Processed 100 of 100 files"),
        (job("failed", 30, 37, 120), "Stopped after 37 of 120 files"),
        (job("cancelled", 0, 0, 5), "Stopped after 0 of 5 files"),
        (job("running"), "Starting — no progress reported yet"),
        (job("running", 40), "In progress"),
        (job("failed", 40), ""),
        (job("queued"), "Waiting to start"),
        (job("completed"), ""),
        (job("completed", summary={"files_scanned": 2, "files_found": 2}), "Processed 2 of 2 files"),
        (job("running", 38.33, 23, 60, unit="seconds"), "Processing 0:23 of 1:00"),
        (job("completed", 100, 5400, 5400, unit="seconds"), "Processed 1:30:00 of 1:30:00"),
        (job("running", 30, 1_258_291, 4 * 1024**2, unit="bytes"), "Processing 1.2 MiB of 4.0 MiB"),
        (job("failed", 55, 5, 9, unit="items"), "Stopped after 5 of 9 items"),
    ],
)
def test_the_sentence_says_how_far(call: Any, fields: dict[str, Any], text: str) -> None:
    sentence = call("progressSentence", fields)
    assert sentence["text"] == text
    if sentence["counts"]:
        counts = sentence["counts"]
        unit = f" {counts['unit']}" if counts["unit"] else ""
        assert f"{sentence['verb']} {counts['processed']} of {counts['total']}{unit}" == text
