"""When a running job counts as abandoned: the heartbeat age limit and how often to look.

The worker and the server both fail abandoned jobs, so both read these rules from here.
"""

from __future__ import annotations

STALE_AFTER_DEFAULT_S = 60.0
STALE_AFTER_MIN_S = 10.0


# Whoever looks (a worker or a server, on any host) finds an abandoned job at most this
# long after its heartbeat passed the threshold.
RECOVERY_EVERY_MAX_S = 10.0


def recovery_interval(stale_after: float) -> float:
    """Given the stale threshold, return how often to look for abandoned jobs.

    >>> recovery_interval(60), recovery_interval(4), recovery_interval(600)
    (10.0, 1.0, 10.0)
    """
    return max(1.0, min(RECOVERY_EVERY_MAX_S, stale_after / 4))
