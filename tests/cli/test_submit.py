"""`jobdash submit`, `jobdash workers`, `jobdash worker --types` and `serve --api-token-file`,
run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jobdash.model.list_query import ListQuery
from support.cli import clean_env, jobdash


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def test_submit_prints_the_id_and_queues_with_params(store: Any, data: Path, tmp_path: Path) -> None:
    store.register_worker("nas", 1, ("checksum",))  # a type only a worker elsewhere runs
    result = jobdash(
        "submit",
        "checksum",
        "any-name",
        "--param",
        "algo=md5",
        "--param",
        "deep=",
        "--priority",
        "3",
        "--data-dir",
        data,
    )
    assert result.returncode == 0, result.stderr
    job = store.get(result.stdout.strip())
    assert job is not None and (job["job_type"], job["priority"]) == ("checksum", 3)
    assert json.loads(job["params_json"]) == {"algo": "md5", "deep": ""}


def test_params_from_the_environment_and_flags(store: Any, data: Path) -> None:
    """JOBDASH_PARAMS holds one K=V per line; a flag replaces the same name."""
    store.register_worker("nas", 1, ("checksum",))
    env = clean_env(JOBDASH_PARAMS="algo=md5\ndepth=2\n")
    result = jobdash("submit", "checksum", "x", "--param", "algo=sha1", "--data-dir", data, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(store.get(result.stdout.strip())["params_json"]) == {"algo": "sha1", "depth": "2"}


@pytest.mark.parametrize(
    "args, words",
    [
        (["nope", "/"], ["type must be a registered job type, one of ", "scan"]),
        (["scan", "/no/such/dir"], ["does not exist"]),
        (["scan", "/", "--param", "x=1"], ["the scan job takes no params; got 'x'"]),
        (["scan", "/", "--param", "x"], ["--param: must be NAME=VALUE"]),
        (["scan", "/", "--priority", "1001"], ["--priority", "0 (first) to 1000 (last)"]),
        (["scan", "/", "--job-module", "/no/such/module.py"], ["job module file", "does not exist"]),
    ],
)
def test_bad_submissions_exit_2_naming_what_is_wrong(store: Any, data: Path, args: list[str], words: list[str]) -> None:
    if not store.local_targets and words == ["does not exist"]:
        pytest.skip("with workers on other hosts the target is not looked at here")
    result = jobdash("submit", *args, "--data-dir", data)
    assert result.returncode == 2, (result.returncode, result.stderr)
    for word in words:
        assert word in result.stderr, result.stderr
    assert result.stdout == ""
    assert store.job_types() == []


def test_workers_lists_the_registry(store: Any, data: Path) -> None:
    assert "no workers registered" in jobdash("workers", "--data-dir", data).stdout
    job = store.create("/media/<x>\n", "scan")
    alive = store.register_worker("nas", 41, ("scan", "transcode"))
    store.worker_heartbeat(alive, job["id"])
    gone = store.register_worker("farm\x1b[31m", 42, ("transcode",))
    store.worker_stopped(gone)
    result = jobdash("workers", "--data-dir", data)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["WORKER", "HOST", "PID", "STATE", "TYPES", "RUNNING"]
    assert len(lines) == 4 and lines[-1] == "(1 alive, 1 gone)"
    (alive_line,) = [line for line in lines if line.startswith(alive[:8])]
    (gone_line,) = [line for line in lines if line.startswith(gone[:8])]
    assert "  nas  " in alive_line and "alive  scan,transcode" in alive_line and job["id"][:8] in alive_line
    assert "\x1b" not in result.stdout and "farm\\x1b[31m" in gone_line and "gone" in gone_line


def test_jobs_says_which_queued_jobs_wait_for_a_worker(store: Any, data: Path) -> None:
    store.create("/m/a.mkv", "transcode")
    store.create("/m", "scan")
    store.register_worker("nas", 41, ("scan",))
    result = jobdash("jobs", "--data-dir", data)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3
    assert result.stderr.strip() == "1 queued transcode job: waiting for a worker that runs transcode"


def test_worker_types_must_be_available_here(data: Path) -> None:
    result = jobdash("worker", "--types", "scan,checksum", "--data-dir", data)
    assert result.returncode == 2
    assert "job type 'checksum' cannot run here; available: scan" in result.stderr


def test_worker_with_types_claims_only_those(store: Any, data: Path, tmp_path: Path) -> None:
    """`worker --types scan` runs the scan; the checksum job of a module type stays queued."""
    module = tmp_path / "slow_jobs.py"
    module.write_text("from jobdash import job_type\n\n@job_type()\ndef checksum(ctx):\n    return {}\n")
    media = tmp_path / "media"
    media.mkdir()
    checksum_id = jobdash("submit", "checksum", "x", "--job-module", module, "--data-dir", data).stdout.strip()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jobdash",
            "worker",
            "--types",
            "scan",
            "--job-module",
            str(module),
            "--data-dir",
            str(data),
        ],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        scanned = jobdash("scan", media, "--wait", "--data-dir", data)
        assert scanned.returncode == 0, scanned.stderr
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "(job types: scan)" in output, output
    assert store.get(checksum_id)["status"] == "queued"
    (row,) = store.workers()
    assert json.loads(row["types_json"]) == ["scan"] and row["stopped_at"] is not None


@pytest.mark.parametrize(
    "text, mode, words",
    [
        ("a-long-enough-token-123\n", 0o644, ["readable by every user", "chmod 600"]),
        ("short\n", 0o600, ["at least 16 characters"]),
    ],
)
def test_serve_refuses_an_unusable_token_file(
    data: Path, tmp_path: Path, text: str, mode: int, words: list[str]
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(text)
    tokens.chmod(mode)
    result = jobdash("serve", "--api-token-file", tokens, "--port", "1", "--data-dir", data)
    assert result.returncode == 2
    for word in words:
        assert word in result.stderr
    assert "a-long-enough-token-123" not in result.stderr


def test_jobdash_submit_from_python_checks_like_the_cli(
    store: Any, store_url: str | None, data: Path, tmp_path: Path
) -> None:
    """`jobdash.submit(...)` queues in the store with the same checks (ValueError)."""
    import jobdash

    media = tmp_path / "media"
    media.mkdir()
    job = jobdash.submit("scan", str(media), priority=5, data_dir=data, database_url=store_url)
    assert (job["job_type"], job["priority"], job["file_path"]) == ("scan", 5, str(media.resolve()))
    with pytest.raises(ValueError, match="type must be a registered job type, one of .*scan"):
        jobdash.submit("nope", str(media), data_dir=data, database_url=store_url)
    if store.local_targets:
        with pytest.raises(ValueError, match="does not exist"):
            jobdash.submit("scan", str(tmp_path / "missing"), data_dir=data)
    else:
        with pytest.raises(ValueError, match="absolute path"):
            jobdash.submit("scan", "missing", data_dir=data, database_url=store_url)
    assert store.list(ListQuery())[1] == 1
