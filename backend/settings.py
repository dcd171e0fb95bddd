"""Settings of the server and the worker, resolved and validated before start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from backend.polling_config import PollingConfig

STALE_AFTER_DEFAULT_S = 60.0
STALE_AFTER_MIN_S = 10.0


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``jobdash serve`` needs; build one with the CLI or directly in tests."""

    data_dir: Path
    dist: Path | None = None
    run_worker: bool = True
    cors_origins: tuple[str, ...] = ()
    stale_after: float = STALE_AFTER_DEFAULT_S
    max_files_per_second: float = 0
    polling: PollingConfig = field(default_factory=PollingConfig)
