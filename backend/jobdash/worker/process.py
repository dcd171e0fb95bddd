"""The worker as a child process of ``jobdash serve``.

A separate process keeps scans (file I/O and hashing) off the server's GIL, and it can
die without taking the API down; stale-heartbeat recovery covers that case. The child
watches its parent's pid, so it stops even if the server is killed outright.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("jobdash.server")

PARENT_PID_ENV = "JOBDASH_WORKER_PARENT_PID"
STOP_TIMEOUT_S = 15.0


class WorkerProcess:
    """Starts ``jobdash worker`` for a data directory (or a PostgreSQL database);
    :meth:`stop` ends it. Idempotent."""

    def __init__(
        self,
        data_dir: Path,
        stale_after: float,
        max_files_per_second: float = 0,
        database_url: str | None = None,
        max_log_lines: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.max_log_lines = max_log_lines
        self.stale_after = stale_after
        self.max_files_per_second = max_files_per_second
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the worker child unless it is already running."""
        if self._process is not None and self._process.poll() is None:
            return
        command = [
            sys.executable,
            "-m",
            "jobdash",
            "worker",
            "--data-dir",
            str(self.data_dir),
            "--stale-after",
            f"{self.stale_after:g}",
            "--max-files-per-second",
            f"{self.max_files_per_second:g}",
        ]
        env = {**os.environ, PARENT_PID_ENV: str(os.getpid())}
        if self.database_url:
            # In the environment, not the command line: a URL may carry a password, and
            # every user of the host can read command lines.
            env["JOBDASH_DATABASE_URL"] = self.database_url
        if self.max_log_lines is not None:
            env["JOBDASH_MAX_LOG_LINES"] = str(self.max_log_lines)
        self._process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
        log.info("worker process %d started", self._process.pid)

    def stop(self) -> None:
        """Ask the worker to stop (SIGTERM: it releases its job), then wait; kill if stuck."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("worker process %d did not stop in %.0f s; killing it", process.pid, STOP_TIMEOUT_S)
            process.kill()
            process.wait()
