"""Running the `jobdash` command as a real process, in an environment of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 60

#: Settings every command of the current test gets (the store fixture of a test that runs
#: on PostgreSQL puts JOBDASH_DATABASE_URL here, and takes it out afterwards).
TEST_ENV: dict[str, str] = {}


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without JOBDASH_* settings, plus the test's own
    (:data:`TEST_ENV`), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDASH_")}
    # Tables fit the terminal's width: the same width whatever runs the tests.
    env["COLUMNS"] = "120"
    env.update(TEST_ENV)
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
