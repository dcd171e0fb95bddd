"""The ``jobdash`` command line: every command, its flags and their ``JOBDASH_*`` twins."""

from __future__ import annotations

import argparse
from pathlib import Path

from jobdash.cli.options import (
    PRUNE_BATCH_MAX,
    add,
    age,
    boolean,
    data_dir_option,
    database_option,
    env,
    hostname,
    job_types_options,
    log_lines_option,
    names,
    origin,
    param,
    port,
    priority,
    prune_batch,
    rate_option,
    stale_option,
    vpo_options,
    whole_number,
)
from jobdash.model.list_query import LIMIT_MAX
from jobdash.model.polling import LOG_POLL_INTERVAL_DEFAULT_MS, POLL_INTERVAL_DEFAULT_MS
from jobdash.model.prefer import WAIT_MAX_S
from jobdash.model.states import PRIORITY_DEFAULT, STATUSES
from jobdash.store.interface import PRUNE_BATCH_DEFAULT
from jobdash.version import __version__


def queue_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of the commands that queue a job: its priority, and waiting for it."""
    add(
        parser,
        "--priority",
        "JOBDASH_PRIORITY",
        convert=priority,
        default=PRIORITY_DEFAULT,
        metavar="N",
        help="0 runs first, 1000 last (default: %(default)s)",
    )
    add(
        parser,
        "--wait",
        "JOBDASH_WAIT",
        convert=boolean("wait"),
        default=False,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="wait for the job to end, showing progress; exit 0 only if it completed "
        "(needs a running worker: `jobdash serve` or `jobdash worker`)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``jobdash`` command."""
    parser = argparse.ArgumentParser(
        prog="jobdash",
        description="Live jobs dashboard for a media-library orchestrator: run the API and "
        "worker, queue scans and other jobs, list and cancel them.",
        epilog="Example: jobdash serve & jobdash scan ~/Media --wait",
    )
    parser.add_argument("--version", action="version", version=f"jobdash {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the JSON API (and the frontend in dist/) with a worker",
        description="Serve the JSON API under /api/ and, when present, the built frontend. "
        "Starts a worker process too unless --no-worker is given.",
    )
    data_dir_option(serve)
    database_option(serve)
    add(
        serve,
        "--host",
        "JOBDASH_HOST",
        default="127.0.0.1",
        help="interface to listen on (default: %(default)s; 0.0.0.0 for all)",
    )
    add(serve, "--port", "JOBDASH_PORT", convert=port, default=8000, help="TCP port (default: %(default)s)")
    add(
        serve,
        "--dist",
        "JOBDASH_DIST",
        convert=Path,
        metavar="DIR",
        help="built frontend to serve (default: ./dist when it exists; API only otherwise)",
    )
    add(
        serve,
        "--no-worker",
        "JOBDASH_NO_WORKER",
        convert=boolean("no_worker"),
        default=False,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="do not start a worker (run `jobdash worker` separately)",
    )
    add(
        serve,
        "--cors-origin",
        "JOBDASH_CORS_ORIGINS",
        convert=lambda text: [origin(o) for o in text.split(",") if o.strip()],
        default=[],
        metavar="ORIGIN",
        action="extend",
        help="origin allowed to call the API from a browser (repeatable; env is comma-separated)",
    )
    add(
        serve,
        "--max-wait",
        "JOBDASH_MAX_WAIT",
        convert=whole_number(0, WAIT_MAX_S, "seconds"),
        default=WAIT_MAX_S,
        metavar="SECONDS",
        help="hold an unchanged poll that asks for it (Prefer: wait=N) at most this long, so changes "
        "reach pages at once; 0 turns held polls off (default: %(default)s)",
    )
    stale_option(serve)
    rate_option(serve)
    log_lines_option(serve)
    job_types_options(serve)
    vpo_options(serve)
    add(
        serve,
        "--api-token-file",
        "JOBDASH_API_TOKEN_FILE",
        convert=Path,
        metavar="FILE",
        help="allow writes (POST /api/jobs, cancel) with the bearer tokens in FILE, one per line; "
        "it must not be readable by every user (default: writes off)",
    )
    add(
        serve,
        "--poll-interval-ms",
        "JOBDASH_POLL_INTERVAL_MS",
        default=str(POLL_INTERVAL_DEFAULT_MS),
        metavar="MS",
        help="polling interval reported at /api/config/polling (2000-60000)",
    )
    add(
        serve,
        "--log-poll-interval-ms",
        "JOBDASH_LOG_POLL_INTERVAL_MS",
        default=str(LOG_POLL_INTERVAL_DEFAULT_MS),
        metavar="MS",
        help="log polling interval reported at /api/config/polling (never below the poll interval)",
    )
    add(
        serve,
        "--polling-enabled",
        "JOBDASH_POLLING_ENABLED",
        default="true",
        metavar="BOOL",
        help="whether pages poll at all (true/false)",
    )

    scan = commands.add_parser(
        "scan",
        help="queue a scan of a media directory and print its job id",
        description="Queue a scan job for DIR: a worker walks it, identifies each media "
        "file's container and fingerprints it. Prints the job id.",
    )
    scan.add_argument("directory", metavar="DIR", help="directory to scan")
    data_dir_option(scan)
    database_option(scan)
    queue_options(scan)

    worker = commands.add_parser(
        "worker",
        help="run a worker until stopped (SIGTERM/SIGINT)",
        description="Claim queued jobs and run them, one at a time, until stopped. On "
        "SIGTERM or SIGINT the current job goes back to the queue.",
    )
    data_dir_option(worker)
    database_option(worker)
    stale_option(worker)
    rate_option(worker)
    log_lines_option(worker)
    job_types_options(worker)
    add(
        worker,
        "--hostname",
        "JOBDASH_HOSTNAME",
        convert=hostname,
        default=None,
        metavar="NAME",
        help="the host name this worker registers under, as `jobdash workers` and the pages show it "
        "(default: the machine's; set it where containers share one)",
    )
    add(
        worker,
        "--types",
        "JOBDASH_TYPES",
        convert=names,
        default=[],
        metavar="A,B",
        help="claim only jobs of these types, comma-separated (default: every type available here)",
    )

    jobs = commands.add_parser(
        "jobs", help="list jobs, newest first", description="Print a table of jobs, newest first."
    )
    data_dir_option(jobs)
    database_option(jobs)
    vpo_options(jobs)
    add(
        jobs,
        "--status",
        "JOBDASH_STATUS",
        metavar="S",
        help=f"only these statuses, comma-separated: {', '.join(STATUSES)}",
    )
    add(
        jobs,
        "--type",
        "JOBDASH_TYPE",
        metavar="T",
        help="only these job types, comma-separated (registered ones, or any in the store)",
    )
    add(
        jobs,
        "--limit",
        "JOBDASH_LIMIT",
        convert=int,
        default=50,
        metavar="N",
        help=f"how many jobs to show, 1-{LIMIT_MAX} (default: %(default)s)",
    )

    submit = commands.add_parser(
        "submit",
        help="queue a job of any registered type and print its id",
        description="Queue a job of TYPE for TARGET (a path, or whatever the type works on), "
        "checked like the API checks it. Prints the job id.",
        epilog="Example: jobdash submit transcode ~/clip.mkv --param preset=h264-720p --wait",
    )
    submit.add_argument("job_type", metavar="TYPE", help="a registered job type (see `jobdash workers`)")
    submit.add_argument("target", metavar="TARGET", help="what the job works on, usually a path")
    add(
        submit,
        "--param",
        "JOBDASH_PARAMS",
        convert=param,
        default=[],
        action="append",
        metavar="K=V",
        help="a parameter for the job type (repeatable; env: one K=V per line)",
    )
    data_dir_option(submit)
    database_option(submit)
    job_types_options(submit)
    queue_options(submit)

    workers = commands.add_parser(
        "workers",
        help="list the registered workers",
        description="Print the workers registry: each worker's host, pid, job types, state "
        "(alive, or gone when stopped or its heartbeat is older than --stale-after) and the "
        "job it runs.",
    )
    data_dir_option(workers)
    database_option(workers)
    stale_option(workers)

    cancel = commands.add_parser(
        "cancel",
        help="cancel a queued or running job",
        description="Cancel a job by id (or a unique prefix of at least 4 characters, as "
        "`jobdash jobs` prints). A running job stops at its next progress step.",
    )
    cancel.add_argument("job_id", metavar="ID")
    data_dir_option(cancel)
    database_option(cancel)

    prune = commands.add_parser(
        "prune",
        help="delete finished jobs older than an age, with their logs",
        description="Delete completed, failed and cancelled jobs that ended more than AGE ago, "
        "with their log files, a batch at a time. Queued and running jobs are never deleted.",
        epilog="Example: jobdash prune --older-than 90d",
    )
    data_dir_option(prune)
    database_option(prune)
    vpo_options(prune)
    add(
        prune,
        "--older-than",
        "JOBDASH_OLDER_THAN",
        convert=age,
        # Required, unless its environment twin gives it.
        required=env("JOBDASH_OLDER_THAN") is None,
        metavar="AGE",
        help="delete jobs that ended longer ago than this: a number and a unit (s, m, h, d, w), like 90d",
    )
    add(
        prune,
        "--batch",
        "JOBDASH_PRUNE_BATCH",
        convert=prune_batch,
        default=PRUNE_BATCH_DEFAULT,
        metavar="N",
        help=f"jobs deleted per transaction, 1-{PRUNE_BATCH_MAX} (default: %(default)s); smaller "
        "batches let workers write in between sooner",
    )
    return parser
