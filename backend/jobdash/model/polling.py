"""Polling settings: their defaults, valid ranges and parsing, in one place.

The build (``build.py``) writes these into the pages and the server answers them at
``/api/config/polling``; both use these functions, so the rules exist once in Python.
At configuration time an out-of-range number is clamped with a warning and an
unparsable value is an error that names the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POLL_INTERVAL_DEFAULT_MS = 5000
POLL_INTERVAL_MIN_MS = 2000
POLL_INTERVAL_MAX_MS = 60000
LOG_POLL_INTERVAL_DEFAULT_MS = 15000
LOG_POLL_INTERVAL_MAX_MS = 300000
# A running job whose progress has not moved for this long shows a stall warning.
STALL_AFTER_DEFAULT_S = 120
STALL_AFTER_MIN_S = 30
STALL_AFTER_MAX_S = 3600
# With held polls (the server holds a revalidation until the data changes), the least
# time between the starts of two requests of one stream: changes that come in bursts
# reach the page at most this often, and a server or proxy that answers held requests
# at once cannot make the page ask in a tight loop.
MIN_UPDATE_GAP_DEFAULT_MS = 1000
MIN_UPDATE_GAP_MIN_MS = 250
MIN_UPDATE_GAP_MAX_MS = 10000

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ConfigError(ValueError):
    """A configuration value cannot be parsed; the message names the key."""


@dataclass(frozen=True)
class PollingConfig:
    """How often pages poll: the status interval, the log interval, and the switch."""

    interval_ms: int = POLL_INTERVAL_DEFAULT_MS
    log_interval_ms: int = LOG_POLL_INTERVAL_DEFAULT_MS
    enabled: bool = True

    def as_api(self) -> dict[str, object]:
        """Return the ``GET /api/config/polling`` body."""
        return {
            "interval_ms": self.interval_ms,
            "log_interval_ms": self.log_interval_ms,
            "enabled": self.enabled,
        }


def parse_bool(key: str, value: str | bool) -> bool:
    """Given a config value, return it as a bool or raise ConfigError naming ``key``.

    >>> parse_bool("polling_enabled", "false"), parse_bool("debug", "1")
    (False, True)
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{key} must be true or false (or 1/0, yes/no, on/off); got {value!r}")


def parse_int(key: str, value: str | int) -> int:
    """Given a config value, return it as an int or raise ConfigError naming ``key``.

    >>> parse_int("poll_interval_ms", " 2000 ")
    2000
    """
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be a whole number; got {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ConfigError(f"{key} must be a whole number; got {value!r}")
    return int(text)


def clamp(key: str, value: int, low: int, high: int, warnings: list[str]) -> int:
    """Given a number, return it clamped to [low, high], noting a warning if it moved.

    >>> w = []; clamp("poll_interval_ms", 500, 2000, 60000, w), w
    (2000, ['poll_interval_ms=500 is out of range 2000-60000; using 2000'])
    """
    clamped = min(max(value, low), high)
    if clamped != value:
        warnings.append(f"{key}={value} is out of range {low}-{high}; using {clamped}")
    return clamped


def polling_config(
    interval_ms: str | int = POLL_INTERVAL_DEFAULT_MS,
    log_interval_ms: str | int = LOG_POLL_INTERVAL_DEFAULT_MS,
    enabled: str | bool = True,
) -> tuple[PollingConfig, list[str]]:
    """Given raw values, return (a valid PollingConfig, warnings about clamped values).

    Raises ConfigError for a value that cannot be parsed at all.

    >>> polling_config(999999, 15000)[0].interval_ms
    60000
    """
    warnings: list[str] = []
    interval = clamp(
        "poll_interval_ms",
        parse_int("poll_interval_ms", interval_ms),
        POLL_INTERVAL_MIN_MS,
        POLL_INTERVAL_MAX_MS,
        warnings,
    )
    log_interval = clamp(
        "log_poll_interval_ms",
        parse_int("log_poll_interval_ms", log_interval_ms),
        interval,
        max(interval, LOG_POLL_INTERVAL_MAX_MS),
        warnings,
    )
    return (
        PollingConfig(interval, log_interval, parse_bool("polling_enabled", enabled)),
        warnings,
    )


def stall_after(value: str | int, warnings: list[str]) -> int:
    """Given the raw ``stall_after_s``, return it clamped to 30-3600 s (noting a warning).

    Raises ConfigError for a value that cannot be parsed at all.

    >>> w = []; stall_after("10", w), w
    (30, ['stall_after_s=10 is out of range 30-3600; using 30'])
    """
    return clamp("stall_after_s", parse_int("stall_after_s", value), STALL_AFTER_MIN_S, STALL_AFTER_MAX_S, warnings)


def min_update_gap(value: str | int, warnings: list[str]) -> int:
    """Given the raw ``min_update_gap_ms``, return it clamped to 250-10000 ms (noting a warning).

    Raises ConfigError for a value that cannot be parsed at all.

    >>> w = []; min_update_gap("100", w), w
    (250, ['min_update_gap_ms=100 is out of range 250-10000; using 250'])
    """
    return clamp(
        "min_update_gap_ms",
        parse_int("min_update_gap_ms", value),
        MIN_UPDATE_GAP_MIN_MS,
        MIN_UPDATE_GAP_MAX_MS,
        warnings,
    )
