"""The ``Prefer: wait=N`` request preference (RFC 7240), as held polls read it (pure).

A client that revalidates with ``If-None-Match`` may add ``Prefer: wait=25``: "if nothing
changed, hold my request up to 25 s before you answer 304". Preferences are hints: a
malformed one is ignored, never an error (RFC 7240 section 2), and a server applies at
most what it allows (the answer's ``Preference-Applied`` says what).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The longest hold a server applies (s); a larger wait is capped to it.
WAIT_MAX_S = 30
#: The shortest meaningful hold (s); ``wait=0`` asks for no hold.
WAIT_MIN_S = 1

# token [ BWS "=" BWS word ] (a quoted word allowed), then parameters after ";".
_PREFERENCE = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("[^"]*"|[^\s;,]*))?')


def wait_seconds(values: Iterable[str], *, cap: int = WAIT_MAX_S) -> int | None:
    """Given the request's ``Prefer`` header values, return the hold to apply in whole
    seconds (1..cap), or None when the client asked for none (or only malformed ones).

    The first ``wait`` preference counts (RFC 7240: a repeated preference's first
    occurrence wins); names are case-insensitive; a value may be quoted.

    >>> wait_seconds(["respond-async, wait=25"]), wait_seconds(["wait=300"]), wait_seconds(["wait=soon"])
    (25, 30, None)
    """
    assert cap >= WAIT_MIN_S, cap
    for header in values:
        for item in header.split(","):
            match = _PREFERENCE.match(item)
            if match is None or match.group(1).lower() != "wait":
                continue
            value = (match.group(2) or "").strip('"')
            if not value.isascii() or not value.isdigit() or len(value) > 6:
                return None
            seconds = int(value)
            return min(seconds, cap) if seconds >= WAIT_MIN_S else None
    return None


def applied_header(seconds: int) -> str:
    """Given the hold applied, return the ``Preference-Applied`` header value.

    >>> applied_header(25)
    'wait=25'
    """
    assert WAIT_MIN_S <= seconds <= WAIT_MAX_S, seconds
    return f"wait={seconds}"
