"""The Prefer: wait=N preference of held polls (jobdash.model.prefer)."""

from __future__ import annotations

import pytest

from jobdash.model.prefer import WAIT_MAX_S, applied_header, wait_seconds


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["wait=25"], 25),
        (["WAIT=25"], 25),
        (["wait = 25"], 25),
        (['wait="10"'], 10),
        (["respond-async, wait=5"], 5),
        (["handling=lenient; foo=bar, wait=7"], 7),
        (["wait=1"], 1),
        (["wait=30"], 30),
        (["wait=31"], WAIT_MAX_S),
        (["wait=999999"], WAIT_MAX_S),
        (["wait=25", "wait=3"], 25),  # the first occurrence wins
        (["respond-async", "wait=4"], 4),  # several Prefer headers
    ],
)
def test_a_wait_preference_is_read_and_capped(values: list[str], expected: int) -> None:
    assert wait_seconds(values) == expected


@pytest.mark.parametrize(
    "values",
    [
        [],
        [""],
        ["respond-async"],
        ["wait"],
        ["wait="],
        ["wait=0"],
        ["wait=-5"],
        ["wait=2.5"],
        ["wait=soon"],
        ["wait=１０"],  # full-width digits are not delta-seconds
        ["wait=99999999999999999999"],
        ["waiting=10"],
    ],
)
def test_no_or_a_malformed_wait_asks_for_no_hold(values: list[str]) -> None:
    assert wait_seconds(values) is None


def test_a_lower_cap_applies() -> None:
    assert wait_seconds(["wait=25"], cap=10) == 10


def test_the_applied_header_says_the_hold() -> None:
    assert applied_header(25) == "wait=25"
    with pytest.raises(AssertionError):
        applied_header(0)
