"""What every writable store shares: a new job's row, how long things are kept, and the
checks of a prune."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from jobdash.model.states import JOB_TYPE_RULE, PRIORITY_MAX, PRIORITY_MIN, is_job_type_name
from jobdash.util.timestamps import now_iso

Row = dict[str, Any]

# A retried submission with the same Idempotency-Key returns the first job for a day.
IDEMPOTENCY_KEEP_S = 24 * 3600
# Workers that stopped or died stay listed (greyed out) for an hour.
GONE_WORKERS_KEEP_S = 3600


def new_job(
    file_path: str, job_type: str, priority: int, policy_name: str | None, params: dict[str, Any] | None
) -> Row:
    """Given a new job's fields, return its row to insert, or raise ValueError.

    >>> new_job("/media", "scan", 100, None, None)["status"]
    'queued'
    >>> new_job("/media", "scan", 5000, None, None)
    Traceback (most recent call last):
    ValueError: priority must be from 0 to 1000; got 5000
    """
    if not is_job_type_name(job_type):
        raise ValueError(f"job type must be {JOB_TYPE_RULE}; got {job_type!r:.60}")
    if not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        raise ValueError(f"priority must be from {PRIORITY_MIN} to {PRIORITY_MAX}; got {priority}")
    return {
        "id": str(uuid.uuid4()),
        "file_path": file_path,
        "job_type": job_type,
        "status": "queued",
        "priority": priority,
        "policy_name": policy_name,
        "created_at": now_iso(),
        "progress_percent": 0,
        "params_json": json.dumps(params, sort_keys=True, allow_nan=False) if params else None,
    }


def prune_cutoff(older_than_s: float, batch: int, now: datetime | None) -> datetime | None:
    """Given a prune's age, batch size and reference time, return the moment before which
    finished jobs go (None: before year 1, so none), or ValueError for a bad argument.

    >>> prune_cutoff(3600, 500, datetime(2026, 1, 1, 1, tzinfo=UTC)).isoformat()
    '2026-01-01T00:00:00+00:00'
    >>> prune_cutoff(-1, 500, None)
    Traceback (most recent call last):
    ValueError: the age must be a positive number of seconds; got -1
    """
    if not 0 < older_than_s < float("inf"):
        raise ValueError(f"the age must be a positive number of seconds; got {older_than_s!r}")
    if batch < 1:
        raise ValueError(f"the batch must be at least 1 job; got {batch!r}")
    try:
        return (now or datetime.now(UTC)) - timedelta(seconds=older_than_s)
    except OverflowError:
        return None
