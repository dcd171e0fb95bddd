"""The plain reads every store derives from its snapshot reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobdash.model.list_query import ListQuery

Row = dict[str, Any]


class SnapshotReads:
    """``list`` and ``get`` for a store that has ``list_snapshot`` and ``get_snapshot``
    (which also return the data version, for cached answers): every store does, as the
    JobStore protocol requires."""

    def list(self, query: ListQuery, *, now: datetime | None = None) -> tuple[list[Row], int]:
        """Given a validated query, return (the page of rows, total matching rows)."""
        _, rows, total = self.list_snapshot(query, now=now)  # type: ignore[attr-defined]
        return rows, total

    def get(self, job_id: str) -> Row | None:
        """Given a job id, return its row, or None if there is no such job."""
        return self.get_snapshot(job_id)[1]  # type: ignore[attr-defined]
