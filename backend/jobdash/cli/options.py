"""The pieces every ``jobdash`` command shares: options with ``JOBDASH_*`` twins, value
converters that name what is allowed, and the one error a command raises."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jobdash.cli.data_dir import default_data_dir
from jobdash.model.durations import parse_age
from jobdash.model.polling import ConfigError, parse_bool
from jobdash.model.staleness import STALE_AFTER_DEFAULT_S, STALE_AFTER_MIN_S
from jobdash.model.states import LOG_LINES_CAP_DEFAULT, PRIORITY_MAX, PRIORITY_MIN


class CliError(Exception):
    """A request that cannot be carried out; printed as one line, exit code 1."""

    exit_code = 1


class UsageError(CliError):
    """A request that is wrong as given (an unknown job type, a bad param); exit code 2."""

    exit_code = 2


def env(name: str) -> str | None:
    """Given a variable name, return its value, or None when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def number_at_least(minimum: float, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of {unit}; got {text!r}") from None
        if not value >= minimum or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g} {unit}; got {text!r}")
        return value

    return parse


def port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535; got {text!r}")
    return int(text)


def priority(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not PRIORITY_MIN <= int(text) <= PRIORITY_MAX:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from {PRIORITY_MIN} (first) to {PRIORITY_MAX} (last); got {text!r}"
        )
    return int(text)


def age(text: str) -> str:
    """Given an age like ``90d``, return it as given (so messages can repeat it), once
    :func:`~jobdash.model.durations.parse_age` accepts it.

    >>> age(" 90d ")
    '90d'
    """
    try:
        parse_age(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text.strip()


def whole_number(minimum: int, maximum: int, unit: str) -> Callable[[str], int]:
    """Return a converter that takes a whole number of ``unit`` from minimum to maximum.

    >>> whole_number(1, 10, "jobs")("7")
    7
    """

    def parse(text: str) -> int:
        if not (text.isascii() and text.isdigit()) or not minimum <= int(text) <= maximum:
            raise argparse.ArgumentTypeError(
                f"must be a whole number of {unit} from {minimum} to {maximum}; got {text!r}"
            )
        return int(text)

    return parse


PRUNE_BATCH_MAX = 10000
# Bounded so one batch cannot hold the store's write lock for long.
prune_batch = whole_number(1, PRUNE_BATCH_MAX, "jobs")
LOG_LINES_MAX = 100_000_000


def log_lines_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-log-lines``: the cap on one job's log in the PostgreSQL store."""
    add(
        parser,
        "--max-log-lines",
        "JOBDASH_MAX_LOG_LINES",
        convert=whole_number(1, LOG_LINES_MAX, "lines"),
        default=LOG_LINES_CAP_DEFAULT,
        metavar="N",
        help="with --database: keep at most N lines of each job's log, then one line that says the rest "
        "were dropped (default: %(default)s)",
    )


def origin(text: str) -> str:
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


def boolean(name: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        try:
            return parse_bool(name, text)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def add(
    parser: argparse.ArgumentParser,
    flag: str,
    variable: str,
    *,
    convert: Callable[[str], Any] = str,
    default: Any = None,
    help: str,
    **kwargs: Any,
) -> None:
    """Add ``flag`` whose default comes from the environment variable ``variable``."""
    raw = env(variable)
    if raw is not None:
        try:
            default = _params_from_env(raw) if convert is param else convert(raw)
        except argparse.ArgumentTypeError as error:
            parser.error(f"environment variable {variable}: {error}")
    parser.add_argument(flag, type=convert, default=default, help=f"{help} [env {variable}]", **kwargs)


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    # Every command has a data directory, so the options all commands share live here.
    add(
        parser,
        "--log-level",
        "JOBDASH_LOG_LEVEL",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="how much to log (default: info; debug also logs every request)",
    )
    add(
        parser,
        "--data-dir",
        "JOBDASH_DATA_DIR",
        convert=Path,
        default=default_data_dir(),
        metavar="DIR",
        help="where the job database and logs live (default: %(default)s)",
    )


def hostname(text: str) -> str:
    """Given a ``--hostname`` value, return it if it is a printable name of up to 255
    characters.

    >>> hostname(" nas-1 ")
    'nas-1'
    """
    name = text.strip()
    if not name or len(name) > 255 or not name.isprintable():
        raise argparse.ArgumentTypeError(f"must be a printable name of 1 to 255 characters; got {text[:60]!r}")
    return name


def database_url(text: str) -> str:
    """Given a ``--database`` value, return it if it is a PostgreSQL URL.

    >>> database_url("postgresql://jobdash@db.lan/jobdash")
    'postgresql://jobdash@db.lan/jobdash'
    """
    if not text.startswith(("postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError(
            f"must be a PostgreSQL URL, like postgresql://user@host/dbname; got {text[:60]!r} "
            "(without --database, jobdash keeps its jobs in SQLite in the data directory)"
        )
    return text


def database_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--database``: the PostgreSQL store shared by several hosts, instead of SQLite."""
    add(
        parser,
        "--database",
        "JOBDASH_DATABASE_URL",
        convert=database_url,
        metavar="URL",
        help="keep jobs, workers and job logs in this PostgreSQL database "
        "(postgresql://user@host/dbname; add ?pgbouncer=transaction behind PgBouncer in "
        "transaction mode), shared by API replicas and workers on many hosts "
        "(default: SQLite in the data directory)",
    )


def stale_option(parser: argparse.ArgumentParser) -> None:
    add(
        parser,
        "--stale-after",
        "JOBDASH_STALE_AFTER",
        convert=number_at_least(STALE_AFTER_MIN_S, "seconds"),
        default=STALE_AFTER_DEFAULT_S,
        metavar="SECONDS",
        help="heartbeat age after which a running job counts as abandoned and is failed (default: %(default)g)",
    )


def rate_option(parser: argparse.ArgumentParser) -> None:
    add(
        parser,
        "--max-files-per-second",
        "JOBDASH_MAX_FILES_PER_SECOND",
        convert=number_at_least(0, "files per second"),
        default=0.0,
        metavar="N",
        help="cap how fast scans read files, to spare network storage (default: 0, no cap)",
    )


def param(text: str) -> tuple[str, str]:
    """Given ``K=V``, return (K, V).

    >>> param("preset=h264-720p")
    ('preset', 'h264-720p')
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"must be NAME=VALUE, like preset=h264-720p; got {text!r}")
    return key.strip(), value


def _params_from_env(text: str) -> list[tuple[str, str]]:
    """Given ``JOBDASH_PARAMS`` (one K=V per line), return the pairs."""
    return [param(line) for line in text.splitlines() if line.strip()]


def names(text: str) -> list[str]:
    """Given a comma-separated list, return its non-empty items.

    >>> names("transcode, checksum,")
    ['transcode', 'checksum']
    """
    return [item.strip() for item in text.split(",") if item.strip()]


def vpo_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that show an existing VPO library database instead of jobdash's own store."""
    add(
        parser,
        "--vpo-db",
        "JOBDASH_VPO_DB",
        convert=Path,
        metavar="PATH",
        help="show this VPO library database (e.g. ~/.vpo/library.db) read-only instead of jobdash's own "
        "store; no worker runs, nothing is written to it",
    )
    add(
        parser,
        "--vpo-data-dir",
        "JOBDASH_VPO_DATA_DIR",
        convert=Path,
        metavar="DIR",
        help="VPO's data folder, holding logs/ (default: the VPO database's folder)",
    )


def job_types_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that decide which job types a process knows: extra job modules and
    where ffmpeg is (for the built-in transcode)."""
    add(
        parser,
        "--job-module",
        "JOBDASH_JOB_MODULES",
        convert=names,
        default=[],
        metavar="MODULE",
        action="extend",
        help="also load the job types of this module (a module name or a .py file; repeatable; env is comma-separated)",
    )
    add(
        parser,
        "--ffmpeg",
        "JOBDASH_FFMPEG",
        metavar="PATH",
        help="the ffmpeg program for transcode jobs (default: ffmpeg on PATH; ffprobe beside it)",
    )
