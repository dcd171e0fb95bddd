"""``python build.py``: the command line of the frontend build.

Exit codes: 0 built; 1 the build failed (a module that does not parse, a missing
entry module, ...); 2 bad usage or configuration (the message names the key).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from jobdash.build.config import ENV_VARS, KEYS, flag_of, resolve_config
from jobdash.build.errors import BuildError
from jobdash.build.pipeline import build
from jobdash.model.polling import (
    LOG_POLL_INTERVAL_DEFAULT_MS,
    MIN_UPDATE_GAP_DEFAULT_MS,
    MIN_UPDATE_GAP_MAX_MS,
    MIN_UPDATE_GAP_MIN_MS,
    POLL_INTERVAL_DEFAULT_MS,
    POLL_INTERVAL_MAX_MS,
    POLL_INTERVAL_MIN_MS,
    STALL_AFTER_DEFAULT_S,
    STALL_AFTER_MAX_S,
    STALL_AFTER_MIN_S,
    ConfigError,
)

PROG = "build.py"
DEFAULT_CONFIG_NAME = "build.toml"

_HELP: dict[str, tuple[str, str]] = {
    "api_base_url": (
        "URL",
        "absolute http(s) URL of the JSON API when it is on another origin (default: empty, the pages' own origin); added to the CSP's connect-src",
    ),
    "asset_base_url": (
        "URL",
        "where assets/ will be served from: an absolute http(s) URL (a CDN; its origin joins the CSP) or a path starting with / (default: empty, relative to the page)",
    ),
    "poll_interval_ms": (
        "MS",
        f"how often pages poll, {POLL_INTERVAL_MIN_MS}-{POLL_INTERVAL_MAX_MS} ms, out-of-range values are clamped with a warning (default: {POLL_INTERVAL_DEFAULT_MS})",
    ),
    "log_poll_interval_ms": (
        "MS",
        f"how often the detail page polls a running job's log, never below the poll interval (default: {LOG_POLL_INTERVAL_DEFAULT_MS})",
    ),
    "polling_enabled": ("BOOL", "whether pages poll at all: true or false (also 1/0, yes/no, on/off; default: true)"),
    "min_update_gap_ms": (
        "MS",
        f"with a server that holds polls until the data changes (Prefer: wait), the least time between two requests of one view, {MIN_UPDATE_GAP_MIN_MS}-{MIN_UPDATE_GAP_MAX_MS} ms, out-of-range values are clamped with a warning (default: {MIN_UPDATE_GAP_DEFAULT_MS})",
    ),
    "stall_after_s": (
        "SECONDS",
        f"a running job whose progress has not moved for this long shows a stall warning, {STALL_AFTER_MIN_S}-{STALL_AFTER_MAX_S} s, out-of-range values are clamped with a warning (default: {STALL_AFTER_DEFAULT_S})",
    ),
    "debug": ("BOOL", "prefixed debug logging in the browser console: true or false (default: false)"),
}

EPILOG = f"""\
Each setting is taken from, highest first: its command-line flag, its JOBDASH_*
environment variable (an empty one counts as unset), the TOML file (--config FILE, or
{DEFAULT_CONFIG_NAME} in the source directory when present; keys are the flag names with
underscores, e.g. poll_interval_ms = 5000), the default.

Output: DIR/*.html (one per template in templates/ not starting with _), hashed
modules and assets under DIR/assets/, DIR/manifest.json (logical name -> hashed file),
and a .gz copy beside every text file. The same inputs give byte-identical output.
Exit codes: 0 built, 1 the build failed (the message names the file), 2 bad usage or
configuration (the message names the key).
"""


def parser(default_source: Path) -> argparse.ArgumentParser:
    """Given the default source directory, return the argument parser of ``build.py``
    (every flag documented in --help)."""
    result = argparse.ArgumentParser(
        prog=PROG,
        description="Build the static frontend (Jinja2 templates, ES modules, CSS) into a\n"
        "directory that can be uploaded as-is to any static host or CDN.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    result.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML file of settings (default: {DEFAULT_CONFIG_NAME} in the source directory, if any)",
    )
    result.add_argument(
        "--out",
        type=Path,
        default=Path("dist"),
        metavar="DIR",
        help="output directory, replaced atomically; must be empty, absent or a previous build (default: dist)",
    )
    result.add_argument(
        "--source",
        type=Path,
        default=default_source,
        metavar="DIR",
        help="frontend source directory with templates/ and js/ (default: frontend/ beside build.py)",
    )
    for key in KEYS:
        metavar, text = _HELP[key]
        result.add_argument(flag_of(key), dest=key, metavar=metavar, help=f"{text} [env {ENV_VARS[key]}]")
    return result


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    default_source: Path = Path("frontend"),
) -> int:
    """Given the arguments and environment, build the frontend and return the exit code."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    args = parser(default_source).parse_args(argv)
    source: Path = args.source
    config_file: Path | None = args.config
    if config_file is None and (source / DEFAULT_CONFIG_NAME).is_file():
        config_file = source / DEFAULT_CONFIG_NAME
    try:
        config, warnings = resolve_config(
            {key: getattr(args, key) for key in KEYS},
            os.environ if environ is None else environ,
            config_file,
        )
    except ConfigError as error:
        print(f"{PROG}: error: {error}", file=stderr)
        return 2
    for warning in warnings:
        print(f"{PROG}: warning: {warning}", file=stderr)
    try:
        result = build(source, args.out, config)
    except (BuildError, OSError) as error:
        # OSError: an unreadable source file, a full disk, an output directory that
        # cannot be written; the message names the file.
        print(f"{PROG}: error: {error}", file=stderr)
        return 1
    print(result.summary(), file=stdout)
    return 0
