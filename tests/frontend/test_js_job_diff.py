"""job_diff.js in the browser: what changed between two polls, and which rows may stay."""

from __future__ import annotations

from typing import Any

import pytest

# Pure logic (no engine API beyond the language): Chromium only.
pytestmark = [pytest.mark.browser, pytest.mark.engines("chromium")]

DIFF = """async ([previous, jobs]) => {
  const { diffJobs, isEmptyDiff } = await import("/js/job_diff.js");
  const diff = diffJobs(new Map(previous.map((job) => [job.id, job])), jobs);
  return { ...diff, changed: Object.fromEntries(diff.changed), byId: [...diff.byId.keys()],
           empty: isEmptyDiff(diff) };
}"""


def job(id_: str, **fields: Any) -> dict[str, Any]:
    return {"id": id_, "status": "queued", "progress_percent": 0, "duration_seconds": None, **fields}


@pytest.fixture
def harness(page: Any, module_base: str) -> Any:
    page.goto(f"{module_base}/")
    return page


def test_identical_lists_make_an_empty_diff(harness: Any) -> None:
    jobs = [job("a"), job("b", status="running", progress_percent=12.5)]
    diff = harness.evaluate(DIFF, [jobs, [dict(j) for j in jobs]])
    assert diff["empty"] is True
    assert diff["added"] == diff["removed"] == [] and diff["changed"] == {}
    assert diff["order"] == ["a", "b"] and diff["orderChanged"] is False


def test_changed_fields_are_named_per_job(harness: Any) -> None:
    before = [job("a"), job("b")]
    after = [job("a", status="running", progress_percent=3.5), job("b")]
    diff = harness.evaluate(DIFF, [before, after])
    assert diff["changed"] == {"a": ["status", "progress_percent"]}
    assert diff["empty"] is False and diff["orderChanged"] is False


def test_null_to_value_and_a_field_on_one_side_count_as_changes(harness: Any) -> None:
    before = [job("a", started_at=None)]
    after = [job("a", started_at="2024-01-01T00:00:00Z", extra=1)]
    diff = harness.evaluate(DIFF, [before, after])
    assert sorted(diff["changed"]["a"]) == ["extra", "started_at"]


def test_added_and_removed_in_display_order(harness: Any) -> None:
    before = [job("b"), job("c"), job("d")]
    after = [job("a"), job("b"), job("x"), job("d")]
    diff = harness.evaluate(DIFF, [before, after])
    assert diff["added"] == ["a", "x"]
    assert diff["removed"] == ["c"]
    assert diff["order"] == diff["byId"] == ["a", "b", "x", "d"]
    # b and d kept their relative order: inserting around them is not a reorder.
    assert diff["orderChanged"] is False


def test_reordered_rows_are_an_order_change(harness: Any) -> None:
    diff = harness.evaluate(DIFF, [[job("a"), job("b")], [job("b"), job("a")]])
    assert diff["orderChanged"] is True and diff["empty"] is False
    assert diff["changed"] == {} and diff["added"] == diff["removed"] == []


def test_first_poll_adds_everything(harness: Any) -> None:
    diff = harness.evaluate(DIFF, [[], [job("a"), job("b")]])
    assert diff["added"] == ["a", "b"] and diff["removed"] == []


@pytest.mark.parametrize(
    ("current", "wanted", "stays"),
    [
        (["a", "b", "c"], ["a", "b", "c"], {"a", "b", "c"}),
        # One row moved from first to last: only that row moves.
        (["a", "b", "c", "d"], ["b", "c", "d", "a"], {"b", "c", "d"}),
        # New ids (absent from current) never count as staying.
        (["a", "c"], ["a", "b", "c"], {"a", "c"}),
        # Reversal: only one row can stay.
        (["a", "b", "c"], ["c", "b", "a"], None),
        ([], ["a"], set()),
    ],
)
def test_stable_ids_keep_the_longest_run_in_order(
    harness: Any, current: list[str], wanted: list[str], stays: set[str] | None
) -> None:
    stable = harness.evaluate(
        """async ([current, wanted]) => {
          const { stableIds } = await import("/js/job_diff.js");
          return [...stableIds(current, wanted)];
        }""",
        [current, wanted],
    )
    if stays is None:
        assert len(stable) == 1
    else:
        assert set(stable) == stays
