"""Ages written the way people say them: ``90d``, ``12h``, ``2w``."""

from __future__ import annotations

import re

#: Seconds in each unit an age may be written in.
AGE_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: The longest age accepted: 100 years. Far beyond any retention anyone asks for, and
#: small enough that "now minus the age" is always a date Python can represent.
AGE_MAX_S = 36500 * 86400

# A sign is matched so that "-5d" is told "more than zero" rather than "not a number".
_AGE = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))([a-z])")
_RULE = f"a number and a unit ({', '.join(AGE_UNITS)}), like 90d or 12h"


def parse_age(text: str) -> float:
    """Given an age like ``90d``, ``12h``, ``30m``, ``45s`` or ``2w``, return it in seconds.

    The number may have a fraction; the unit is required. ValueError names what was given
    and what is allowed.

    >>> parse_age("90d")
    7776000.0
    >>> parse_age("1.5h")
    5400.0
    >>> parse_age("2w") == parse_age("14d")
    True
    >>> parse_age("abc")
    Traceback (most recent call last):
    ...
    ValueError: age must be a number and a unit (s, m, h, d, w), like 90d or 12h; got 'abc'
    >>> parse_age("0d")
    Traceback (most recent call last):
    ...
    ValueError: age must be more than zero; got '0d'
    """
    match = _AGE.fullmatch(text.strip())
    if match is None or match[2] not in AGE_UNITS:
        raise ValueError(f"age must be {_RULE}; got {text!r}")
    seconds = float(match[1]) * AGE_UNITS[match[2]]
    if seconds <= 0:
        raise ValueError(f"age must be more than zero; got {text!r}")
    if seconds > AGE_MAX_S:
        raise ValueError(f"age must be at most {AGE_MAX_S // 86400}d (100 years); got {text!r}")
    return seconds
