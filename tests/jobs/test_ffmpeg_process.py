"""Child processes a job can stop: lines from both pipes, wake-ups while silent, SIGTERM then SIGKILL."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time

import pytest

from jobdash.jobs.ffmpeg_process import Child, run_captured


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_lines_from_both_pipes_in_order_then_the_exit_status() -> None:
    child = Child(
        python(
            """
            import sys
            print("progress=continue", flush=True)
            print("[error] bad\\r", file=sys.stderr, flush=True)
            print("progress=end", flush=True)
            sys.exit(3)
            """
        )
    )
    try:
        events = [event for event in child.events(poll=0.05) if event is not None]
        assert child.wait() == 3
    finally:
        child.stop()
    assert [e for e in events if e[0] == "stdout"] == [("stdout", "progress=continue"), ("stdout", "progress=end")]
    assert [e for e in events if e[0] == "stderr"] == [("stderr", "[error] bad")]


def test_silence_yields_none_so_the_job_can_look_for_a_cancellation() -> None:
    child = Child(python("import time; time.sleep(30)"))
    try:
        events = child.events(poll=0.05)
        assert [next(events), next(events), next(events)] == [None, None, None]
    finally:
        child.stop()
    assert child.process.returncode == -signal.SIGTERM
    assert gone(child.pid)


def test_stop_kills_a_child_that_ignores_sigterm() -> None:
    child = Child(
        python(
            """
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("ready", flush=True)
            time.sleep(30)
            """
        )
    )
    events = child.events(poll=0.05)
    assert next(event for event in events if event is not None) == ("stdout", "ready")
    child.stop(grace=0.2)
    assert child.process.returncode == -signal.SIGKILL
    assert gone(child.pid)
    child.stop()  # twice is harmless


def test_a_chatty_child_never_blocks_on_a_full_pipe() -> None:
    # 2 MB on stderr, far more than a pipe holds, before its one line on stdout.
    child = Child(python("import sys\nfor _ in range(20000): sys.stderr.write('x' * 99 + '\\n')\nprint('done')"))
    try:
        events = [event for event in child.events(poll=0.05) if event is not None]
        assert child.wait() == 0
    finally:
        child.stop()
    assert ("stdout", "done") in events
    assert sum(1 for stream, _ in events if stream == "stderr") == 20000


def test_run_captured_returns_status_and_output() -> None:
    status, out, err = run_captured(
        python("import sys; print('{}'); print('oops', file=sys.stderr); sys.exit(1)"), check=lambda: None, timeout=30
    )
    assert (status, out, err) == (1, "{}\n", "oops\n")


class Stop(Exception):
    pass


def test_run_captured_kills_the_tool_when_check_raises() -> None:
    calls = 0

    def check() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Stop()

    started = time.monotonic()
    with pytest.raises(Stop):
        run_captured(python("import time; time.sleep(30)"), check=check, timeout=60, poll=0.05)
    assert time.monotonic() - started < 20  # not the tool's 30 s


def test_run_captured_gives_up_after_its_timeout() -> None:
    with pytest.raises(TimeoutError) as raised:
        run_captured(python("import time; time.sleep(30)"), check=lambda: None, timeout=0.2, poll=0.05)
    assert "did not finish in 0.2 s" in str(raised.value)
