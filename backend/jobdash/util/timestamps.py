"""ISO-8601 UTC timestamps as the jobs table stores them."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """Return the current UTC time as ISO-8601 with millisecond precision and ``Z``.

    >>> len(now_iso()) == len("2026-01-02T03:04:05.678Z")
    True
    """
    return to_iso(datetime.now(UTC))


def to_iso(moment: datetime) -> str:
    """Given an aware datetime, return it in UTC as ``YYYY-MM-DDTHH:MM:SS.fffZ``."""
    assert moment.tzinfo is not None, "naive datetimes are ambiguous"
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text: str | None) -> datetime | None:
    """Given a stored timestamp (``Z`` or ``+00:00`` offset), return an aware datetime.

    Naive values (no offset, as some older writers left them) are read as UTC.
    Unparsable values give None rather than breaking a whole listing.

    >>> parse_iso("2026-01-02T03:04:05Z") == parse_iso("2026-01-02T03:04:05+00:00")
    True
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Given two stored timestamps, return the seconds from start to end, or None.

    >>> seconds_between("2026-01-01T00:00:00Z", "2026-01-01T00:01:30.500+00:00")
    90.5
    """
    a, b = parse_iso(start), parse_iso(end)
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)
