"""The transcode job end to end: Debian's real ffmpeg, a real SqliteStore, the real Worker."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jobdash.jobs.ffprobe import parse_probe, probe_args
from jobdash.jobs.sample_clip import main as sample_clip_main
from jobdash.jobs.sample_clip import make_clip
from jobdash.jobs.transcode import transcode
from jobdash.model.items import summary_text
from jobdash.store.log_reader import read_log
from jobdash.store.sqlite.store import SqliteStore
from jobdash.worker.loop import Worker
from jobdash.worker.registry import load_job_types

T = TypeVar("T")
DEADLINE_S = 30.0
HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(
    not HAVE_FFMPEG,
    reason="ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg; ./scripts/test installs it when run as root)",
)


class RecordingStore(SqliteStore):
    """A real store that also keeps every progress report, in order."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.reports: list[tuple[int, int, str]] = []

    def progress(self, job_id: str, processed: int, total: int, unit: str = "files", **kwargs: Any) -> bool:
        self.reports.append((processed, total, unit))
        return super().progress(job_id, processed, total, unit, **kwargs)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordingStore]:
    data = tmp_path / "data"
    data.mkdir()
    job_store = RecordingStore(data)
    yield job_store
    job_store.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips made once for the module: 3 s (the usual input), 20 s (to stop mid-way), 2 s at 1280x960."""
    if not HAVE_FFMPEG:
        pytest.skip("ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("clips")
    return {
        "short": make_clip(folder / "short.mkv", seconds=3),
        "long": make_clip(folder / "long.mkv", seconds=20),
        "big": make_clip(folder / "big.mkv", seconds=2, width=1280, height=960),
    }


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


def place(clips: dict[str, Path], which: str, folder: Path, name: str = "clip.mkv") -> Path:
    """Copy a prepared clip into a test's own folder (outputs are written beside it)."""
    path = folder / name
    shutil.copyfile(clips[which], path)
    return path


def make_worker(store: SqliteStore) -> Worker:
    return Worker(store, handlers={"transcode": transcode}, stale_after=10.0, heartbeat_interval=0.05, idle_poll=0.01)


def run_job(store: SqliteStore, target: Path | str, **params: Any) -> dict[str, Any]:
    """Queue a transcode, run it to its end with a real worker; return the job's row."""
    job = store.create(os.fspath(target), "transcode", params=params)
    assert make_worker(store).run_once() is True
    row = store.get(job["id"])
    assert row is not None
    return row


def wait_for(check: Callable[[], T | None], what: str, timeout: float = DEADLINE_S) -> T:
    give_up = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def log_lines(store: SqliteStore, row: dict[str, Any]) -> list[tuple[str, str]]:
    """The job's log as (level, message) pairs."""
    pairs = []
    for line in read_log(store.log_path(row), 0, 100_000).lines:
        _timestamp, level, message = line.split(" ", 2)
        pairs.append((level, message))
    return pairs


def ffmpeg_pid(store: SqliteStore, row: dict[str, Any]) -> int:
    (pid,) = [int(m[1]) for _, msg in log_lines(store, row) if (m := re.fullmatch(r"ffmpeg running as pid (\d+)", msg))]
    return pid


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def probe(path: Path) -> dict[str, Any]:
    result = subprocess.run(probe_args("ffprobe", str(path)), capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def decodes_cleanly(path: Path) -> bool:
    """Decode every frame of a file; True if ffmpeg reports no error at all."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", f"file:{path}", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stderr.strip() == ""


# completing


@needs_ffmpeg
def test_h264_720p_completes_with_output_summary_and_progress_in_seconds(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    source = place(clips, "short", media)
    row = run_job(store, source, preset="h264-720p")
    assert row["status"] == "completed", row["error_message"]
    output = media / "clip.h264-720p.mp4"
    assert row["output_path"] == str(output)
    assert sorted(p.name for p in media.iterdir()) == ["clip.h264-720p.mp4", "clip.mkv"]  # no partial left

    summary = json.loads(row["summary_json"])
    assert summary["input_path"] == str(source) and summary["output_path"] == str(output)
    assert summary["preset"] == "h264-720p"
    assert summary["input_bytes"] == source.stat().st_size
    assert summary["output_bytes"] == output.stat().st_size > 0
    assert summary["duration_seconds"] == pytest.approx(3.0, abs=0.2)
    assert (summary["input_video_codec"], summary["input_audio_codec"]) == ("mpeg4", "mp2")
    assert (summary["output_video_codec"], summary["output_audio_codec"]) == ("h264", "aac")
    assert summary["input_resolution"] == summary["output_resolution"] == "320x240"  # never upscaled
    assert summary["elapsed_seconds"] > 0 and summary["speed"] > 0

    # The output is real: ffprobe agrees with the summary and every frame decodes.
    described = parse_probe(json.dumps(probe(output)))
    assert (described.video_codec, described.audio_codec) == ("h264", "aac")
    assert described.duration == pytest.approx(3.0, abs=0.2)
    assert decodes_cleanly(output)

    # Progress in seconds of media: first 0 of 3, last 3 of 3, never backwards.
    assert store.reports[0] == (0, 3, "seconds") and store.reports[-1] == (3, 3, "seconds")
    assert {unit for _, _, unit in store.reports} == {"seconds"}
    assert [done for done, _, _ in store.reports] == sorted(done for done, _, _ in store.reports)
    assert json.loads(row["progress_json"]) == {"processed": 3, "total": 3, "unit": "seconds"}
    assert row["progress_percent"] == 100

    messages = [msg for _, msg in log_lines(store, row)]
    commands = [m for m in messages if m.startswith("ffmpeg command: ")]
    assert len(commands) == 1
    assert " -n " in commands[0] and " -progress pipe:1 -nostats " in commands[0]
    assert f"file:{source}" in commands[0]
    assert any(
        m.startswith(f"input {source}: {source.stat().st_size:,} bytes, 0:03, video mpeg4 320x240") for m in messages
    )
    assert any(m.startswith(f"wrote {output}: ") for m in messages)

    text = summary_text("transcode", summary)
    assert text is not None and text.startswith("Transcoded 0:03 of video (h264-720p) from ")


@needs_ffmpeg
def test_h264_720p_scales_a_bigger_video_down_to_720_lines(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    row = run_job(store, place(clips, "big", media), preset="h264-720p")
    assert row["status"] == "completed", row["error_message"]
    summary = json.loads(row["summary_json"])
    assert (summary["input_resolution"], summary["output_resolution"]) == ("1280x960", "960x720")


@needs_ffmpeg
def test_copy_keeps_the_container_and_the_codecs(clips: dict[str, Path], media: Path, store: RecordingStore) -> None:
    source = place(clips, "short", media)
    row = run_job(store, source, preset="copy")
    assert row["status"] == "completed", row["error_message"]
    output = media / "clip.copy.mkv"
    assert row["output_path"] == str(output)
    summary = json.loads(row["summary_json"])
    assert (summary["output_video_codec"], summary["output_audio_codec"]) == ("mpeg4", "mp2")
    assert probe(output)["format"]["format_name"].startswith("matroska")
    assert decodes_cleanly(output)


@needs_ffmpeg
def test_copy_of_an_unknown_container_name_writes_matroska(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    row = run_job(store, place(clips, "short", media, "clip.video"), preset="copy")
    assert row["status"] == "completed", row["error_message"]
    assert row["output_path"] == str(media / "clip.copy.mkv")


@needs_ffmpeg
def test_output_dir_param(clips: dict[str, Path], media: Path, tmp_path: Path, store: RecordingStore) -> None:
    out = tmp_path / "transcoded"
    out.mkdir()
    row = run_job(store, place(clips, "short", media), preset="copy", output_dir=str(out))
    assert row["status"] == "completed", row["error_message"]
    assert row["output_path"] == str(out / "clip.copy.mkv")
    assert [p.name for p in out.iterdir()] == ["clip.copy.mkv"]
    assert [p.name for p in media.iterdir()] == ["clip.mkv"]


@needs_ffmpeg
def test_unknown_duration_logs_progress_instead_of_a_bar(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    # A raw H.264 stream has no container, so ffprobe gives no duration.
    raw = media / "clip.h264"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(clips["short"]),
            "-an",
            "-c:v",
            "libx264",
            "-f",
            "h264",
            str(raw),
        ],
        check=True,
    )
    row = run_job(store, raw, preset="h264-720p")
    assert row["status"] == "completed", row["error_message"]
    assert store.reports == []  # no total, so no progress bar
    assert ("WARN", "the input's duration is unknown: progress is logged, not shown as a bar") in log_lines(store, row)
    summary = json.loads(row["summary_json"])
    assert summary["duration_seconds"] == pytest.approx(3.0, abs=0.5)  # from ffmpeg's own position
    assert summary["input_audio_codec"] is None and summary["output_video_codec"] == "h264"


# refusing


@needs_ffmpeg
def test_never_overwrites_an_existing_output(clips: dict[str, Path], media: Path, store: RecordingStore) -> None:
    source = place(clips, "short", media)
    existing = media / "clip.h264-720p.mp4"
    existing.write_bytes(b"an operator's file")
    row = run_job(store, source, preset="h264-720p")
    assert row["status"] == "failed"
    assert row["error_message"] == (
        f"output {existing} already exists; transcode never overwrites a file: "
        "move or delete it, or set output_dir to another folder"
    )
    assert existing.read_bytes() == b"an operator's file"
    assert sorted(p.name for p in media.iterdir()) == ["clip.h264-720p.mp4", "clip.mkv"]
    assert not any(m.startswith("ffmpeg command") for _, m in log_lines(store, row))  # ffmpeg never ran


@needs_ffmpeg
def test_an_output_that_appears_while_transcoding_is_not_overwritten(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    source = place(clips, "short", media)
    job = store.create(str(source), "transcode", params={"preset": "copy", "realtime": "true"})
    thread = threading.Thread(target=make_worker(store).run_once, daemon=True)
    thread.start()
    wait_for(lambda: any(done >= 1 for done, _, _ in store.reports), "progress")
    appeared = media / "clip.copy.mkv"
    appeared.write_bytes(b"written by someone else meanwhile")
    thread.join(DEADLINE_S)
    assert not thread.is_alive()
    row = store.get(job["id"])
    assert row is not None and row["status"] == "failed"
    assert row["error_message"].startswith(f"output {appeared} appeared while transcoding; it was not overwritten")
    assert appeared.read_bytes() == b"written by someone else meanwhile"
    assert sorted(p.name for p in media.iterdir()) == ["clip.copy.mkv", "clip.mkv"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"preset": "vp9"}, "param preset must be one of h264-720p, copy; got 'vp9'"),
        (
            {"preset": "copy", "speed": "fast"},
            "unknown param 'speed'; the transcode job takes preset, output_dir, realtime",
        ),
        ({"output_dir": "relative/out"}, "param output_dir must be an absolute path; got 'relative/out'"),
    ],
)
def test_bad_params_fail_naming_the_choices(
    media: Path, store: RecordingStore, params: dict[str, Any], message: str
) -> None:
    source = media / "clip.mkv"
    source.write_bytes(b"never read")
    row = run_job(store, source, **params)
    assert (row["status"], row["error_message"]) == ("failed", message)
    assert [p.name for p in media.iterdir()] == ["clip.mkv"]


@needs_ffmpeg
def test_missing_input_and_output_folder_fail_naming_them(media: Path, tmp_path: Path, store: RecordingStore) -> None:
    row = run_job(store, media / "gone.mkv")
    assert (row["status"], row["error_message"]) == ("failed", f"input {media / 'gone.mkv'} does not exist")
    source = media / "clip.mkv"
    source.write_bytes(b"x")
    row = run_job(store, source, output_dir=str(tmp_path / "nowhere"))
    assert (row["status"], row["error_message"]) == ("failed", f"output folder {tmp_path / 'nowhere'} does not exist")


@needs_ffmpeg
def test_unavailable_ffmpeg_fails_the_job_with_the_reason(
    media: Path, tmp_path: Path, store: RecordingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = media / "clip.mkv"
    source.write_bytes(b"x")
    monkeypatch.setenv("JOBDASH_FFMPEG", str(tmp_path / "no-ffmpeg"))
    row = run_job(store, source)
    assert row["status"] == "failed"
    assert (
        row["error_message"]
        == f"JOBDASH_FFMPEG={str(tmp_path / 'no-ffmpeg')!r} is not an executable file; point it at ffmpeg or unset it"
    )
    types = load_job_types()
    assert "transcode" not in types.handlers
    assert types.unavailable["transcode"] == row["error_message"]


# failing


@needs_ffmpeg
def test_corrupt_input_fails_with_ffmpegs_errors_and_leaves_no_partial(media: Path, store: RecordingStore) -> None:
    bad = media / "bad.mkv"
    bad.write_bytes(random.Random(7).randbytes(200_000))
    row = run_job(store, bad, preset="h264-720p")
    assert row["status"] == "failed"
    message = row["error_message"]
    assert message.startswith(f"ffmpeg failed (exit status 1) on {bad}: ")
    assert f"file:{bad}: Invalid data found when processing input" in message
    assert "\n" not in message
    assert [p.name for p in media.iterdir()] == ["bad.mkv"]
    logged = log_lines(store, row)
    assert ("ERROR", f"ffmpeg: file:{bad}: Invalid data found when processing input") in logged
    assert any(level == "WARN" and msg.startswith("ffprobe could not read the input") for level, msg in logged)
    assert process_gone(ffmpeg_pid(store, row))


# stopping


@needs_ffmpeg
def test_cancel_mid_transcode_stops_ffmpeg_and_removes_the_partial(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    source = place(clips, "long", media)
    job = store.create(str(source), "transcode", params={"preset": "h264-720p", "realtime": "true"})
    thread = threading.Thread(target=make_worker(store).run_once, daemon=True)
    thread.start()
    wait_for(lambda: any(done >= 1 for done, _, _ in store.reports), "the transcode to make progress")
    partial = wait_for(lambda: [p for p in media.iterdir() if p.name.endswith(".part")], "the partial output")
    assert partial[0].name.startswith(".clip.h264-720p.mp4.")
    pid = ffmpeg_pid(store, store.get(job["id"]))  # type: ignore[arg-type]
    assert not process_gone(pid)

    store.cancel(job["id"])  # the operator, through the store, as the CLI and the API do
    thread.join(DEADLINE_S)
    assert not thread.is_alive(), "the job did not stop"
    row = store.get(job["id"])
    assert row is not None and row["status"] == "cancelled"
    assert process_gone(pid)
    assert [p.name for p in media.iterdir()] == ["clip.mkv"]
    messages = [msg for _, msg in log_lines(store, row)]
    assert "job cancelled by the operator" in messages
    assert any(m.startswith("removed the partial output ") for m in messages)
    assert store.reports[-1][0] < 20


@needs_ffmpeg
def test_a_stopping_worker_stops_ffmpeg_and_returns_the_job_to_the_queue(
    clips: dict[str, Path], media: Path, store: RecordingStore
) -> None:
    source = place(clips, "long", media)
    job = store.create(str(source), "transcode", params={"preset": "copy", "realtime": True})
    worker = make_worker(store)
    thread = threading.Thread(target=worker.run_once, daemon=True)
    thread.start()
    wait_for(lambda: any(done >= 1 for done, _, _ in store.reports), "the transcode to make progress")
    pid = ffmpeg_pid(store, store.get(job["id"]))  # type: ignore[arg-type]
    worker.stop()  # SIGTERM to `jobdash worker`
    thread.join(DEADLINE_S)
    assert not thread.is_alive()
    assert store.get(job["id"])["status"] == "queued"  # type: ignore[index]
    assert process_gone(pid)
    assert [p.name for p in media.iterdir()] == ["clip.mkv"]


# registration and the sample clip


def test_transcode_is_a_registered_job_type_when_ffmpeg_is_here() -> None:
    types = load_job_types()
    if HAVE_FFMPEG:
        assert types.handlers["transcode"] is transcode
        assert types.infos["transcode"].target == "file"
    else:
        assert types.unavailable["transcode"].startswith("ffmpeg not found on PATH")


@needs_ffmpeg
def test_sample_clip_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sample.mkv"
    assert sample_clip_main([str(out), "--seconds", "2"]) == 0
    assert capsys.readouterr().out == f"made a 2 s test clip ({out.stat().st_size:,} bytes) in {out}\n"
    described = parse_probe(json.dumps(probe(out)))
    assert described.duration == pytest.approx(2.0, abs=0.1)
    assert (described.video_codec, described.audio_codec, described.resolution) == ("mpeg4", "mp2", "320x240")
    with pytest.raises(SystemExit) as exited:
        sample_clip_main([str(out)])
    assert exited.value.code == 2
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sample_clip_main([str(tmp_path / "other.mkv"), "--seconds", "0"])
    assert "--seconds must be more than 0" in capsys.readouterr().err


@needs_ffmpeg
def test_make_clip_never_overwrites_and_reports_ffmpegs_error(tmp_path: Path) -> None:
    existing = tmp_path / "taken.mkv"
    existing.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        make_clip(existing, seconds=1)
    assert existing.read_bytes() == b"keep"
    with pytest.raises(RuntimeError) as raised:
        make_clip(tmp_path / "clip.unknown-container", seconds=1)
    assert "Unable to find a suitable output format" in str(raised.value)
    assert [p.name for p in tmp_path.iterdir()] == ["taken.mkv"]
