"""The commands on jobs and workers: scan, submit, jobs, cancel, workers, prune."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobdash.cli.options import CliError
from jobdash.cli.stores import open_cli_store
from jobdash.cli.submit import load_types, submit_job
from jobdash.cli.table import format_jobs_table, format_workers_table, media_time, waiting_notes
from jobdash.model.durations import parse_age
from jobdash.model.items import progress_counts, progress_unit, worker_item
from jobdash.model.list_query import (
    LIMIT_MAX,
    ListQuery,
    ParamError,
    check_known_types,
    parse_choices,
    parse_type_names,
    shown,
)
from jobdash.model.staleness import STALE_AFTER_DEFAULT_S
from jobdash.model.states import STATUSES, is_terminal
from jobdash.store.interface import JobStore, ReadOnlyStore
from jobdash.util.targets import absolute_target, target_problem
from jobdash.util.timestamps import to_iso


def _scan_root(text: str, *, here: bool = True) -> str:
    """Given the folder to scan, return it absolute; CliError naming what is wrong. With
    ``here`` False (workers on other hosts: --database) only its form is checked."""
    if not here:
        problem = target_problem("directory", text, here=False)
        if problem is not None:
            raise CliError(problem)
        return absolute_target("directory", text, here=False)
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


def _queue(args: argparse.Namespace, job_type: str, target: str, params: dict[str, str]) -> int:
    """Queue a job through the shared checks; print its id; with --wait, follow it."""
    types = load_types(getattr(args, "job_module", ()), getattr(args, "ffmpeg", None))
    store = open_cli_store(args.data_dir, database_url=args.database)
    try:
        job = submit_job(store, types.infos, job_type, target, params=params, priority=args.priority)
        print(job["id"], flush=True)
        return _wait(store, job["id"]) if args.wait else 0
    finally:
        store.close()


def cmd_scan(args: argparse.Namespace) -> int:
    """Queue a scan; print its id; with --wait, follow it to its end."""
    return _queue(args, "scan", _scan_root(args.directory, here=args.database is None), {})


def cmd_submit(args: argparse.Namespace) -> int:
    """Queue a job of any registered type; print its id; with --wait, follow it."""
    # JOBDASH_PARAMS come first, then the flags: a later K=V replaces an earlier one.
    return _queue(args, args.job_type, args.target, dict(args.param))


def _progress_text(job: dict[str, object]) -> str:
    processed, total = progress_counts(job)
    if total is None or processed is None:
        return ""
    unit = progress_unit(job) or "files"
    if unit == "seconds":
        return f" {media_time(processed)}/{media_time(total)}"
    return f" {processed}/{total} {unit}"


def _wait(store: JobStore, job_id: str) -> int:
    last = None
    while True:
        job = store.get(job_id)
        if job is None:
            raise CliError(f"job {job_id} disappeared from the store")
        state = (job["status"], _progress_text(job))
        if state != last:
            print(f"{job['status']}{state[1]}", file=sys.stderr, flush=True)
            last = state
        if is_terminal(job["status"]):
            if job["error_message"]:
                print(f"error: {job['error_message']}", file=sys.stderr)
            return 0 if job["status"] == "completed" else 1
        time.sleep(0.5)


def _live_types(store: JobStore, stale_after: float = STALE_AFTER_DEFAULT_S) -> set[str]:
    now = datetime.now(UTC)
    items = [worker_item(row, now=now, stale_after_s=stale_after) for row in store.workers()]
    return {name for item in items if item["state"] == "alive" for name in item["types"]}


def cmd_jobs(args: argparse.Namespace) -> int:
    """Print the jobs table, and which queued jobs wait for a worker of their type."""
    if not 1 <= args.limit <= LIMIT_MAX:
        raise CliError(f"--limit must be from 1 to {LIMIT_MAX}; got {args.limit}")
    try:
        query = ListQuery(
            statuses=parse_choices("--status", args.status, STATUSES) if args.status else (),
            types=parse_type_names("--type", args.type) if args.type else (),
            limit=args.limit,
        )
    except ParamError as error:
        raise CliError(str(error)) from None
    store = open_cli_store(
        args.data_dir, database_url=args.database, vpo_db=args.vpo_db, vpo_data_dir=args.vpo_data_dir
    )
    try:
        if query.types:
            try:
                check_known_types("--type", query.types, set(store.job_types()) | set(load_types().handlers))
            except ParamError as error:
                raise CliError(str(error)) from None
        rows, total = store.list(query)
        live = None if store.read_only else _live_types(store)
    finally:
        store.close()
    if not rows:
        print("no jobs" + (" match these filters" if query.has_filters else " yet; queue one with `jobdash scan DIR`"))
        return 0
    print(format_jobs_table(rows, shutil.get_terminal_size((120, 24)).columns))
    if total > len(rows):
        print(f"({len(rows)} of {total:,} shown; use --limit or filters)")
    # On stderr: stdout stays one line per job for scripts. Not for another program's store
    # (VPO): its workers do not register here.
    for note in waiting_notes(rows, live) if live is not None else []:
        print(note, file=sys.stderr)
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    """Print the workers registry."""
    store = open_cli_store(args.data_dir, database_url=args.database)
    try:
        rows = store.workers()
    finally:
        store.close()
    now = datetime.now(UTC)
    items = [worker_item(row, now=now, stale_after_s=args.stale_after) for row in rows]
    if not items:
        print("no workers registered; start one with `jobdash worker` (or `jobdash serve`)")
        return 0
    print(format_workers_table(items))
    alive = sum(1 for item in items if item["state"] == "alive")
    print(f"({alive} alive, {len(items) - alive} gone)")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel a job by id or unique prefix."""
    store = open_cli_store(args.data_dir, database_url=args.database)
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


def _resolve_id(store: JobStore, text: str) -> str:
    candidate = text.strip().lower()
    if len(candidate) < 4 or any(c not in "0123456789abcdef-" for c in candidate):
        raise CliError(f"job id must be a UUID or a prefix of at least 4 hex characters; got {shown(text)}")
    matches = store.ids_with_prefix(candidate)
    if not matches:
        raise CliError(f"no job with id {shown(text)}")
    if len(matches) > 1:
        raise CliError(f"id prefix {shown(text)} matches {len(matches)} jobs; give more characters")
    return matches[0]


def cmd_prune(args: argparse.Namespace) -> int:
    """Delete finished jobs older than --older-than, with their logs; print how many."""
    seconds = parse_age(args.older_than)  # checked by the parser already
    now = datetime.now(UTC)
    store = open_cli_store(
        args.data_dir, database_url=args.database, vpo_db=args.vpo_db, vpo_data_dir=args.vpo_data_dir
    )
    try:
        deleted = store.prune(seconds, now=now, batch=args.batch)
    except ReadOnlyStore as error:
        raise CliError(str(error)) from None
    finally:
        store.close()
    cutoff = to_iso(now - timedelta(seconds=seconds))
    jobs = "finished job" if deleted == 1 else "finished jobs"
    print(f"pruned {deleted:,} {jobs} older than {args.older_than} (completed, failed or cancelled before {cutoff})")
    return 0
