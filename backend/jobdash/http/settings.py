"""Settings of the server, resolved and validated before start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jobdash.model.job_types import JobTypeInfo
from jobdash.model.polling import PollingConfig
from jobdash.model.prefer import WAIT_MAX_S
from jobdash.model.staleness import STALE_AFTER_DEFAULT_S


@dataclass(frozen=True)
class ServerSettings:
    """Everything the HTTP server needs; build one with the CLI or directly in tests.

    ``stale_after`` is the heartbeat age after which the server fails a running job as
    abandoned (it checks periodically, as the worker does) and a worker counts as gone.
    """

    data_dir: Path
    dist: Path | None = None
    cors_origins: tuple[str, ...] = ()
    stale_after: float = STALE_AFTER_DEFAULT_S
    polling: PollingConfig = field(default_factory=PollingConfig)
    #: Job types installed where the server runs (what submissions are checked against,
    #: besides the types live workers registered).
    job_types: Mapping[str, JobTypeInfo] = field(default_factory=dict)
    #: A PostgreSQL URL: the store shared by every host (None: SQLite in ``data_dir``).
    database_url: str | None = field(default=None, repr=False)
    #: Lines one job's log keeps at most in the PostgreSQL store (None: the default).
    log_lines_cap: int | None = None
    #: VPO's library database to serve read-only instead of the store in ``data_dir``,
    #: and the folder of its ``logs/`` (default: the database's folder).
    vpo_db: Path | None = None
    vpo_data_dir: Path | None = None
    #: Bearer tokens that may write (submit, cancel); none: writes are off (405).
    api_tokens: tuple[str, ...] = field(default=(), repr=False)
    #: The longest a held poll (``Prefer: wait=N``) is held, in seconds; 0: never held.
    max_wait: int = WAIT_MAX_S
