"""The long-running commands: ``jobdash serve`` (API, pages, worker child) and
``jobdash worker``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from pathlib import Path

from jobdash.cli.options import CliError, UsageError, env
from jobdash.cli.stores import open_cli_store
from jobdash.cli.submit import load_types
from jobdash.model.polling import ConfigError, polling_config
from jobdash.store.interface import JobStore, StoreUnavailable
from jobdash.version import __version__
from jobdash.worker.registry import RegistryError

log = logging.getLogger("jobdash")


def _share_job_type_options(args: argparse.Namespace) -> None:
    """Put the job-type options in the environment, where a worker child started by this
    process finds them (every flag has its JOBDASH_* twin)."""
    if args.job_module:
        os.environ["JOBDASH_JOB_MODULES"] = ",".join(args.job_module)
    if args.ffmpeg:
        os.environ["JOBDASH_FFMPEG"] = args.ffmpeg


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API server (and the worker child) until interrupted."""
    import uvicorn

    from jobdash.http.app import create_app
    from jobdash.http.auth import TokenFileError, read_token_file
    from jobdash.http.serving import run_server
    from jobdash.http.settings import ServerSettings
    from jobdash.worker.process import WorkerProcess

    try:
        polling, warnings = polling_config(args.poll_interval_ms, args.log_poll_interval_ms, args.polling_enabled)
    except ConfigError as error:
        raise CliError(str(error)) from None
    for warning in warnings:
        log.warning(warning)
    tokens: tuple[str, ...] = ()
    if args.api_token_file is not None:
        try:
            tokens = read_token_file(args.api_token_file)
        except TokenFileError as error:
            raise UsageError(str(error)) from None
    _share_job_type_options(args)
    types = load_types(args.job_module, args.ffmpeg)
    dist = args.dist
    if dist is None and (Path.cwd() / "dist" / "index.html").is_file():
        dist = Path.cwd() / "dist"
    # Refuses an unusable data dir, or VPO database, before start-up.
    store = _open_when_free(args)
    store.close()
    settings = ServerSettings(
        data_dir=store.data_dir,
        database_url=args.database,
        log_lines_cap=args.max_log_lines,
        vpo_db=args.vpo_db,
        vpo_data_dir=args.vpo_data_dir,
        dist=dist,
        cors_origins=tuple(dict.fromkeys(args.cors_origin)),
        stale_after=args.stale_after,
        polling=polling,
        # VPO's job types are VPO's, whatever the same names mean to jobdash's own types.
        job_types={} if store.read_only else types.infos,
        api_tokens=tokens,
        max_wait=args.max_wait,
    )
    # VPO runs its own jobs: no worker of ours touches its database.
    worker = (
        None
        if args.no_worker or store.read_only
        else WorkerProcess(
            settings.data_dir, settings.stale_after, args.max_files_per_second, args.database, args.max_log_lines
        )
    )
    try:
        app = create_app(settings, worker=worker)
    except RuntimeError as error:
        raise CliError(str(error)) from None
    where = f"http://{args.host}:{args.port}"
    print(
        f"jobdash {__version__} serving on {where} (API {where}/api/jobs; "
        f"frontend: {dist or 'none, API only'}; "
        f"{_store_shown(args, store, settings.data_dir)}; "
        f"worker: {'off' if worker is None else 'on'}; writes: {'on' if tokens else 'off'})",
        flush=True,
    )
    config = uvicorn.Config(
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
    run_server(config)
    return 0


def _store_shown(args: argparse.Namespace, store: JobStore, data_dir: Path) -> str:
    """Say which store a server runs on (a database URL without its password)."""
    if store.read_only:
        return f"VPO library {args.vpo_db} (read-only)"
    if args.database:
        return f"database: {store}"
    return f"data: {data_dir}"


def _open_when_free(args: argparse.Namespace, wait_s: float = 30.0) -> JobStore:
    """Open the command's store, waiting out a store that cannot serve yet (a server
    migrating a new SQLite database at the same moment, a PostgreSQL server still
    starting): services started in any order come up by themselves."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return open_cli_store(
                args.data_dir,
                database_url=args.database,
                log_lines_cap=getattr(args, "max_log_lines", None),
                vpo_db=getattr(args, "vpo_db", None),
                vpo_data_dir=getattr(args, "vpo_data_dir", None),
            )
        except StoreUnavailable as error:
            if time.monotonic() >= deadline:
                raise
            log.warning("store not ready (%s); retrying", error)
            time.sleep(1.0)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a worker until SIGTERM/SIGINT."""
    from jobdash.worker.loop import Worker
    from jobdash.worker.process import PARENT_PID_ENV

    types = load_types(args.job_module, args.ffmpeg)
    if args.types:
        try:
            types = types.only(args.types)
        except RegistryError as error:
            raise UsageError(str(error)) from None
    if not types.handlers:
        raise UsageError("no job type can run here; install a plugin or pass --job-module")
    for name, reason in sorted(types.unavailable.items()):
        if not args.types:
            log.warning("job type %s is not available here: %s", name, reason)
    store = _open_when_free(args)
    parent = env(PARENT_PID_ENV)
    worker = Worker(
        store,
        handlers=types.handlers,
        stale_after=args.stale_after,
        parent_pid=int(parent) if parent else None,
        max_files_per_second=args.max_files_per_second,
        host=args.hostname,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    try:
        worker.run()
    finally:
        store.close()
    return 0
