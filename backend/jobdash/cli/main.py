"""The ``jobdash`` command: serve, worker, scan, submit, jobs, workers, cancel, prune.

Every flag has a ``JOBDASH_*`` environment twin (the flag wins). Errors are one line
on stderr with a non-zero exit code: 2 for bad usage, 1 when the request fails.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from jobdash.cli.job_commands import cmd_cancel, cmd_jobs, cmd_prune, cmd_scan, cmd_submit, cmd_workers
from jobdash.cli.options import CliError
from jobdash.cli.parser import build_parser
from jobdash.cli.server_commands import cmd_serve, cmd_worker
from jobdash.store.interface import StoreUnavailable

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "scan": cmd_scan,
    "submit": cmd_submit,
    "jobs": cmd_jobs,
    "workers": cmd_workers,
    "cancel": cmd_cancel,
    "prune": cmd_prune,
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
        return error.exit_code
    except StoreUnavailable as error:
        print(f"jobdash {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
