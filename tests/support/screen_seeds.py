"""What the screenshot tests show, in every engine: the seeded dashboard and job pages."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from jobdash.store.log_writer import JobLog
from jobdash.store.sqlite.store import DB_FILENAME
from support.dashboard import register_worker, running_job
from support.job_page import append_log


def backdate(server: Any, job: str, *, started_min: float, moved_min: float | None = None) -> None:
    """Say (as a worker's writes would have) that the job started ``started_min`` ago and
    its progress last moved ``moved_min`` ago, so a page shows its time left or a stall."""
    now = datetime.now(UTC)
    moved = None if moved_min is None else (now - timedelta(minutes=moved_min)).isoformat()
    conn = sqlite3.connect(server.data_dir / DB_FILENAME, isolation_level=None)
    try:
        conn.execute(
            "UPDATE jobs SET started_at = ?, progress_updated_at = COALESCE(?, progress_updated_at) WHERE id = ?",
            ((now - timedelta(minutes=started_min)).isoformat(), moved, job),
        )
    finally:
        conn.close()


def seed_dashboard(server: Any) -> None:
    """The dashboard's screenshot list: nine jobs of every status and kind (a hostile
    name among them; a running scan stalled for 4 min, a transcode with its time left),
    one worker alive running a scan and one gone."""
    store = server.store
    done = running_job(store, "/srv/media/Movies/Golden Harbor (1987)", processed=412, total=412)
    store.finish(done, "completed", summary={"files_found": 412})
    failed = running_job(store, "/srv/media/TV/Northern Signal/Season 02", processed=37, total=120)
    store.finish(failed, "failed", error_message="permission denied")
    store.cancel(store.create("/srv/media/Extras", "transcode")["id"])
    store.create("/srv/media/Incoming/<img src=x onerror=alert(1)> weird name", "move")
    store.create("/srv/media/Music Videos", "scan", priority=500)
    running_job(store, "/srv/media/Movies/Electric Orchard (2011)/Electric Orchard (2011).mkv")
    scan = running_job(
        store, "/srv/media/TV/a very long folder name that keeps going and going/Season 01", processed=1234, total=3000
    )
    backdate(server, scan, started_min=20, moved_min=4)
    store.create("/srv/media/Movies/Golden Harbor (1987)/Golden Harbor (1987).mkv", "transcode")
    clip = running_job(
        store,
        "/srv/media/Clips/Harbor trailer.mkv",
        job_type="transcode",
        processed=23,
        total=60,
        unit="seconds",
        params={"preset": "h264-720p"},
    )
    backdate(server, clip, started_min=1)
    register_worker(store, "media-01", ("scan",), pid=4242, running=scan)
    store.worker_stopped(register_worker(store, "media-02.lan", ("transcode", "move"), pid=977))


LIBRARY = "/srv/media/TV/Northern Signal"
SUMMARY = {
    "root": LIBRARY,
    "files_found": 412,
    "files_scanned": 410,
    "errors": 2,
    "bytes": 88_123_456,
    "containers": {"matroska": 300, "mp4": 90, "avi": 20},
    "mismatched": 1,
    "elapsed_seconds": 41.2,
    "error_samples": ["Season 02/E07.mkv: cannot read: Permission denied"],
}


CLIP = "/srv/media/Movies/Golden Harbor (1987)/Golden Harbor (1987) - Trailer.mkv"
TRANSCODE_PARAMS = {
    "preset": "h264-720p",
    "output": "/srv/media/Transcoded/Golden Harbor (1987) - Trailer.mp4",
    "crf": 23,
    "audio": {"codec": "aac", "bitrate": "128k"},
}


def write_log(server: Any, job: str, count: int) -> None:
    store = server.store
    append_log(store, job, f"job {job} (scan {LIBRARY}) started by worker 4242")
    append_log(store, job, f"found 412 media files in {LIBRARY} (37 other files ignored)")
    with JobLog(store.log_path(store.get(job))) as log:
        for n in range(1, count + 1):
            name = f"Season {1 + n // 24:02}/Northern Signal S{1 + n // 24:02}E{n % 24 + 1:02}.mkv"
            if n % 17 == 0:
                log.write(f"{name}: cannot read: Permission denied", level="ERROR")
            elif n % 11 == 0:
                log.write(f"{name} mp4 734003200 5e0c6b0f2c1f4b7e (extension .mkv but content is mp4)", level="WARN")
            else:
                log.write(f"{name} matroska 734003200 5e0c6b0f2c1f4b7e")


def seed_job(server: Any, state: str) -> str:
    """One job in ``state`` (running: with its time left; stalled: no progress for 4 min;
    completed, failed, transcode, waiting; anything else: a running scan) with a log;
    return its id."""
    store = server.store
    if state == "running":
        job = running_job(store, LIBRARY, processed=137, total=412)
        write_log(server, job, 137)
        backdate(server, job, started_min=5)
    elif state == "stalled":
        job = running_job(store, LIBRARY, processed=200, total=412)
        write_log(server, job, 200)
        backdate(server, job, started_min=30, moved_min=4)
    elif state == "completed":
        job = running_job(store, LIBRARY, processed=412, total=412)
        write_log(server, job, 60)
        store.finish(job, "completed", summary=SUMMARY)
    elif state == "failed":
        job = running_job(store, "/srv/media/Movies/<img src=x onerror=alert(1)> Archive", processed=37, total=120)
        write_log(server, job, 37)
        store.finish(
            job,
            "failed",
            error_message="scan root /srv/media/Movies/<img src=x onerror=alert(1)> Archive "
            "cannot be listed: Input/output error",
        )
    elif state == "transcode":
        job = running_job(
            store, CLIP, job_type="transcode", processed=23, total=60, unit="seconds", params=TRANSCODE_PARAMS
        )
        append_log(store, job, f"job {job} (transcode {CLIP}) started by worker 4242", "ffmpeg: frame=  552 fps=24")
        register_worker(store, "media-01", ("transcode",), running=job)
    elif state == "waiting":
        job = store.create(CLIP, "transcode", params=TRANSCODE_PARAMS)["id"]
        register_worker(store, "media-01", ("scan",))
    else:
        job = running_job(store, LIBRARY, processed=5, total=412)
    return job
