"""The plain reads every store derives from its snapshot reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobdash.model.list_query import ListQuery

Row = dict[str, Any]


class SnapshotReads:
    """``list`` and ``get`` for a store that has ``list_snapshot`` and ``get_snapshot``
    (which also return the data version, for cached answers)."""

    def list_snapshot(self, query: ListQuery, *, now: datetime | None = None) -> tuple[int, list[Row], int]:
        raise NotImplementedError

    def get_snapshot(self, job_id: str) -> tuple[int, Row | None]:
        raise NotImplementedError

    def list(self, query: ListQuery, *, now: datetime | None = None) -> tuple[list[Row], int]:
        """Given a validated query, return (the page of rows, total matching rows)."""
        _, rows, total = self.list_snapshot(query, now=now)
        return rows, total

    def get(self, job_id: str) -> Row | None:
        """Given a job id, return its row, or None if there is no such job."""
        return self.get_snapshot(job_id)[1]
