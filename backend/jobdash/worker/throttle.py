"""A time-based throttle (pure: the caller passes the clock)."""

from __future__ import annotations


class Throttle:
    """Allow an action at most once per ``interval`` seconds of the caller's clock.

    >>> t = Throttle(0.5)
    >>> [t.ready(now) for now in (0.0, 0.1, 0.6, 0.7, 1.2)]
    [True, False, True, False, True]
    """

    def __init__(self, interval: float) -> None:
        assert interval >= 0, "interval must not be negative"
        self.interval = interval
        self._last: float | None = None

    def ready(self, now: float) -> bool:
        """Given the current time, return True (and remember it) if the action may run."""
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True


class Pacer:
    """Keep a loop at or below ``rate`` items per second (pure: the caller passes the clock).

    ``delay(now)`` counts one item and returns how long to wait before the next one.
    A rate of 0 means unlimited.

    >>> p = Pacer(10)
    >>> [round(p.delay(now), 2) for now in (0.0, 0.0, 0.1, 0.5)]
    [0.0, 0.1, 0.1, 0.0]
    """

    def __init__(self, rate: float) -> None:
        assert rate >= 0, "rate must not be negative"
        self.rate = rate
        self._next: float | None = None

    def delay(self, now: float) -> float:
        """Given the current time, count one item; return seconds to wait before the next."""
        if self.rate == 0:
            return 0.0
        start = now if self._next is None or self._next < now else self._next
        wait = start - now
        self._next = start + 1.0 / self.rate
        return wait
