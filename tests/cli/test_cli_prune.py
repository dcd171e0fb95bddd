"""`jobdash prune --older-than AGE`, run as a real process (jobdash.cli.job_commands)."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobdash.store.sqlite.store import SqliteStore
from jobdash.util.timestamps import parse_iso, to_iso
from support.cli import clean_env, jobdash
from support.sqlhelpers import set_columns
from support.vpo import FIXTURE, copy_fixture, snapshot

PID = os.getpid()
PRUNED = re.compile(
    r"^pruned (\d+) finished jobs? older than (\S+) \(completed, failed or cancelled before (\S+Z)\)\n$"
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """An empty data directory."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def ended(store: SqliteStore, status: str, days_ago: float) -> str:
    """Queue, run and end a scan with ``status``, dated ``days_ago`` (set in SQL, as the
    command has no clock to turn); return its id."""
    job = store.create("/media", "scan")
    assert store.claim(PID, ("scan",))["id"] == job["id"]  # type: ignore[index]
    assert store.finish(job["id"], status)
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    set_columns(store, job["id"], created_at=to_iso(moment), completed_at=to_iso(moment))
    return job["id"]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert stderr is a single line and return it."""
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_prune_deletes_old_finished_jobs_and_says_how_many(data: Path, store: SqliteStore) -> None:
    """Finished jobs that ended over 90 days ago go with their logs; the line says how many
    and the cutoff (90 days before now, in UTC); younger and unfinished jobs stay."""
    old = [ended(store, status, 100) for status in ("completed", "failed", "cancelled")]
    young = ended(store, "completed", 80)
    waiting = store.create("/media", "apply")["id"]
    set_columns(store, waiting, created_at=to_iso(datetime.now(UTC) - timedelta(days=400)))
    with store.open_log(store.get(old[0])) as log:
        log.write("a line")

    before = datetime.now(UTC)
    result = jobdash("prune", "--older-than", "90d", "--data-dir", data)
    after = datetime.now(UTC)

    assert result.returncode == 0, result.stderr
    match = PRUNED.match(result.stdout)
    assert match, result.stdout
    assert match[1] == "3" and match[2] == "90d"
    cutoff = parse_iso(match[3])
    assert cutoff is not None
    assert before - timedelta(days=90, seconds=1) <= cutoff <= after - timedelta(days=90)
    assert [store.get(job_id) for job_id in old] == [None] * 3
    assert store.get(young) is not None and store.get(waiting) is not None
    assert store.read_log({"id": old[0], "log_path": None}, 0, 10).total_lines == 0


def test_one_job_is_said_in_the_singular_and_none_is_fine(data: Path, store: SqliteStore) -> None:
    """One job is "1 finished job"; a second run finds nothing and still exits 0."""
    ended(store, "failed", 3)
    first = jobdash("prune", "--older-than", "48h", "--data-dir", data)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("pruned 1 finished job older than 48h (")
    again = jobdash("prune", "--older-than", "48h", "--data-dir", data)
    assert again.returncode == 0 and again.stdout.startswith("pruned 0 finished jobs older than 48h (")


def test_age_and_batch_from_the_environment(data: Path, store: SqliteStore) -> None:
    """JOBDASH_OLDER_THAN stands in for the required --older-than; JOBDASH_PRUNE_BATCH for --batch."""
    ids = [ended(store, "completed", 20) for _ in range(3)]
    env = clean_env(JOBDASH_OLDER_THAN="2w", JOBDASH_PRUNE_BATCH="2", JOBDASH_DATA_DIR=str(data))
    result = jobdash("prune", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pruned 3 finished jobs older than 2w (")
    assert [store.get(job_id) for job_id in ids] == [None] * 3


def test_older_than_is_required(data: Path) -> None:
    """Without --older-than (or its twin) nothing is deleted: a usage error naming it."""
    result = jobdash("prune", "--data-dir", data)
    assert result.returncode == 2
    assert "--older-than" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("value", ["abc", "90", "90x", "d", "1e3d", ""])
def test_a_malformed_age_names_the_flag_and_the_rule(data: Path, store: SqliteStore, value: str) -> None:
    """A malformed age: exit 2, naming --older-than, the units allowed and the value."""
    job = ended(store, "completed", 1000)
    result = jobdash("prune", "--older-than", value, "--data-dir", data)
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert "--older-than" in message
    assert "a number and a unit (s, m, h, d, w), like 90d or 12h" in message and repr(value) in message
    assert store.get(job) is not None


@pytest.mark.parametrize("value", ["0d", "-5d", "0s"])
def test_an_age_of_zero_or_less_is_refused(data: Path, store: SqliteStore, value: str) -> None:
    """An age of zero or less would mean every finished job: exit 2, "more than zero"."""
    job = ended(store, "completed", 1)
    result = jobdash("prune", f"--older-than={value}", "--data-dir", data)
    assert result.returncode == 2
    assert "--older-than" in result.stderr and "more than zero" in result.stderr
    assert store.get(job) is not None


def test_a_bad_age_from_the_environment_names_the_variable(data: Path) -> None:
    result = jobdash("prune", "--data-dir", data, env=clean_env(JOBDASH_OLDER_THAN="soon"))
    assert result.returncode == 2
    assert "JOBDASH_OLDER_THAN" in result.stderr and "like 90d" in result.stderr


@pytest.mark.parametrize("value", ["0", "-1", "ten", "10001"])
def test_a_bad_batch_is_a_usage_error(data: Path, value: str) -> None:
    result = jobdash("prune", "--older-than", "90d", f"--batch={value}", "--data-dir", data)
    assert result.returncode == 2
    assert "--batch" in result.stderr and "1 to 10000" in result.stderr


def test_help() -> None:
    result = jobdash("prune", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: jobdash prune") and "--older-than AGE" in result.stdout


@pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"the VPO fixture is not at {FIXTURE}")
def test_a_vpo_database_is_read_only(tmp_path: Path) -> None:
    """`prune --vpo-db` is refused in one line saying the store is VPO's (exit 1); VPO's
    folder is byte for byte the same afterwards."""
    vpo = copy_fixture(tmp_path / "vpo")
    before = snapshot(vpo)
    result = jobdash("prune", "--older-than", "1d", "--vpo-db", vpo / "library.db", "--data-dir", tmp_path / "unused")
    assert result.returncode == 1
    assert "VPO library database read-only" in one_line_error(result)
    assert result.stdout == ""
    assert snapshot(vpo) == before
