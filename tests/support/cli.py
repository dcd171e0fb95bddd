"""Running the `jobdash` command as a real process, in an environment of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 60


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without JOBDASH_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDASH_")}
    env.update(extra)
    return env


def jobdash(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m jobdash ARGS` and return the finished process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "jobdash", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env if env is not None else clean_env(),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
