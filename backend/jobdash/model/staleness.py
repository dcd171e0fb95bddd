"""When a running job counts as abandoned: the heartbeat age limit and how often to look.

The worker and the server both fail abandoned jobs, so both read these rules from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def worker_lost_line(job: Mapping[str, Any], stale_after: float) -> tuple[str, str]:
    """Given a job that recovery just requeued or failed, return the line its log gets
    (message, level): why it was queued again, or its error message.

    >>> worker_lost_line({"status": "queued"}, 10)
    ('worker lost: no heartbeat for over 10 s; the job was queued to run again', 'WARN')
    """
    if job["status"] == "queued":
        return f"worker lost: no heartbeat for over {stale_after:g} s; the job was queued to run again", "WARN"
    return str(job["error_message"]), "ERROR"
