"""Opening the store a command works on, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

from jobdash.cli.data_dir import prepare_data_dir
from jobdash.cli.options import CliError
from jobdash.store.factory import open_store
from jobdash.store.interface import JobStore
from jobdash.store.vpo.connection import VpoOpenError


def open_cli_store(data_dir: Path, *, vpo_db: Path | None = None, vpo_data_dir: Path | None = None) -> JobStore:
    """Given the data directory (or VPO's database), return its store; CliError if unusable."""
    try:
        if vpo_db is not None:
            return open_store(data_dir, vpo_db=vpo_db, vpo_data_dir=vpo_data_dir)
        return open_store(prepare_data_dir(data_dir))
    except (ValueError, RuntimeError, VpoOpenError) as error:  # RuntimeError: a schema newer than this code
        raise CliError(str(error)) from None
