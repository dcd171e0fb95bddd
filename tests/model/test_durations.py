"""Ages like 90d or 12h: parsing, and errors that name what is allowed (jobdash.model.durations)."""

from __future__ import annotations

import pytest

from jobdash.model.durations import AGE_MAX_S, parse_age


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45.0),
        ("30m", 1800.0),
        ("12h", 43200.0),
        ("90d", 90 * 86400.0),
        ("2w", 14 * 86400.0),
        ("1.5h", 5400.0),
        ("0.5d", 43200.0),
        (".5m", 30.0),
        ("3.d", 3 * 86400.0),
        ("+1d", 86400.0),
        (" 90d\n", 90 * 86400.0),
    ],
)
def test_parse_age(text: str, seconds: float) -> None:
    """A number (whole or decimal) and one unit give seconds; spaces around are ignored."""
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "90", "d", "90x", "90D", "90 d", "90dd", "1d2h", "1e3s", "nan", "inf"])
def test_malformed_ages_name_the_rule(text: str) -> None:
    """Anything but a number and one of the units is refused with the rule and the text."""
    with pytest.raises(ValueError) as error:
        parse_age(text)
    message = str(error.value)
    assert "a number and a unit (s, m, h, d, w), like 90d or 12h" in message
    assert message.endswith(f"got {text!r}")


@pytest.mark.parametrize("text", ["0d", "0s", "0.0h", "-5d", "-0.5w"])
def test_zero_and_negative_ages_are_refused(text: str) -> None:
    """An age of zero or less would mean every finished job: refused."""
    with pytest.raises(ValueError, match="more than zero") as error:
        parse_age(text)
    assert repr(text) in str(error.value)


def test_ages_beyond_a_hundred_years_are_refused() -> None:
    """The largest age is 100 years, so "now minus the age" is always a real date."""
    assert parse_age("36500d") == AGE_MAX_S
    for text in ("36501d", "99999999999999999999w"):
        with pytest.raises(ValueError, match=r"at most 36500d \(100 years\)"):
            parse_age(text)
