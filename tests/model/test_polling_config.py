"""Polling settings: defaults, clamping with warnings, and errors naming the key."""

from __future__ import annotations

import pytest

from jobdash.model.polling import (
    LOG_POLL_INTERVAL_DEFAULT_MS,
    POLL_INTERVAL_DEFAULT_MS,
    ConfigError,
    PollingConfig,
    clamp,
    parse_bool,
    parse_int,
    polling_config,
)


def test_defaults() -> None:
    """With no input, pages poll every 5 s, logs every 15 s, and polling is on."""
    config, warnings = polling_config()
    assert config == PollingConfig(5000, 15000, True)
    assert (POLL_INTERVAL_DEFAULT_MS, LOG_POLL_INTERVAL_DEFAULT_MS) == (5000, 15000)
    assert warnings == []


def test_as_api_body() -> None:
    """The /api/config/polling body has exactly the three documented keys."""
    assert PollingConfig(3000, 9000, False).as_api() == {
        "interval_ms": 3000,
        "log_interval_ms": 9000,
        "enabled": False,
    }


def test_below_minimum_is_clamped_to_2000_with_a_warning() -> None:
    """500 ms is too fast: it becomes 2000 and the warning says so."""
    config, warnings = polling_config(500, 15000)
    assert config.interval_ms == 2000
    assert warnings == ["poll_interval_ms=500 is out of range 2000-60000; using 2000"]


def test_above_maximum_is_clamped_to_60000_with_a_warning() -> None:
    """999999 ms is too slow: it becomes 60000; the log interval then rises to match it."""
    config, warnings = polling_config("999999", "15000")
    assert config.interval_ms == 60000
    assert config.log_interval_ms == 60000
    assert warnings[0] == "poll_interval_ms=999999 is out of range 2000-60000; using 60000"
    assert warnings[1] == "log_poll_interval_ms=15000 is out of range 60000-300000; using 60000"


@pytest.mark.parametrize("value", [2000, 60000, "2000", " 60000 "])
def test_range_ends_are_valid(value: int | str) -> None:
    """2000 and 60000 are inside the range: no warning."""
    config, warnings = polling_config(value, 60000)
    assert config.interval_ms == int(str(value).strip())
    assert warnings == []


def test_log_interval_never_below_poll_interval() -> None:
    """A log interval shorter than the status interval is raised to it, with a warning."""
    config, warnings = polling_config(10000, 3000)
    assert config.log_interval_ms == 10000
    assert warnings == ["log_poll_interval_ms=3000 is out of range 10000-300000; using 10000"]


def test_log_interval_has_an_upper_bound() -> None:
    """A log interval above 300000 ms is clamped."""
    config, warnings = polling_config(5000, 10**9)
    assert config.log_interval_ms == 300000
    assert len(warnings) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        (True, True),
        ("false", False),
        (" False ", False),
        ("0", False),
        ("no", False),
        ("off", False),
        (False, False),
    ],
)
def test_parse_bool_accepts_common_spellings(raw: str | bool, expected: bool) -> None:
    """true/false, 1/0, yes/no and on/off are all understood, in any case."""
    assert parse_bool("polling_enabled", raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "", "2", "tru"])
def test_parse_bool_rejects_other_text_naming_the_key(raw: str) -> None:
    """An unparsable boolean is a ConfigError naming the key and the accepted spellings."""
    with pytest.raises(ConfigError) as excinfo:
        parse_bool("polling_enabled", raw)
    message = str(excinfo.value)
    assert message.startswith("polling_enabled must be true or false")
    assert repr(raw) in message


@pytest.mark.parametrize("raw", ["fast", "", "5s", "1.5", "1e3", "\u0663\u0660\u0660\u0660", "--5", "-", "5-"])
def test_unparsable_interval_is_a_config_error_naming_the_key(raw: str) -> None:
    """An interval that is not a whole number is an error that names poll_interval_ms."""
    with pytest.raises(ConfigError) as excinfo:
        polling_config(raw)
    assert str(excinfo.value).startswith("poll_interval_ms must be a whole number")


def test_unparsable_log_interval_names_its_own_key() -> None:
    """The error names log_poll_interval_ms when that is the bad value."""
    with pytest.raises(ConfigError, match="^log_poll_interval_ms must be a whole number; got 'x'$"):
        polling_config(5000, "x")


def test_unparsable_enabled_names_its_key() -> None:
    """The error names polling_enabled when that is the bad value."""
    with pytest.raises(ConfigError, match="^polling_enabled "):
        polling_config(5000, 15000, "perhaps")


def test_bool_is_not_an_interval() -> None:
    """True is not silently read as 1 ms."""
    with pytest.raises(ConfigError, match="^poll_interval_ms must be a whole number; got True$"):
        parse_int("poll_interval_ms", True)


def test_negative_interval_parses_then_clamps() -> None:
    """A negative number is a number: it is clamped up to 2000 with a warning."""
    config, warnings = polling_config("-5")
    assert config.interval_ms == 2000
    assert warnings == ["poll_interval_ms=-5 is out of range 2000-60000; using 2000"]


def test_clamp_leaves_in_range_values_alone() -> None:
    """clamp() only warns when it moves a value."""
    warnings: list[str] = []
    assert clamp("k", 5, 1, 10, warnings) == 5
    assert warnings == []
