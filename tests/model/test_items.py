"""Job rows as the API shows them (jobdash.model.items)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobdash.model.items import detail_item, human_bytes, list_item, progress_counts, summary_text
from support.contract import DETAIL_EXTRA, LIST_FIELDS

JOB_ID = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"


def row(**overrides: Any) -> dict[str, Any]:
    """Return a full jobs row (as the store gives it) with some columns overridden."""
    base: dict[str, Any] = {
        "id": JOB_ID,
        "file_path": "/media/Movies",
        "job_type": "scan",
        "status": "queued",
        "priority": 100,
        "policy_name": None,
        "created_at": "2026-01-02T03:04:05.000Z",
        "started_at": None,
        "completed_at": None,
        "progress_percent": 0,
        "progress_json": None,
        "worker_pid": None,
        "worker_heartbeat": None,
        "output_path": None,
        "error_message": None,
        "summary_json": None,
        "log_path": None,
        "progress_updated_at": None,
    }
    base.update(overrides)
    return base


SCAN_SUMMARY = {
    "files_found": 3,
    "files_scanned": 3,
    "errors": 0,
    "bytes": 2048,
    "containers": {"matroska": 2, "mp4": 1},
    "elapsed_seconds": 1.5,
}


def test_list_item_has_exactly_the_contract_fields() -> None:
    """JobListItem carries the documented fields and nothing else."""
    assert set(list_item(row())) == LIST_FIELDS


def test_detail_item_is_list_item_plus_detail_fields() -> None:
    """JobDetailItem adds the documented detail fields to the list fields."""
    item = detail_item(row(priority=7, policy_name="nightly"), has_logs=True)
    assert set(item) == LIST_FIELDS | DETAIL_EXTRA
    assert item["id_short"] == JOB_ID[:8]
    assert (item["priority"], item["policy_name"], item["has_logs"]) == (7, "nightly", True)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_duration_is_null_until_the_job_ends(status: str) -> None:
    """A queued or running job has no duration, even with a start time."""
    item = list_item(row(status=status, started_at="2026-01-02T03:04:05Z", completed_at="2026-01-02T03:05:05Z"))
    assert item["duration_seconds"] is None


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_duration_of_a_terminal_job(status: str) -> None:
    """A finished job's duration is completed minus started, in seconds."""
    item = list_item(
        row(status=status, started_at="2026-01-02T03:04:05.250Z", completed_at="2026-01-02T03:05:35.750+00:00")
    )
    assert item["duration_seconds"] == 90.5


def test_duration_null_for_a_job_cancelled_before_it_started() -> None:
    """A job cancelled while queued never started, so it has no duration."""
    item = list_item(row(status="cancelled", completed_at="2026-01-02T03:05:00Z"))
    assert item["duration_seconds"] is None


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05.678Z"),
        ("2026-01-02T03:04:05.678+00:00", "2026-01-02T03:04:05.678Z"),
        ("2026-01-02T03:04:05.678901+00:00", "2026-01-02T03:04:05.678Z"),
        ("2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05", "2026-01-02T03:04:05.000Z"),
        ("not a time", "not a time"),
    ],
)
def test_timestamps_are_normalised_to_utc_z(stored: str, shown: str) -> None:
    """`Z` and `+00:00` (and naive legacy values) all come out as UTC `...Z`; junk is passed through."""
    item = list_item(row(created_at=stored, started_at=stored, completed_at=stored, progress_updated_at=stored))
    assert item["created_at"] == item["started_at"] == item["completed_at"] == shown
    assert item["progress_updated_at"] == shown


def test_missing_timestamps_stay_null() -> None:
    """A job that has not started has null started_at and completed_at."""
    item = list_item(row())
    assert item["started_at"] is None and item["completed_at"] is None


def test_progress_updated_at_is_null_when_unknown() -> None:
    """No progress report yet, or a row without the column (a store that does not record
    it): null, in the list item and the detail item alike."""
    assert list_item(row())["progress_updated_at"] is None
    without = {key: value for key, value in row(status="running").items() if key != "progress_updated_at"}
    assert list_item(without)["progress_updated_at"] is None
    assert detail_item(without, has_logs=False)["progress_updated_at"] is None


def test_progress_updated_at_is_shown_in_list_and_detail_items() -> None:
    """A running job's last progress change reaches both items, as UTC ``...Z``."""
    running = row(
        status="running",
        started_at="2026-01-02T03:04:05.000Z",
        progress_json=json.dumps({"processed": 2, "total": 9, "unit": "files"}),
        progress_updated_at="2026-01-02T03:06:05.5+00:00",
    )
    assert list_item(running)["progress_updated_at"] == "2026-01-02T03:06:05.500Z"
    assert detail_item(running, has_logs=True)["progress_updated_at"] == "2026-01-02T03:06:05.500Z"


def test_progress_counts_and_percent() -> None:
    """processed/total come from progress_json; the percent is rounded to 2 places."""
    item = list_item(
        row(
            status="running",
            progress_percent=33.33333,
            progress_json=json.dumps({"processed": 1, "total": 3, "unit": "files"}),
        )
    )
    assert (item["processed_count"], item["total_count"], item["progress_percent"]) == (1, 3, 33.33)


@pytest.mark.parametrize(
    ("progress_json", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("not json", (None, None)),
        ("[1, 2]", (None, None)),
        ('"text"', (None, None)),
        ('{"processed": -1, "total": 3}', (None, 3)),
        ('{"processed": true, "total": false}', (None, None)),
        ('{"processed": 1.5, "total": "3"}', (None, None)),
    ],
)
def test_bad_progress_json_gives_null_counts(
    progress_json: str | None, expected: tuple[int | None, int | None]
) -> None:
    """Missing, malformed or nonsensical progress data gives null counts, never an error."""
    assert progress_counts(row(progress_json=progress_json)) == expected


def test_null_progress_percent_is_zero() -> None:
    """A row written by another process with a NULL percent shows 0."""
    assert list_item(row(progress_percent=None))["progress_percent"] == 0


def test_detail_summary_text_and_raw() -> None:
    """The detail item gives the summary as a sentence and as the raw object."""
    item = detail_item(row(status="completed", summary_json=json.dumps(SCAN_SUMMARY)), has_logs=False)
    assert item["summary_raw"] == SCAN_SUMMARY
    assert item["summary"] == "Scanned 3 of 3 files (2.0 KiB) in 1.5 s: 2 matroska, 1 mp4; no errors."


@pytest.mark.parametrize("summary_json", [None, "", "{bad", "[1]", "null"])
def test_detail_with_bad_summary_json(summary_json: str | None) -> None:
    """Malformed or non-object summary_json gives null summary fields rather than an error."""
    item = detail_item(row(summary_json=summary_json), has_logs=False)
    assert item["summary"] is None and item["summary_raw"] is None


def test_detail_carries_error_and_output() -> None:
    """error_message and output_path pass through unchanged (they are data, not markup)."""
    item = detail_item(row(status="failed", error_message="<b>boom</b>", output_path="/out/x.mkv"), has_logs=True)
    assert (item["error_message"], item["output_path"]) == ("<b>boom</b>", "/out/x.mkv")


def test_summary_text_scan_with_errors_and_plurals() -> None:
    """Counts use thousands separators; error and file counts are pluralised correctly."""
    text = summary_text("scan", {"files_found": 1, "files_scanned": 0, "errors": 1, "bytes": 0})
    assert text == "Scanned 0 of 1 file (0 B); 1 error."
    text = summary_text(
        "scan",
        {
            "files_found": 1234,
            "files_scanned": 1230,
            "errors": 4,
            "bytes": 5 * 1024**3,
            "containers": {"mp4": 30, "matroska": 1200},
        },
    )
    assert text == "Scanned 1,230 of 1,234 files (5.0 GiB): 1,200 matroska, 30 mp4; 4 errors."


def test_summary_text_orders_containers_by_count_then_name() -> None:
    """Containers are listed most frequent first, ties alphabetically."""
    text = summary_text(
        "scan",
        {"files_found": 4, "files_scanned": 4, "errors": 0, "bytes": 10, "containers": {"webm": 1, "avi": 1, "mp4": 2}},
    )
    assert text is not None and ": 2 mp4, 1 avi, 1 webm;" in text


def test_summary_text_tolerates_wrong_types() -> None:
    """Odd values in a summary written elsewhere do not raise."""
    text = summary_text(
        "scan",
        {
            "files_found": "3",
            "files_scanned": None,
            "errors": -2,
            "bytes": 1.5,
            "containers": ["mp4"],
            "elapsed_seconds": "x",
        },
    )
    assert text == "Scanned 0 of 0 files (0 B); no errors."


def test_summary_text_other_job_types() -> None:
    """Other job types list their scalar summary fields; empty summaries give None."""
    assert summary_text("move", {"moved": 3, "target": "/x", "details": {"a": 1}}) == "moved: 3; target: /x"
    assert summary_text("move", {"details": [1]}) is None
    assert summary_text("scan", None) is None
    assert summary_text("scan", {}) is None


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2, "1.0 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**4, "3.0 TiB"),
        (2048 * 1024**4, "2048.0 TiB"),
    ],
)
def test_human_bytes(size: int, text: str) -> None:
    """Byte counts use binary units, TiB being the largest."""
    assert human_bytes(size) == text
