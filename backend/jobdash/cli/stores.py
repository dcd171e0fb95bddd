"""Opening the store a command works on, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

from jobdash.cli.data_dir import prepare_data_dir
from jobdash.cli.options import CliError
from jobdash.store.factory import open_store
from jobdash.store.interface import JobStore


def open_cli_store(data_dir: Path) -> JobStore:
    """Given the data directory, return its store (created if new); CliError if unusable."""
    try:
        return open_store(prepare_data_dir(data_dir))
    except (ValueError, RuntimeError) as error:  # RuntimeError: a schema newer than this code
        raise CliError(str(error)) from None
