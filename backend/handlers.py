"""Which handler runs each job type in this worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.job_context import JobContext
from backend.scan import run_scan

Handler = Callable[[JobContext], dict[str, Any]]

# Job types this worker executes; other types stay queued for the orchestrator's workers.
HANDLERS: dict[str, Handler] = {"scan": run_scan}
