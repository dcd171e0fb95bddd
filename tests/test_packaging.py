"""What `pip install .` installs: exactly the `jobdash` package, its command and its job types."""

from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel that `pip install .` would install, built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("jobdash-*.whl")
    return zipfile.ZipFile(path)


def test_the_only_top_level_package_is_jobdash(wheel: zipfile.ZipFile) -> None:
    """No `backend` (or any other) top-level module is installed beside `jobdash`."""
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"jobdash"}


def test_every_subpackage_is_installed(wheel: zipfile.ZipFile) -> None:
    """The layers the README names are all in the wheel, each with its __init__.py."""
    names = set(wheel.namelist())
    for package in ("cli", "http", "worker", "store", "store/sqlite", "model", "util", "jobs", "build"):
        assert f"jobdash/{package}/__init__.py" in names, package


def test_command_and_builtin_job_types_are_entry_points(wheel: zipfile.ZipFile) -> None:
    """The `jobdash` command and the built-in `scan` job type are declared entry points."""
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    points = configparser.ConfigParser()
    points.read_string(wheel.read(name).decode())
    assert points["console_scripts"]["jobdash"] == "jobdash.cli.main:main"
    assert points["jobdash.job_types"]["scan"] == "jobdash.jobs.scan:run_scan"
