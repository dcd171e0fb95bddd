"""Settings of the server, resolved and validated before start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobdash.model.polling import PollingConfig
from jobdash.model.staleness import STALE_AFTER_DEFAULT_S


@dataclass(frozen=True)
class ServerSettings:
    """Everything the HTTP server needs; build one with the CLI or directly in tests.

    ``stale_after`` is the heartbeat age after which the server fails a running job as
    abandoned (it checks periodically, as the worker does).
    """

    data_dir: Path
    dist: Path | None = None
    cors_origins: tuple[str, ...] = ()
    stale_after: float = STALE_AFTER_DEFAULT_S
    polling: PollingConfig = field(default_factory=PollingConfig)
