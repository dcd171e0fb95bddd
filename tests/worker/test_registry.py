"""Job types as plugins: entry points of installed distributions, job modules, and what
each handler declares (jobdash.worker.registry)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jobdash.worker.registry import RegistryError, declaration, job_type, load_job_types
from support.cli import clean_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "example_plugin"


def run(*args: Any, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_builtin_types_register_through_entry_points() -> None:
    types = load_job_types()
    assert "scan" in types.handlers
    assert types.infos["scan"].target == "directory"


def test_the_decorator_declares_without_changing_the_function() -> None:
    def plain(ctx: Any) -> dict[str, Any]:
        return {}

    marked = job_type("renamed", target="file", description="d", available=lambda: None)(plain)
    assert marked is plain
    declared = declaration(plain)
    assert (declared.name, declared.target, declared.description) == ("renamed", "file", "d")
    assert declaration(lambda ctx: {}).target == "any"


def write_module(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_a_job_module_by_file_and_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--job-module` takes a .py file or an importable module (the current folder counts);
    its functions marked with @job_type register under their names."""
    write_module(
        tmp_path,
        "my_jobs",
        """
        from jobdash import job_type

        @job_type(target="any", description="Say hello")
        def hello(ctx):
            return {"greeting": "hello " + ctx.target}

        @job_type("tidy-up")
        def tidy(ctx):
            return {}

        def helper(ctx):  # not marked: not a job type
            return {}
        """,
    )
    by_file = load_job_types([str(tmp_path / "my_jobs.py")])
    assert {"hello", "tidy-up", "scan"} <= set(by_file.handlers) and "helper" not in by_file.handlers
    assert by_file.infos["hello"].description == "Say hello"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    by_name = load_job_types(["my_jobs"])
    assert "hello" in by_name.handlers


@pytest.mark.parametrize(
    "body, words",
    [
        ("def nothing(ctx):\n    return {}\n", ["declares no job type", "@jobdash.job_type()"]),
        ("raise RuntimeError('boom at import')\n", ["cannot be imported", "boom at import"]),
    ],
)
def test_bad_job_modules_are_refused_saying_why(tmp_path: Path, body: str, words: list[str]) -> None:
    path = write_module(tmp_path, "bad_jobs", body)
    with pytest.raises(RegistryError) as excinfo:
        load_job_types([str(path)])
    for word in words:
        assert word in str(excinfo.value)
    with pytest.raises(RegistryError, match="does not exist"):
        load_job_types([str(tmp_path / "missing.py")])


def test_unavailable_types_are_left_out_with_their_reason(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        "gpu_jobs",
        """
        from jobdash import job_type

        @job_type(available=lambda: "no GPU on this host")
        def upscale(ctx):
            return {}
        """,
    )
    types = load_job_types([str(path)])
    assert "upscale" not in types.handlers and types.unavailable["upscale"] == "no GPU on this host"
    with pytest.raises(RegistryError, match=r"job type 'upscale' cannot run here \(no GPU on this host\); available: "):
        types.only(["upscale"])
    assert set(types.only(["scan"]).handlers) == {"scan"}


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin distribution, really installed by pip into a folder of its own."""
    site = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("plugin") / "example_plugin"
    shutil.copytree(EXAMPLE, source)  # the build writes beside the sources: not in the checkout
    result = run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, source, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(site.glob("jobdash_checksum-1.0.dist-info/entry_points.txt"))
    return site


def test_an_installed_distribution_registers_its_job_type(plugin_site: Path, tmp_path: Path) -> None:
    """Discovery through a real entry point: a worker runs the plugin, and the CLI submits it
    with the same checks (an unknown type is exit 2 naming the registered ones)."""
    env = clean_env(PYTHONPATH=str(plugin_site), JOBDASH_DATA_DIR=str(tmp_path / "data"))
    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    for name, content in (("a.mkv", b"one"), ("sub/b.mp4", b"two"), ("c.txt", b"three")):
        (media / name).write_bytes(content)
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobdash", "worker", "--types", "checksum"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        submitted = run(
            sys.executable, "-m", "jobdash", "submit", "checksum", media, "--param", "algorithm=sha1", "--wait", env=env
        )
        assert submitted.returncode == 0, submitted.stderr
        assert "completed 3/3 files" in submitted.stderr
        listed = run(sys.executable, "-m", "jobdash", "jobs", "--type", "checksum", env=env)
        assert "checksum  completed  3/3 100%" in re.sub(
            r" +", lambda m: "  " if len(m.group()) > 1 else " ", listed.stdout
        )
        unknown = run(sys.executable, "-m", "jobdash", "submit", "checksumm", media, env=env)
        assert unknown.returncode == 2
        assert "type must be a registered job type, one of checksum, scan" in unknown.stderr
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "job types: checksum" in output, output
    job_id = submitted.stdout.strip()
    log = (tmp_path / "data" / "logs" / f"{job_id}.log").read_text()
    assert "a9993e364706816aba3e25717850c26c9cd0d89d" not in log  # not the sha1 of "abc": real hashes below
    import hashlib

    assert f"{hashlib.sha1(b'one').hexdigest()}  {media / 'a.mkv'}" in log


def test_the_readme_example_is_the_tested_plugin() -> None:
    """The ten-line plugin the README shows is exactly the one these tests install."""
    readme = (ROOT / "README.md").read_text()
    source = (EXAMPLE / "jobdash_checksum.py").read_text()
    assert source.split('"""', 2)[2].strip() in readme


def test_job_type_listing_is_json_friendly() -> None:
    """Declarations serialise for /api/job-types: names, targets, descriptions."""
    infos = load_job_types().infos
    json.dumps({name: [info.target, info.description] for name, info in infos.items()})
