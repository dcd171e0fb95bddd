#!/usr/bin/env python3
"""Build the static frontend: ``python build.py [--out dist] [...]``; see ``--help``.

The work is done by :mod:`backend.frontend_build`; this file is the entry point named
in DESIGN.md and the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

from backend.frontend_build.cli import main

if __name__ == "__main__":
    # The sources sit beside this file, wherever it is run from; --out is relative to
    # the current directory (default ./dist, where `jobdash serve` looks).
    sys.exit(main(default_source=Path(__file__).resolve().parent / "frontend"))
