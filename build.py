#!/usr/bin/env python3
"""Build the static frontend: ``python build.py [--out dist] [...]``; see ``--help``.

The work is done by :mod:`jobdash.build`; this file is the entry point named
in DESIGN.md and the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Build with the jobdash source beside this file, installed or not (a fresh clone works).
sys.path.insert(0, str(Path(__file__).resolve().parent / "backend"))

from jobdash.build.cli import main  # noqa: E402 (after the path set-up)

if __name__ == "__main__":
    # The sources sit beside this file, wherever it is run from; --out is relative to
    # the current directory (default ./dist, where `jobdash serve` looks).
    sys.exit(main(default_source=Path(__file__).resolve().parent / "frontend"))
