"""Which handler runs each job type: the handlers registered under an entry point group.

Job types are plugins, the built-in ones included: each is a callable
``fn(ctx: JobContext) -> dict`` registered by name in the entry point group
``jobdash.job_types`` of an installed distribution (jobdash's own ``pyproject.toml``
registers ``scan``). The worker never imports a job type by name, so the job types
depend on the worker's public API and not the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from jobdash.worker.context import JobContext

ENTRY_POINT_GROUP = "jobdash.job_types"

Handler = Callable[[JobContext], dict[str, Any]]

log = logging.getLogger("jobdash.worker")


def load_handlers(group: str = ENTRY_POINT_GROUP) -> dict[str, Handler]:
    """Return the job types registered in ``group``, by name, sorted.

    A plugin that fails to load is logged and left out: one broken plugin must not
    stop the worker from running every other type.

    >>> "scan" in load_handlers()
    True
    """
    handlers: dict[str, Handler] = {}
    for point in sorted(entry_points(group=group), key=lambda point: point.name):
        try:
            handler = point.load()
        except Exception as error:  # any import-time failure of a third-party module
            log.error("job type %r (%s) cannot be loaded: %r", point.name, point.value, error)
            continue
        if not callable(handler):
            log.error("job type %r (%s) is not callable", point.name, point.value)
            continue
        handlers.setdefault(point.name, handler)
    return handlers
