"""The ``jobdash`` command: serve, scan, worker, jobs, cancel.

Every flag has a ``JOBDASH_*`` environment twin (the flag wins). Errors are one line
on stderr with a non-zero exit code: 2 for bad usage, 1 when the request fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jobdash.cli.data_dir import default_data_dir, prepare_data_dir
from jobdash.model.list_query import LIMIT_MAX, ListQuery, ParamError, parse_choices
from jobdash.model.polling import (
    LOG_POLL_INTERVAL_DEFAULT_MS,
    POLL_INTERVAL_DEFAULT_MS,
    ConfigError,
    parse_bool,
    polling_config,
)
from jobdash.model.staleness import STALE_AFTER_DEFAULT_S, STALE_AFTER_MIN_S
from jobdash.model.states import JOB_TYPES, PRIORITY_DEFAULT, PRIORITY_MAX, PRIORITY_MIN, STATUSES, is_terminal
from jobdash.store.interface import JobStore, StoreUnavailable
from jobdash.version import __version__

log = logging.getLogger("jobdash")


class CliError(Exception):
    """A request that cannot be carried out; printed as one line, exit code 1."""


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _number_at_least(minimum: float, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of {unit}; got {text!r}") from None
        if not value >= minimum or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g} {unit}; got {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535; got {text!r}")
    return int(text)


def _priority(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not PRIORITY_MIN <= int(text) <= PRIORITY_MAX:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from {PRIORITY_MIN} (first) to {PRIORITY_MAX} (last); got {text!r}"
        )
    return int(text)


def _origin(text: str) -> str:
    parts = urlsplit(text.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise argparse.ArgumentTypeError(
            f"must be an origin like https://dash.example.com or http://localhost:8080; got {text!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _bool(name: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        try:
            return parse_bool(name, text)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _add(
    parser: argparse.ArgumentParser,
    flag: str,
    env: str,
    *,
    convert: Callable[[str], Any] = str,
    default: Any = None,
    help: str,
    **kwargs: Any,
) -> None:
    """Add ``flag`` whose default comes from the environment variable ``env``."""
    raw = _env(env)
    if raw is not None:
        try:
            default = convert(raw)
        except argparse.ArgumentTypeError as error:
            parser.error(f"environment variable {env}: {error}")
    parser.add_argument(flag, type=convert, default=default, help=f"{help} [env {env}]", **kwargs)


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    # Every command has a data directory, so the options all commands share live here.
    _add(
        parser,
        "--log-level",
        "JOBDASH_LOG_LEVEL",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="how much to log (default: info; debug also logs every request)",
    )
    _add(
        parser,
        "--data-dir",
        "JOBDASH_DATA_DIR",
        convert=Path,
        default=default_data_dir(),
        metavar="DIR",
        help="where the job database and logs live (default: %(default)s)",
    )


def _stale_option(parser: argparse.ArgumentParser) -> None:
    _add(
        parser,
        "--stale-after",
        "JOBDASH_STALE_AFTER",
        convert=_number_at_least(STALE_AFTER_MIN_S, "seconds"),
        default=STALE_AFTER_DEFAULT_S,
        metavar="SECONDS",
        help="heartbeat age after which a running job counts as abandoned and is failed (default: %(default)g)",
    )


def _rate_option(parser: argparse.ArgumentParser) -> None:
    _add(
        parser,
        "--max-files-per-second",
        "JOBDASH_MAX_FILES_PER_SECOND",
        convert=_number_at_least(0, "files per second"),
        default=0.0,
        metavar="N",
        help="cap how fast scans read files, to spare network storage (default: 0, no cap)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``jobdash`` command."""
    parser = argparse.ArgumentParser(
        prog="jobdash",
        description="Live jobs dashboard for a media-library orchestrator: run the API and "
        "worker, queue scans, list and cancel jobs.",
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
    _data_dir_option(serve)
    _add(
        serve,
        "--host",
        "JOBDASH_HOST",
        default="127.0.0.1",
        help="interface to listen on (default: %(default)s; 0.0.0.0 for all)",
    )
    _add(serve, "--port", "JOBDASH_PORT", convert=_port, default=8000, help="TCP port (default: %(default)s)")
    _add(
        serve,
        "--dist",
        "JOBDASH_DIST",
        convert=Path,
        metavar="DIR",
        help="built frontend to serve (default: ./dist when it exists; API only otherwise)",
    )
    _add(
        serve,
        "--no-worker",
        "JOBDASH_NO_WORKER",
        convert=_bool("no_worker"),
        default=False,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="do not start a worker (run `jobdash worker` separately)",
    )
    _add(
        serve,
        "--cors-origin",
        "JOBDASH_CORS_ORIGINS",
        convert=lambda text: [_origin(o) for o in text.split(",") if o.strip()],
        default=[],
        metavar="ORIGIN",
        action="extend",
        help="origin allowed to call the API from a browser (repeatable; env is comma-separated)",
    )
    _stale_option(serve)
    _rate_option(serve)
    _add(
        serve,
        "--poll-interval-ms",
        "JOBDASH_POLL_INTERVAL_MS",
        default=str(POLL_INTERVAL_DEFAULT_MS),
        metavar="MS",
        help="polling interval reported at /api/config/polling (2000-60000)",
    )
    _add(
        serve,
        "--log-poll-interval-ms",
        "JOBDASH_LOG_POLL_INTERVAL_MS",
        default=str(LOG_POLL_INTERVAL_DEFAULT_MS),
        metavar="MS",
        help="log polling interval reported at /api/config/polling (never below the poll interval)",
    )
    _add(
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
    _data_dir_option(scan)
    _add(
        scan,
        "--priority",
        "JOBDASH_PRIORITY",
        convert=_priority,
        default=PRIORITY_DEFAULT,
        metavar="N",
        help="0 runs first, 1000 last (default: %(default)s)",
    )
    _add(
        scan,
        "--wait",
        "JOBDASH_WAIT",
        convert=_bool("wait"),
        default=False,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="wait for the job to end, showing progress; exit 0 only if it completed "
        "(needs a running worker: `jobdash serve` or `jobdash worker`)",
    )

    worker = commands.add_parser(
        "worker",
        help="run a worker until stopped (SIGTERM/SIGINT)",
        description="Claim queued jobs and run them, one at a time, until stopped. On "
        "SIGTERM or SIGINT the current job goes back to the queue.",
    )
    _data_dir_option(worker)
    _stale_option(worker)
    _rate_option(worker)

    jobs = commands.add_parser(
        "jobs", help="list jobs, newest first", description="Print a table of jobs, newest first."
    )
    _data_dir_option(jobs)
    _add(
        jobs,
        "--status",
        "JOBDASH_STATUS",
        metavar="S",
        help=f"only these statuses, comma-separated: {', '.join(STATUSES)}",
    )
    _add(
        jobs,
        "--type",
        "JOBDASH_TYPE",
        metavar="T",
        help=f"only these job types, comma-separated: {', '.join(JOB_TYPES)}",
    )
    _add(
        jobs,
        "--limit",
        "JOBDASH_LIMIT",
        convert=int,
        default=50,
        metavar="N",
        help=f"how many jobs to show, 1-{LIMIT_MAX} (default: %(default)s)",
    )

    cancel = commands.add_parser(
        "cancel",
        help="cancel a queued or running job",
        description="Cancel a job by id (or a unique prefix of at least 4 characters, as "
        "`jobdash jobs` prints). A running job stops at its next progress step.",
    )
    cancel.add_argument("job_id", metavar="ID")
    _data_dir_option(cancel)
    return parser


def _open_store(data_dir: Path) -> JobStore:
    from jobdash.store.factory import open_store

    try:
        return open_store(prepare_data_dir(data_dir))
    except (ValueError, RuntimeError) as error:  # RuntimeError: a schema newer than this code
        raise CliError(str(error)) from None


def _scan_root(text: str) -> str:
    path = Path(text).expanduser()
    if not path.exists():
        raise CliError(f"directory {text!r} does not exist")
    if not path.is_dir():
        raise CliError(f"{text!r} is not a directory; give the folder to scan")
    if not os.access(path, os.R_OK | os.X_OK):
        raise CliError(f"directory {text!r} is not readable")
    root = str(path.resolve())
    try:
        root.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(f"directory path {text!r} is not valid UTF-8; rename it or scan a parent") from None
    return root


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API server (and the worker child) until interrupted."""
    import uvicorn

    from jobdash.http.app import create_app
    from jobdash.http.settings import ServerSettings
    from jobdash.worker.process import WorkerProcess

    try:
        polling, warnings = polling_config(args.poll_interval_ms, args.log_poll_interval_ms, args.polling_enabled)
    except ConfigError as error:
        raise CliError(str(error)) from None
    for warning in warnings:
        log.warning(warning)
    dist = args.dist
    if dist is None and (Path.cwd() / "dist" / "index.html").is_file():
        dist = Path.cwd() / "dist"
    store = _open_store(args.data_dir)  # refuses an unusable data dir before start-up
    store.close()
    settings = ServerSettings(
        data_dir=store.data_dir,
        dist=dist,
        cors_origins=tuple(dict.fromkeys(args.cors_origin)),
        stale_after=args.stale_after,
        polling=polling,
    )
    worker = (
        None if args.no_worker else WorkerProcess(settings.data_dir, settings.stale_after, args.max_files_per_second)
    )
    try:
        app = create_app(settings, worker=worker)
    except RuntimeError as error:
        raise CliError(str(error)) from None
    where = f"http://{args.host}:{args.port}"
    print(
        f"jobdash {__version__} serving on {where} (API {where}/api/jobs; "
        f"frontend: {dist or 'none, API only'}; data: {settings.data_dir}; "
        f"worker: {'off' if worker is None else 'on'})",
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
        server_header=False,
        # Longer than the poll interval, so that a polling tab keeps its connection
        # instead of opening a new one (and racing the server's close) every poll.
        timeout_keep_alive=polling.interval_ms // 1000 + 5,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a worker until SIGTERM/SIGINT."""
    from jobdash.worker.loop import Worker
    from jobdash.worker.process import PARENT_PID_ENV

    store = _open_store(args.data_dir)
    parent = _env(PARENT_PID_ENV)
    worker = Worker(
        store,
        stale_after=args.stale_after,
        parent_pid=int(parent) if parent else None,
        max_files_per_second=args.max_files_per_second,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    try:
        worker.run()
    finally:
        store.close()
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """Queue a scan; print its id; with --wait, follow it to its end."""
    root = _scan_root(args.directory)
    store = _open_store(args.data_dir)
    try:
        job = store.create(root, "scan", priority=args.priority)
        print(job["id"], flush=True)
        if not args.wait:
            return 0
        return _wait(store, job["id"])
    finally:
        store.close()


def _wait(store: Any, job_id: str) -> int:
    from jobdash.model.items import progress_counts

    last = None
    while True:
        job = store.get(job_id)
        if job is None:
            raise CliError(f"job {job_id} disappeared from the store")
        processed, total = progress_counts(job)
        state = (job["status"], processed, total)
        if state != last:
            counts = f" {processed}/{total} files" if total is not None else ""
            print(f"{job['status']}{counts}", file=sys.stderr, flush=True)
            last = state
        if is_terminal(job["status"]):
            if job["error_message"]:
                print(f"error: {job['error_message']}", file=sys.stderr)
            return 0 if job["status"] == "completed" else 1
        time.sleep(0.5)


def cmd_jobs(args: argparse.Namespace) -> int:
    """Print the jobs table."""
    from jobdash.cli.table import format_jobs_table

    if not 1 <= args.limit <= LIMIT_MAX:
        raise CliError(f"--limit must be from 1 to {LIMIT_MAX}; got {args.limit}")
    try:
        query = ListQuery(
            statuses=parse_choices("--status", args.status, STATUSES) if args.status else (),
            types=parse_choices("--type", args.type, JOB_TYPES) if args.type else (),
            limit=args.limit,
        )
    except ParamError as error:
        raise CliError(str(error)) from None
    store = _open_store(args.data_dir)
    try:
        rows, total = store.list(query)
    finally:
        store.close()
    if not rows:
        print("no jobs" + (" match these filters" if query.has_filters else " yet; queue one with `jobdash scan DIR`"))
        return 0
    print(format_jobs_table(rows, shutil.get_terminal_size((120, 24)).columns))
    if total > len(rows):
        print(f"({len(rows)} of {total:,} shown; use --limit or filters)")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel a job by id or unique prefix."""
    store = _open_store(args.data_dir)
    try:
        job_id = _resolve_id(store, args.job_id)
        job = store.cancel(job_id)
        if job is None:
            current = store.get(job_id)
            assert current is not None
            raise CliError(f"job {job_id} is already {current['status']}; only queued or running jobs can be cancelled")
        print(f"cancelled {job_id}" + (" (it stops at its next progress step)" if job["started_at"] else ""))
        return 0
    finally:
        store.close()


def _resolve_id(store: Any, text: str) -> str:
    from jobdash.model.list_query import shown

    candidate = text.strip().lower()
    if len(candidate) < 4 or any(c not in "0123456789abcdef-" for c in candidate):
        raise CliError(f"job id must be a UUID or a prefix of at least 4 hex characters; got {shown(text)}")
    matches = store.ids_with_prefix(candidate)
    if not matches:
        raise CliError(f"no job with id {shown(text)}")
    if len(matches) > 1:
        raise CliError(f"id prefix {shown(text)} matches {len(matches)} jobs; give more characters")
    return matches[0]


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "scan": cmd_scan,
    "jobs": cmd_jobs,
    "cancel": cmd_cancel,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jobdash`` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except CliError as error:
        print(f"jobdash {args.command}: error: {error}", file=sys.stderr)
        return 1
    except StoreUnavailable as error:
        print(f"jobdash {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
