"""Recovering the jobs of dead workers, the same way wherever it is noticed (a worker or
the server, on any host)."""

from __future__ import annotations

import logging

from jobdash.store.interface import JobStore, Row

log = logging.getLogger("jobdash.recovery")


def recover_and_log(store: JobStore, stale_after_s: float) -> list[Row]:
    """Requeue or fail the running jobs whose heartbeat is older than ``stale_after_s``
    (see :meth:`JobStore.recover_stale`), say so in each job's log and in ours; return
    the changed rows."""
    changed = store.recover_stale(stale_after_s)
    for job in changed:
        if job["status"] == "queued":
            message = f"worker lost: no heartbeat for over {stale_after_s:g} s; the job was queued to run again"
            level = "WARN"
        else:
            message, level = str(job["error_message"]), "ERROR"
        log.warning("job %s: %s", job["id"], message)
        try:
            with store.open_log(job) as job_log:
                job_log.write(message, level=level)
        except ValueError as error:  # a stored log_path that cannot be used
            log.warning("job %s: recovery not logged: %s", job["id"], error)
    return changed
