"""The API's item shapes as DESIGN.md names them: the fields tests hold the API to."""

from __future__ import annotations

LIST_FIELDS = {
    "id",
    "job_type",
    "status",
    "file_path",
    "progress_percent",
    "processed_count",
    "total_count",
    "progress_unit",
    "created_at",
    "started_at",
    "completed_at",
    "duration_seconds",
    "progress_updated_at",
}
DETAIL_EXTRA = {
    "id_short",
    "priority",
    "policy_name",
    "error_message",
    "output_path",
    "summary",
    "summary_raw",
    "params",
    "origin",
    "batch_id",
    "has_logs",
}
DETAIL_FIELDS = LIST_FIELDS | DETAIL_EXTRA
WORKER_FIELDS = {"id", "host", "pid", "types", "state", "started_at", "stopped_at", "current_job"}
