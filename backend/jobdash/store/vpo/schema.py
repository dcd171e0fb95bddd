"""VPO's schema as jobdash reads it: supported versions and the columns read by name.

VPO keeps its schema version in ``_meta`` (key ``schema_version``). The ``jobs`` table
appeared at version 5, ``summary_json`` at 7, ``log_path`` at 8, ``origin``/``batch_id``
at 23, and 26 rebuilt the table in another column order: columns are read by name.
"""

from __future__ import annotations

MIN_VERSION = 8
# Read as the store's row keys; a column an older schema lacks reads as NULL.
COLUMNS: tuple[str, ...] = (
    "id",
    "file_path",
    "job_type",
    "status",
    "priority",
    "policy_name",
    "created_at",
    "started_at",
    "completed_at",
    "progress_percent",
    "progress_json",
    "worker_pid",
    "worker_heartbeat",
    "output_path",
    "error_message",
    "summary_json",
    "log_path",
    "origin",
    "batch_id",
)
REQUIRED: tuple[str, ...] = ("id", "file_path", "job_type", "status", "created_at")


class VpoSchemaError(Exception):
    """The file is not a VPO library database jobdash can read; the message says why."""


def check_version(text: object) -> int:
    """Given ``_meta.schema_version``, return it as a number, or raise VpoSchemaError.

    >>> check_version("27")
    27
    >>> check_version("7")
    Traceback (most recent call last):
    jobdash.store.vpo.schema.VpoSchemaError: VPO schema version 7 is not supported: jobdash reads version 8 and newer (upgrade VPO, then try again)
    """
    try:
        version = int(str(text).strip())
    except ValueError:
        raise VpoSchemaError(
            f"VPO schema version {text!r:.40} is not a number; is this a VPO library database?"
        ) from None
    if version < MIN_VERSION:
        raise VpoSchemaError(
            f"VPO schema version {version} is not supported: jobdash reads version {MIN_VERSION} and newer "
            "(upgrade VPO, then try again)"
        )
    return version


def select_list(present: set[str]) -> str:
    """Given the columns VPO's ``jobs`` table has, return the SELECT list that reads every
    store column by name (NULL for one it lacks); VpoSchemaError if a required one is missing.

    >>> select_list({"id", "file_path", "job_type", "status", "created_at"})[:60]
    '"id", "file_path", "job_type", "status", NULL AS "priority",'
    """
    missing = [name for name in REQUIRED if name not in present]
    if missing:
        raise VpoSchemaError(f"VPO's jobs table has no {', '.join(missing)} column; is this a VPO library database?")
    return ", ".join(f'"{name}"' if name in present else f'NULL AS "{name}"' for name in COLUMNS)
