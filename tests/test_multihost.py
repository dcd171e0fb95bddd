"""The multi-host drill (bench/multihost.py) passes: PostgreSQL, the API and two workers
each in a network namespace of their own, sharing nothing but the network (and the
scanned media tree), with every check made over HTTP from a client namespace.

Needs root, iproute2's ``ip`` and PostgreSQL's server programs; skipped, saying which is
missing, without them. About 6 s on 2 CPUs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.postgres import ClusterUnavailable, bin_dir

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "multihost.py"
CANNOT_RUN = 2  # the script's exit status when this machine cannot run it


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "unshare", "runuser", "ss"):
        if shutil.which(tool) is None:
            return f"no `{tool}` here (iproute2 / util-linux)"
    try:
        bin_dir()
    except ClusterUnavailable as error:
        return str(error)
    return None


def test_multihost_drill_passes() -> None:
    missing = _missing()
    if missing:
        pytest.skip(f"multi-host drill not run: {missing}")
    drill = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--timeout", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = drill.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        drill.terminate()  # SIGTERM: the drill removes its namespaces, processes and cluster
        out, err = drill.communicate(timeout=60)
        pytest.fail(f"the drill took over 60 s\n{out}\n{err}")
    if drill.returncode == CANNOT_RUN:  # e.g. a container that may not create namespaces
        pytest.skip(f"multi-host drill not run: {err.strip()}")
    assert drill.returncode == 0, f"exit {drill.returncode}\n{out}\n{err}"
    assert "OK" in out.splitlines()
    assert "by worker: " in out
