"""The SQL order of every list sort, shared by the stores (the jobs tables of all of them
keep the same column names)."""

from __future__ import annotations

#: ``ORDER BY`` for each sort of :data:`jobdash.model.list_query.SORTS`; ties go by
#: creation time, then id, so pages never overlap or skip a row.
ORDER_BY: dict[str, str] = {
    "created_at": "created_at ASC, id ASC",
    "-created_at": "created_at DESC, id DESC",
    "status": "status ASC, created_at ASC, id ASC",
    "-status": "status DESC, created_at DESC, id DESC",
    "job_type": "job_type ASC, created_at ASC, id ASC",
    "-job_type": "job_type DESC, created_at DESC, id DESC",
    "priority": "priority ASC, created_at ASC, id ASC",
    "-priority": "priority DESC, created_at DESC, id DESC",
}
