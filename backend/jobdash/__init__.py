"""jobdash: the live jobs dashboard of a media-library orchestrator.

The package, top-down (each layer imports only the ones below it; import-linter checks
this, see ``pyproject.toml``)::

    cli      the `jobdash` command
    http     the Starlette app: JSON API, caching, static pages    | worker  the loop that runs jobs
    store    the store interface and its SQLite implementation
    model    the job vocabulary and pure rules (states, list query, API items, polling)
    util     small pure helpers (timestamps, text safety)

    jobs     built-in job types: plugins that use only the public API below
    build    the static frontend build behind build.py (independent of the server)

The public API for job-type plugins::

    from jobdash import JobContext, JobFailed, job_type

    @job_type(target="file")
    def checksum(ctx: JobContext) -> dict:
        ...

and for queueing a job from Python, with the checks of the CLI and the API::

    jobdash.submit("transcode", "/media/clip.mkv", params={"preset": "copy"})
"""

from typing import Any

from jobdash.version import __version__
from jobdash.worker.context import JobCancelled, JobContext, JobFailed
from jobdash.worker.registry import job_type

__all__ = ["JobCancelled", "JobContext", "JobFailed", "__version__", "job_type", "submit"]


def __getattr__(name: str) -> Any:
    """Return ``submit`` on first use: it loads the CLI's submission path, which plugins
    importing ``jobdash`` for JobContext do not need."""
    if name == "submit":
        from jobdash.cli.submit import submit

        return submit
    raise AttributeError(f"module 'jobdash' has no attribute {name!r}")
