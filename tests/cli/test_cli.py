"""The `jobdash` command, run as a real process (jobdash.cli.main)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jobdash.jobs.sample_library import make_library
from jobdash.store.factory import open_store
from jobdash.store.sqlite.store import SqliteStore
from support.cli import TIMEOUT_S, clean_env, jobdash
from support.sqlhelpers import set_columns

UUID_LINE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """An empty data directory."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A small media tree."""
    path = tmp_path / "media"
    make_library(path, files=3)
    return path


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert stderr is a single line and return it."""
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- scan ------------------------------------------------------------------------------------


def test_scan_prints_the_new_job_id(data: Path, media: Path, store: SqliteStore) -> None:
    """`scan DIR` queues a scan of the resolved directory and prints only its UUID."""
    result = jobdash("scan", media, "--data-dir", data)
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    assert UUID_LINE.match(job_id) and result.stdout == job_id + "\n"
    job = store.get(job_id)
    assert job is not None
    assert (job["job_type"], job["status"], job["file_path"], job["priority"]) == (
        "scan",
        "queued",
        str(media.resolve()),
        100,
    )


def test_scan_with_priority(data: Path, media: Path, store: SqliteStore) -> None:
    """--priority sets the job's priority."""
    result = jobdash("scan", media, "--priority", "0", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert store.get(result.stdout.strip())["priority"] == 0  # type: ignore[index]


def test_scan_of_a_missing_directory(data: Path, tmp_path: Path) -> None:
    """A missing directory: exit 1 and a one-line error naming it; no job is queued."""
    missing = tmp_path / "no such dir"
    result = jobdash("scan", missing, "--data-dir", data)
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith("jobdash scan: error:")
    assert str(missing) in line and "does not exist" in line
    assert result.stdout == ""


def test_scan_of_a_file(data: Path, tmp_path: Path) -> None:
    """A file instead of a directory is refused with a clear error."""
    file = tmp_path / "movie.mkv"
    file.write_bytes(b"x")
    result = jobdash("scan", file, "--data-dir", data)
    assert result.returncode == 1
    line = one_line_error(result)
    assert str(file) in line and "not a directory" in line


@pytest.mark.parametrize("priority", ["5000", "-1", "high", "1.5"])
def test_scan_with_a_bad_priority_is_a_usage_error(data: Path, media: Path, priority: str) -> None:
    """--priority outside 0-1000 exits 2 with a usage error saying what is allowed."""
    result = jobdash("scan", media, "--priority", priority, "--data-dir", data)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "--priority" in result.stderr and "0 (first) to 1000 (last)" in result.stderr


def test_scan_wait_follows_the_job_to_completion(data: Path, media: Path, tmp_path: Path) -> None:
    """`scan --wait` with a worker in another process exits 0 once the scan completed."""
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobdash", "worker", "--data-dir", str(data)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    try:
        result = jobdash("scan", media, "--wait", "--data-dir", data)
        assert result.returncode == 0, result.stderr
        assert UUID_LINE.match(result.stdout.strip())
        assert "completed 3/3 files" in result.stderr
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(TIMEOUT_S)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            log.close()
    assert worker.returncode == 0


# --- jobs ------------------------------------------------------------------------------------


def test_jobs_when_empty(data: Path) -> None:
    """With no jobs the command says so and how to queue one."""
    result = jobdash("jobs", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no jobs yet")


def test_jobs_with_filters_matching_nothing(data: Path, store: SqliteStore) -> None:
    """Filters that match nothing say so rather than "no jobs yet"."""
    store.create("/m", "scan")
    result = jobdash("jobs", "--status", "failed", "--data-dir", data)
    assert result.returncode == 0
    assert result.stdout.strip() == "no jobs match these filters"


def test_jobs_prints_the_table(data: Path, store: SqliteStore) -> None:
    """`jobs` prints a header and one row per job, newest first, with hostile paths escaped."""
    first = store.create("/media/<b>bold</b>\n\x1b[31mred", "scan")
    time.sleep(0.002)  # distinct creation milliseconds
    second = store.create("/media/plain", "move")
    result = jobdash("jobs", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").split("\n")
    assert len(lines) == 3
    assert lines[0].split() == ["ID", "TYPE", "STATUS", "PROGRESS", "PATH", "CREATED"]
    assert lines[1].startswith(second["id"][:8]) and "move" in lines[1]
    assert lines[2].startswith(first["id"][:8])
    assert "/media/<b>bold</b>\\n\\x1b[31mred" in lines[2]
    assert "\x1b" not in result.stdout


def test_jobs_status_filter(data: Path, store: SqliteStore) -> None:
    """--status keeps only jobs with those statuses."""
    keep = store.create("/keep", "scan")
    drop = store.create("/drop", "scan")
    store.cancel(keep["id"])
    result = jobdash("jobs", "--status", "cancelled,failed", "--data-dir", data)
    assert result.returncode == 0
    assert keep["id"][:8] in result.stdout and drop["id"][:8] not in result.stdout


def test_jobs_bogus_status_is_a_clear_error(data: Path) -> None:
    """--status bogus exits 1 naming the option and the allowed statuses."""
    result = jobdash("jobs", "--status", "bogus", "--data-dir", data)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "--status must be one of queued, running, completed, failed, cancelled" in line
    assert "'bogus'" in line


def test_jobs_limit_shows_how_many_were_left_out(data: Path, store: SqliteStore) -> None:
    """With more jobs than --limit, the table says how many it showed."""
    for i in range(3):
        store.create(f"/m/{i}", "scan")
    result = jobdash("jobs", "--limit", "2", "--data-dir", data)
    assert result.returncode == 0
    assert "(2 of 3 shown; use --limit or filters)" in result.stdout


@pytest.mark.parametrize("limit", ["0", "101"])
def test_jobs_bad_limit(data: Path, limit: str) -> None:
    """--limit outside 1-100 is refused with the allowed range."""
    result = jobdash("jobs", "--limit", limit, "--data-dir", data)
    assert result.returncode != 0
    assert "--limit must be from 1 to 100" in result.stderr


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_unknown_id(data: Path) -> None:
    """An id matching no job exits 1 saying there is no such job."""
    result = jobdash("cancel", "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11", "--data-dir", data)
    assert result.returncode == 1
    assert "no job with id '0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11'" in one_line_error(result)


@pytest.mark.parametrize("text", ["abc", "not-hex!", "../../etc"])
def test_cancel_malformed_id(data: Path, text: str) -> None:
    """Something that cannot be an id (prefix) is refused with what is expected."""
    result = jobdash("cancel", text, "--data-dir", data)
    assert result.returncode == 1
    assert "job id must be a UUID or a prefix of at least 4 hex characters" in one_line_error(result)


def test_cancel_by_prefix(data: Path, store: SqliteStore) -> None:
    """The 8-character short id that `jobs` prints is enough to cancel a job."""
    job = store.create("/m", "scan")
    result = jobdash("cancel", job["id"][:8], "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"cancelled {job['id']}"
    assert store.get(job["id"])["status"] == "cancelled"  # type: ignore[index]


def test_cancel_by_full_upper_case_id(data: Path, store: SqliteStore) -> None:
    """A full id works in any case."""
    job = store.create("/m", "scan")
    result = jobdash("cancel", job["id"].upper(), "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert store.get(job["id"])["status"] == "cancelled"  # type: ignore[index]


def test_cancel_a_running_job_says_when_it_stops(data: Path, store: SqliteStore) -> None:
    """Cancelling a running job says it stops at its next progress step."""
    job = store.create("/m", "scan")
    store.claim(12345, ("scan",))
    result = jobdash("cancel", job["id"], "--data-dir", data)
    assert result.returncode == 0
    assert "it stops at its next progress step" in result.stdout


def test_cancel_an_already_cancelled_job(data: Path, store: SqliteStore) -> None:
    """A second cancel exits 1 saying the job is already cancelled."""
    job = store.create("/m", "scan")
    store.cancel(job["id"])
    result = jobdash("cancel", job["id"], "--data-dir", data)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"job {job['id']} is already cancelled" in line


def test_cancel_an_ambiguous_prefix(data: Path, store: SqliteStore) -> None:
    """A prefix shared by several jobs asks for more characters."""
    ids = [store.create("/m", "scan")["id"] for _ in range(2)]
    for i, job_id in enumerate(ids):
        set_columns(store, job_id, id=f"abcd000{i}" + job_id[8:])
    result = jobdash("cancel", "abcd", "--data-dir", data)
    assert result.returncode == 1
    assert "matches 2 jobs; give more characters" in one_line_error(result)


# --- environment twins, help, usage errors -------------------------------------------------------


def test_data_dir_from_environment(data: Path, media: Path, store: SqliteStore) -> None:
    """JOBDASH_DATA_DIR is used when --data-dir is absent."""
    env = clean_env(JOBDASH_DATA_DIR=str(data))
    result = jobdash("scan", media, env=env)
    assert result.returncode == 0, result.stderr
    assert store.get(result.stdout.strip()) is not None
    listing = jobdash("jobs", env=env)
    assert result.stdout.strip()[:8] in listing.stdout


def test_flag_wins_over_environment(data: Path, tmp_path: Path, media: Path, store: SqliteStore) -> None:
    """--data-dir overrides JOBDASH_DATA_DIR."""
    env = clean_env(JOBDASH_DATA_DIR=str(tmp_path / "other"))
    result = jobdash("scan", media, "--data-dir", data, env=env)
    assert result.returncode == 0
    assert store.get(result.stdout.strip()) is not None
    assert not (tmp_path / "other").exists()


def test_default_data_dir_follows_xdg(tmp_path: Path, media: Path) -> None:
    """Without flag or JOBDASH_DATA_DIR, data goes to the per-user default ($XDG_DATA_HOME/jobdash)."""
    env = clean_env(XDG_DATA_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path / "home"))
    result = jobdash("scan", media, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "xdg" / "jobdash" / "jobdash.db").is_file()


def test_priority_from_environment(data: Path, media: Path, store: SqliteStore) -> None:
    """JOBDASH_PRIORITY sets the scan priority; a bad value is a usage error naming the variable."""
    result = jobdash("scan", media, "--data-dir", data, env=clean_env(JOBDASH_PRIORITY="7"))
    assert result.returncode == 0, result.stderr
    assert store.get(result.stdout.strip())["priority"] == 7  # type: ignore[index]
    bad = jobdash("scan", media, "--data-dir", data, env=clean_env(JOBDASH_PRIORITY="5000"))
    assert bad.returncode == 2
    assert "JOBDASH_PRIORITY" in bad.stderr


def test_status_from_environment(data: Path, store: SqliteStore) -> None:
    """JOBDASH_STATUS filters `jobs` like --status."""
    job = store.create("/m", "scan")
    result = jobdash("jobs", "--data-dir", data, env=clean_env(JOBDASH_STATUS="failed"))
    assert result.returncode == 0
    assert job["id"][:8] not in result.stdout


@pytest.mark.parametrize("command", [[], ["serve"], ["scan"], ["worker"], ["jobs"], ["cancel"]])
def test_help_of_each_command(command: list[str]) -> None:
    """`--help` works for the command and every subcommand, exiting 0."""
    result = jobdash(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: jobdash")


def test_version() -> None:
    """--version prints the version."""
    result = jobdash("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("jobdash ")


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_serve_with_a_bad_port(data: Path, port: str) -> None:
    """`serve --port 99999` is a usage error (exit 2) naming the allowed range."""
    result = jobdash("serve", "--port", port, "--data-dir", data)
    assert result.returncode == 2
    assert "--port" in result.stderr and "1 to 65535" in result.stderr


def test_bad_port_from_environment(data: Path) -> None:
    """JOBDASH_PORT is validated like --port, and the error names the variable."""
    result = jobdash("serve", "--data-dir", data, env=clean_env(JOBDASH_PORT="99999"))
    assert result.returncode == 2
    assert "JOBDASH_PORT" in result.stderr


@pytest.mark.parametrize("value", ["31", "-1", "soon"])
def test_serve_with_a_bad_max_wait(data: Path, value: str) -> None:
    """--max-wait (the longest hold of a held poll) takes 0 to 30 seconds, and says so."""
    result = jobdash("serve", "--max-wait", value, "--data-dir", data)
    assert result.returncode == 2
    assert "--max-wait" in result.stderr and "from 0 to 30" in result.stderr
    from_env = jobdash("serve", "--data-dir", data, env=clean_env(JOBDASH_MAX_WAIT=value))
    assert from_env.returncode == 2 and "JOBDASH_MAX_WAIT" in from_env.stderr


@pytest.mark.parametrize("value", ["5", "abc", "inf"])
def test_worker_with_a_bad_stale_after(data: Path, value: str) -> None:
    """--stale-after below 10 s or not a number is a usage error."""
    result = jobdash("worker", "--stale-after", value, "--data-dir", data)
    assert result.returncode == 2
    assert "--stale-after" in result.stderr


def test_no_command_is_a_usage_error() -> None:
    """Running `jobdash` without a command prints usage and exits 2."""
    result = jobdash()
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    """A --data-dir that is a file is a one-line error."""
    file = tmp_path / "file"
    file.write_text("x")
    result = jobdash("jobs", "--data-dir", file)
    assert result.returncode == 1
    assert "exists but is not a directory" in one_line_error(result)


def test_a_database_from_a_newer_jobdash_is_one_clear_line(tmp_path: Path) -> None:
    """A data directory written by a newer jobdash is refused with one line, no traceback."""
    import sqlite3

    from jobdash.store.sqlite.migrations import LATEST

    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / "jobdash.db")
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    result = subprocess.run(
        [sys.executable, "-m", "jobdash", "jobs", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "newer" in result.stderr


# --- several hosts (PostgreSQL) ----------------------------------------------------------------


def test_scan_on_a_shared_store_queues_a_folder_this_host_does_not_have(
    data: Path, database_url: str, tmp_path: Path
) -> None:
    """With --database the workers may be elsewhere: an absolute folder is queued as given
    (normalised) even if this host lacks it; a relative one is refused, saying why."""
    result = jobdash("scan", "/mnt/nas//Movies/", "--data-dir", data, "--database", database_url)
    assert result.returncode == 0, result.stderr
    store = open_store(data, database_url=database_url)
    try:
        job = store.get(result.stdout.strip())
        assert job is not None and job["file_path"] == "/mnt/nas/Movies"
    finally:
        store.close()
    relative = jobdash("scan", "Movies", "--data-dir", data, "--database", database_url, cwd=tmp_path)
    assert relative.returncode == 1
    assert "must be an absolute path" in one_line_error(relative)


def test_a_worker_registers_under_the_hostname_it_is_given(data: Path, store: Any) -> None:
    """--hostname names the worker in the registry (containers that share one machine)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobdash", "worker", "--data-dir", str(data), "--hostname", "nas-7"],
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not any(row["host"] == "nas-7" for row in store.workers()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=TIMEOUT_S)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == 0
    bad = jobdash("worker", "--data-dir", data, "--hostname", "  ")
    assert bad.returncode == 2 and "--hostname" in bad.stderr
