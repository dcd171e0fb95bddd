"""VPO's job rows in the store's row shape (pure: rows in, rows out).

What differs from jobdash's own rows: a running transcode's ``progress_json`` holds
ffmpeg's figures (``out_time_seconds``...) rather than counts, so the media time done
and the duration (from the percentage) become seconds of progress; a completed scan's
counts live in its summary; a status VPO may add later reads as ``unknown``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jobdash.model.states import STATUSES

Row = dict[str, Any]
UNKNOWN_STATUS = "unknown"


def _object(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = json.loads(text, parse_constant=lambda _: None)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def progress_of(row: Row) -> dict[str, Any] | None:
    """Given a VPO row, return progress as counts (``processed``, ``total``, ``unit``), or
    None when there are none to show (the percentage alone then).

    >>> progress_of({"progress_json": '{"out_time_seconds": 42.5}', "progress_percent": 42.5})
    {'processed': 42, 'total': 100, 'unit': 'seconds'}
    >>> progress_of({"status": "completed", "summary_json": '{"total_discovered": 4, "scanned": 4}'})
    {'processed': 4, 'total': 4, 'unit': 'files'}
    """
    progress = _object(row.get("progress_json")) or {}
    done = _number(progress.get("out_time_seconds"))
    percent = _number(row.get("progress_percent"))
    if done is not None:
        if not percent or percent <= 0:
            return None  # the duration is unknown: the percentage alone
        total = round(done * 100 / min(percent, 100))
        return {"processed": min(int(done), total), "total": total, "unit": "seconds"}
    summary = _object(row.get("summary_json")) or {}
    found, scanned = _number(summary.get("total_discovered")), _number(summary.get("scanned"))
    if found is not None and scanned is not None:
        return {"processed": int(scanned), "total": int(found), "unit": "files"}
    return None


def store_row(row: Row) -> Row:
    """Given a row read from VPO's jobs table, return it in the store's row shape.

    >>> store_row({"id": "x", "status": "paused", "progress_json": "not json"})["status"]
    'unknown'
    """
    mapped = dict(row)
    if mapped.get("status") not in STATUSES:
        mapped["status"] = UNKNOWN_STATUS
    progress = progress_of(row)
    mapped["progress_json"] = json.dumps(progress) if progress is not None else None
    if progress is None and mapped["status"] in ("failed", "cancelled"):
        # VPO writes 100 when a job ends, however it ended: without counts, a failed job
        # would show a full bar.
        mapped["progress_percent"] = 0.0
    mapped["params_json"] = None
    # VPO does not record when progress last changed (its progress_json is ffmpeg's figures).
    mapped["progress_updated_at"] = None
    return mapped
