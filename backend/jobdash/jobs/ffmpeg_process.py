"""Running ffmpeg and ffprobe as child processes that a job can stop at any moment.

:class:`Child` reads both of a child's pipes in threads (so it never blocks on a full
pipe) and hands their lines to the job's thread through one queue, waking it at least
every ``poll`` seconds so the job can look for a cancellation while the child is silent.
:func:`run_captured` runs a short tool the same way, for its whole output.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO

STOP_GRACE_S = 5.0
POLL_S = 0.25
# ffmpeg colours its messages only on a terminal; this makes sure, whatever the terminal.
CHILD_ENV = {"AV_LOG_FORCE_NOCOLOR": "1"}

Event = tuple[str, str]


class Child:
    """A running child whose stdout and stderr lines arrive, decoded, in :meth:`events`."""

    def __init__(self, args: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **CHILD_ENV},
        )
        self._lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(name, pipe), name=f"child-{name}", daemon=True)
            for name, pipe in (("stdout", self.process.stdout), ("stderr", self.process.stderr))
        ]
        for reader in self._readers:
            reader.start()

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def _read(self, name: str, pipe: IO[bytes] | None) -> None:
        assert pipe is not None
        try:
            for raw in iter(pipe.readline, b""):
                self._lines.put((name, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
        except (OSError, ValueError):
            pass  # the pipe was closed under us by stop(): nothing more to read
        finally:
            self._lines.put((name, None))

    def events(self, poll: float = POLL_S) -> Iterator[Event | None]:
        """Yield ``(stream, line)`` as lines arrive, and None after each ``poll`` seconds
        of silence, until both pipes are closed (the child has exited)."""
        open_pipes = len(self._readers)
        while open_pipes:
            try:
                stream, line = self._lines.get(timeout=poll)
            except queue.Empty:
                yield None
                continue
            if line is None:
                open_pipes -= 1
            else:
                yield stream, line

    def wait(self) -> int:
        """Wait for the child to exit; return its exit status (negative: killed by that signal)."""
        return self.process.wait()

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """End the child if it still runs: SIGTERM, then SIGKILL after ``grace`` seconds;
        then reap it and close its pipes. Safe to call more than once."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(grace)  # the pipes reach their end once the child is gone
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def run_captured(
    args: Sequence[str], *, check: Callable[[], None], timeout: float, poll: float = POLL_S
) -> tuple[int, str, str]:
    """Run a short tool to its end; return (exit status, stdout, stderr).

    Calls ``check()`` every ``poll`` seconds while it runs (it raises to stop: the tool is
    then killed). TimeoutError after ``timeout`` seconds (a hung network mount).
    """
    process = subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **CHILD_ENV},
    )
    give_up = time.monotonic() + timeout
    try:
        while True:
            try:
                out, err = process.communicate(timeout=poll)
            except subprocess.TimeoutExpired:
                check()
                if time.monotonic() > give_up:
                    raise TimeoutError(f"{os.path.basename(args[0])} did not finish in {timeout:g} s") from None
                continue  # communicate() again: no output is lost
            return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
