"""Recovering the jobs of dead workers, the same way wherever it is noticed (a worker or
the server, on any host)."""

from __future__ import annotations

import logging

from jobdash.model.staleness import worker_lost_line
from jobdash.store.interface import JobStore, Row

log = logging.getLogger("jobdash.recovery")


def recover_and_log(store: JobStore, stale_after_s: float) -> list[Row]:
    """Requeue or fail the running jobs whose heartbeat is older than ``stale_after_s``
    (see :meth:`JobStore.recover_stale`, which says so in each job's log, in the same
    transaction), say so in our log too; return the changed rows."""
    changed = store.recover_stale(stale_after_s)
    for job in changed:
        log.warning("job %s: %s", job["id"], worker_lost_line(job, stale_after_s)[0])
    return changed
