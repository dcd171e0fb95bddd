"""The ``transcode`` job: convert one media file with ffmpeg, by preset.

The output sits beside the input (or in ``output_dir``), named from the input's stem and
the preset (``clip.h264-720p.mp4``, ``clip.copy.mkv``). It never replaces a file: an
existing output fails the job before ffmpeg starts, and ffmpeg writes to a hidden
``.part`` name that is linked into place only when it succeeded, so a partial output
never sits under the final name. Progress is in seconds of media (from ffprobe's
duration and ffmpeg's progress stream); ffmpeg's warnings and errors go to the job log.
Cancelled, stopped or failed, the job stops ffmpeg (SIGTERM, then SIGKILL) and removes
the partial output.
"""

from __future__ import annotations

import os
import shlex
import stat
import time
from typing import Any

from jobdash import JobContext, JobFailed, job_type
from jobdash.jobs.ffmpeg import (
    PRESETS,
    Options,
    ffmpeg_args,
    output_container,
    output_name,
    parse_params,
    partial_name,
)
from jobdash.jobs.ffmpeg_log import StderrTail, classify
from jobdash.jobs.ffmpeg_process import Child, run_captured
from jobdash.jobs.ffmpeg_progress import Progress, ProgressParser
from jobdash.jobs.ffmpeg_tools import Tools, ToolsMissing, find_tools, unavailable_reason
from jobdash.jobs.ffprobe import MediaInfo, parse_probe, probe_args
from jobdash.util.textsafe import display_path

# How often the job looks for a cancellation while ffmpeg is silent.
CHECK_INTERVAL_S = 0.25
# ffprobe reads a few headers; minutes means a hung mount, not a big file.
PROBE_TIMEOUT_S = 120.0
# A damaged file can make ffmpeg warn once per frame: the log keeps the first ones.
MAX_LOGGED_MESSAGES = 500
# Without a known duration there is no progress bar: a log line this often instead.
NOTE_INTERVAL_S = 15.0


def media_clock(seconds: float) -> str:
    """Given seconds of media, return them as M:SS or H:MM:SS.

    >>> media_clock(59.6), media_clock(3725)
    ('1:00', '1:02:05')
    """
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _describe(info: MediaInfo | None) -> str:
    """Given what ffprobe found, return it in a few words for the log.

    >>> _describe(MediaInfo(60.0, "mpeg4", "mp2", 320, 240))
    '1:00, video mpeg4 320x240, audio mp2'
    """
    if info is None:
        return "not described by ffprobe"
    parts = [media_clock(info.duration) if info.duration is not None else "duration unknown"]
    if info.video_codec:
        parts.append(" ".join(filter(None, ("video", info.video_codec, info.resolution))))
    if info.audio_codec:
        parts.append(f"audio {info.audio_codec}")
    return ", ".join(parts)


def _options(ctx: JobContext) -> Options:
    try:
        return parse_params(ctx.params)
    except ValueError as error:
        raise JobFailed(str(error)) from None


def _tools() -> Tools:
    try:
        return find_tools()
    except ToolsMissing as missing:
        raise JobFailed(str(missing)) from None


def _check_input(source: str) -> int:
    """Given the input's path, return its size; JobFailed unless it is a readable regular file."""
    shown = display_path(source)
    try:
        info = os.stat(source)
    except FileNotFoundError:
        raise JobFailed(f"input {shown} does not exist") from None
    except OSError as error:
        raise JobFailed(f"input {shown} cannot be read: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise JobFailed(f"input {shown} is not a regular file")
    return info.st_size


def _check_folder(folder: str) -> None:
    """Raise JobFailed, naming the folder, unless the output can be written there."""
    shown = display_path(folder)
    if not os.path.isdir(folder):
        reason = "does not exist" if not os.path.lexists(folder) else "is not a folder"
        raise JobFailed(f"output folder {shown} {reason}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise JobFailed(f"output folder {shown} is not writable")


def _refuse_existing(final: str) -> None:
    if os.path.lexists(final):
        raise JobFailed(
            f"output {display_path(final)} already exists; transcode never overwrites a file: "
            "move or delete it, or set output_dir to another folder"
        )


def _remove(ctx: JobContext, path: str) -> None:
    """Remove a partial output if it is there (never raising: it runs during cleanup)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as error:
        ctx.log(f"partial output {display_path(path)} not removed: {error.strerror or error}", level="WARN")
        return
    ctx.log(f"removed the partial output {display_path(path)}")


def _move_into_place(partial: str, final: str) -> None:
    """Give the finished output its final name without ever replacing a file.

    A hard link fails if the name is taken, atomically; rename() would replace it.
    """
    try:
        os.link(partial, final)
    except FileExistsError:
        raise JobFailed(
            f"output {display_path(final)} appeared while transcoding; it was not overwritten "
            "(this transcode's output is removed)"
        ) from None
    except OSError:
        # A file system without hard links (some network and FUSE mounts): one more look, then rename.
        _refuse_existing(final)
        os.rename(partial, final)
        return
    os.unlink(partial)


def _probe(ctx: JobContext, ffprobe: str, path: str, what: str) -> MediaInfo | None:
    """Given a media file, return what ffprobe says of it, or None (logged as a warning:
    the transcode goes on without a duration, and ffmpeg's own errors say what is wrong)."""
    try:
        status, out, err = run_captured(probe_args(ffprobe, path), check=ctx.check, timeout=PROBE_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        ctx.log(f"ffprobe could not describe the {what}: {error}", level="WARN")
        return None
    if status == 0:
        try:
            return parse_probe(out)
        except ValueError as error:
            ctx.log(f"ffprobe's description of the {what} is not readable: {error}", level="WARN")
            return None
    for line in err.splitlines()[-5:]:
        found = classify(line)
        if found is not None:
            ctx.log(f"ffprobe: {found[1]}", level="WARN")
    ctx.log(f"ffprobe could not read the {what} (exit status {status}); going on without its duration", level="WARN")
    return None


def _exit(status: int) -> str:
    return f"killed by signal {-status}" if status < 0 else f"exit status {status}"


class _Follow:
    """Turns ffmpeg's output into progress reports and log lines while it runs."""

    def __init__(self, ctx: JobContext, total: int | None) -> None:
        self.ctx = ctx
        self.total = total
        self.parser = ProgressParser()
        self.tail = StderrTail()
        self.messages = 0
        self._next_note = time.monotonic() + NOTE_INTERVAL_S

    def run(self, child: Child) -> int:
        """Follow the child to its end; return its exit status."""
        for event in child.events(CHECK_INTERVAL_S):
            self.ctx.check()  # at least every CHECK_INTERVAL_S, whatever ffmpeg prints
            if event is None:
                continue
            stream, line = event
            if stream == "stderr":
                self._message(line)
            else:
                update = self.parser.feed(line)
                if update is not None and update.seconds is not None:
                    self._progress(update)
        return child.wait()

    def _message(self, line: str) -> None:
        found = classify(line)
        if found is None:
            return
        level, message = found
        self.tail.add(level, message)
        self.messages += 1
        if self.messages <= MAX_LOGGED_MESSAGES:
            self.ctx.log(f"ffmpeg: {message}", level=level)
        elif self.messages == MAX_LOGGED_MESSAGES + 1:
            self.ctx.log(f"ffmpeg: more than {MAX_LOGGED_MESSAGES} messages; the rest are not logged", level="WARN")

    def _progress(self, update: Progress) -> None:
        assert update.seconds is not None
        if self.total is not None:
            self.ctx.progress(min(int(update.seconds), self.total), self.total, unit="seconds")
        elif time.monotonic() >= self._next_note:
            self._next_note = time.monotonic() + NOTE_INTERVAL_S
            speed = f" at {update.speed:g}x" if update.speed else ""
            self.ctx.log(f"{media_clock(update.seconds)} of media written{speed}")


def _storable(path: str) -> str:
    """Given a path, return it as the store can keep it (text that is valid UTF-8)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return display_path(path)  # a name that is not UTF-8: shown, if not exact
    return path


@job_type(
    target="file",
    description=f"Transcode a media file with ffmpeg (presets: {', '.join(PRESETS)})",
    available=unavailable_reason,
    check_params=parse_params,
    # Safe to repeat: the output is written under a .part name and linked into place only
    # when complete, so a host that dies mid-transcode leaves the job to another.
    on_worker_lost="requeue",
)
def transcode(ctx: JobContext) -> dict[str, Any]:
    """Given a running transcode job's context, transcode its file and return the summary.

    Raises JobFailed for bad params, a missing input or output folder, an output that
    exists, or ffmpeg failing (with its last error lines); JobCancelled / WorkerStopping
    propagate, ffmpeg stopped and the partial output removed.
    """
    started = time.monotonic()
    options = _options(ctx)
    tools = _tools()
    source = os.path.abspath(ctx.target)
    input_bytes = _check_input(source)
    folder = options.output_dir or os.path.dirname(source)
    _check_folder(folder)
    name = output_name(os.path.basename(source), options.preset)
    final = os.path.join(folder, name)
    _refuse_existing(final)
    partial = os.path.join(folder, partial_name(name, ctx.id))
    _remove(ctx, partial)  # left by an earlier attempt at this job (a killed worker)

    source_info = _probe(ctx, tools.ffprobe, source, "input")
    ctx.log(f"input {display_path(source)}: {input_bytes:,} bytes, {_describe(source_info)}")
    duration = source_info.duration if source_info else None
    total = max(1, int(duration)) if duration else None
    args = ffmpeg_args(
        tools.ffmpeg,
        source,
        partial,
        options.preset,
        output_container(os.path.basename(source), options.preset)[1],
        realtime=options.realtime,
    )
    if total is not None:
        ctx.progress(0, total, unit="seconds", force=True)
    elif source_info is not None:  # (when ffprobe failed, it said so already)
        ctx.log("the input's duration is unknown: progress is logged, not shown as a bar", level="WARN")
    ctx.log(f"ffmpeg command: {shlex.join(display_path(arg) for arg in args)}")

    moved = False
    follow = _Follow(ctx, total)
    ffmpeg_started = time.monotonic()
    try:
        child = Child(args)
    except OSError as error:
        raise JobFailed(f"ffmpeg {display_path(tools.ffmpeg)} cannot be started: {error.strerror or error}") from None
    try:
        ctx.log(f"ffmpeg running as pid {child.pid}")
        status = follow.run(child)
        ffmpeg_seconds = time.monotonic() - ffmpeg_started
        if status != 0:
            ctx.check()  # the worker's own Ctrl-C reaches ffmpeg too: that is a stop, not a failure
            raise JobFailed(f"ffmpeg failed ({_exit(status)}) on {display_path(source)}: {follow.tail.reason()}")
        if total is not None:
            ctx.progress(total, total, unit="seconds", force=True)
        ctx.check()  # cancelled just as ffmpeg finished: the output is not kept
        output_info = _probe(ctx, tools.ffprobe, partial, "output")
        output_bytes = os.stat(partial).st_size
        _move_into_place(partial, final)
        moved = True
    finally:
        child.stop()
        if not moved:
            _remove(ctx, partial)

    last = follow.parser.last
    media_seconds = duration if duration is not None else (last.seconds if last else None)
    speed = round(media_seconds / ffmpeg_seconds, 2) if media_seconds and ffmpeg_seconds > 0 else None
    ctx.output_path = _storable(final)
    ctx.log(
        f"wrote {display_path(final)}: {output_bytes:,} bytes, {_describe(output_info)}, "
        f"in {ffmpeg_seconds:.1f} s" + (f" ({speed:g}x)" if speed else "")
    )
    return {
        "input_path": display_path(source),
        "output_path": display_path(final),
        "preset": options.preset.name,
        "input_bytes": input_bytes,
        "output_bytes": output_bytes,
        "duration_seconds": round(media_seconds, 3) if media_seconds is not None else None,
        "input_video_codec": source_info.video_codec if source_info else None,
        "input_audio_codec": source_info.audio_codec if source_info else None,
        "input_resolution": source_info.resolution if source_info else None,
        "output_video_codec": output_info.video_codec if output_info else None,
        "output_audio_codec": output_info.audio_codec if output_info else None,
        "output_resolution": output_info.resolution if output_info else None,
        "elapsed_seconds": round(time.monotonic() - started, 3),
        "speed": speed,
    }
