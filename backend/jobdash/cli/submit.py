"""Queueing a job from this host, with the checks the API makes: ``jobdash submit``,
``jobdash scan`` and the Python call :func:`jobdash.submit`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jobdash.cli.data_dir import default_data_dir, prepare_data_dir
from jobdash.cli.options import CliError, UsageError
from jobdash.model.job_types import JobTypeInfo
from jobdash.model.states import PRIORITY_DEFAULT
from jobdash.model.submission import (
    SubmissionError,
    check_params,
    check_priority,
    check_target,
    check_type,
    check_type_params,
)
from jobdash.store.factory import open_store
from jobdash.store.interface import JobStore, Row
from jobdash.util.targets import absolute_target, target_problem
from jobdash.worker.registry import JobTypes, RegistryError, load_job_types


def load_types(job_modules: Iterable[str] = (), ffmpeg: str | None = None) -> JobTypes:
    """Return the job types this host can run (entry points and ``job_modules``);
    ``ffmpeg`` names the ffmpeg program for the transcode type. UsageError when a job
    module cannot be loaded."""
    if ffmpeg:
        os.environ["JOBDASH_FFMPEG"] = ffmpeg  # read by the transcode type, here and in a worker child
    try:
        return load_job_types(job_modules)
    except RegistryError as error:
        raise UsageError(str(error)) from None


def registered(store: JobStore, infos: Mapping[str, JobTypeInfo]) -> dict[str, JobTypeInfo]:
    """Return the job types a job may be submitted for: installed here, or run by a
    worker in the store's registry (whose target is not known here: "any")."""
    known = dict(infos)
    for row in store.workers():
        for name in json.loads(row.get("types_json") or "[]"):
            known.setdefault(name, JobTypeInfo(name))
    return known


def submit_job(
    store: JobStore,
    infos: Mapping[str, JobTypeInfo],
    job_type: str,
    target: str,
    *,
    params: dict[str, Any] | None = None,
    priority: int = PRIORITY_DEFAULT,
) -> Row:
    """Check a submission like the API does and queue it; return the job's row.

    UsageError names what is wrong: the type (and the registered ones), the target, a
    param, the priority.
    """
    known = registered(store, infos)
    try:
        check_type(job_type, known)
        check_target(target)
        params = check_params(params)
        check_priority(priority)
        check_type_params(known[job_type], params)
    except SubmissionError as error:
        raise UsageError(str(error)) from None
    kind = known[job_type].target
    problem = target_problem(kind, target, here=store.local_targets)
    if problem is not None:
        raise UsageError(problem)
    return store.create(
        absolute_target(kind, target, here=store.local_targets), job_type, priority=priority, params=params
    )


def submit(
    job_type: str,
    target: str,
    *,
    params: dict[str, Any] | None = None,
    priority: int = PRIORITY_DEFAULT,
    data_dir: str | Path | None = None,
    database_url: str | None = None,
    job_modules: Iterable[str] = (),
) -> dict[str, Any]:
    """Queue a job and return its row, with the checks of the API.

    The store is the PostgreSQL database at ``database_url`` (default
    ``JOBDASH_DATABASE_URL``) when there is one, else SQLite in ``data_dir`` (default
    ``JOBDASH_DATA_DIR`` or the per-platform default). Raises ValueError (naming what is
    wrong) for a bad submission, StoreUnavailable when the database cannot be reached.

    >>> job = jobdash.submit("scan", "~/Media", priority=10)  # doctest: +SKIP
    """
    directory = (
        Path(data_dir) if data_dir is not None else Path(os.environ.get("JOBDASH_DATA_DIR") or default_data_dir())
    )
    url = database_url if database_url is not None else os.environ.get("JOBDASH_DATABASE_URL") or None
    try:
        store = open_store(directory, database_url=url) if url else open_store(prepare_data_dir(directory))
    except (ValueError, RuntimeError) as error:
        raise ValueError(str(error)) from None
    try:
        return submit_job(store, load_types(job_modules).infos, job_type, target, params=params, priority=priority)
    except CliError as error:
        raise ValueError(str(error)) from None
    finally:
        store.close()
