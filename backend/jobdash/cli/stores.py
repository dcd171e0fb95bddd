"""Opening the store a command works on, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

from jobdash.cli.data_dir import prepare_data_dir
from jobdash.cli.options import CliError, UsageError
from jobdash.store.factory import open_store
from jobdash.store.interface import JobStore
from jobdash.store.vpo.connection import VpoOpenError


def open_cli_store(
    data_dir: Path,
    *,
    database_url: str | None = None,
    log_lines_cap: int | None = None,
    vpo_db: Path | None = None,
    vpo_data_dir: Path | None = None,
) -> JobStore:
    """Given the data directory (or a PostgreSQL URL, or VPO's database), return its
    store; UsageError for both a database and VPO's, CliError if unusable,
    StoreUnavailable when PostgreSQL cannot be reached."""
    if database_url is not None and vpo_db is not None:
        raise UsageError("--database and --vpo-db name two different stores; give one")
    try:
        if database_url is not None:
            # Nothing of the store's is on this host's disk: the data dir is not created.
            return open_store(data_dir, database_url=database_url, log_lines_cap=log_lines_cap)
        if vpo_db is not None:
            return open_store(data_dir, vpo_db=vpo_db, vpo_data_dir=vpo_data_dir)
        return open_store(prepare_data_dir(data_dir))
    except (ValueError, RuntimeError, VpoOpenError) as error:  # RuntimeError: a schema newer than this code
        raise CliError(str(error)) from None
