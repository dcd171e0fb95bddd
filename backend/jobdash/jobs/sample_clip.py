"""Write a short, small test clip with ffmpeg: a test pattern with a beeping tone.

Used by the tests and the run script::

    python -m jobdash.jobs.sample_clip OUT.mkv [--seconds 60]

ffmpeg's own ``testsrc`` (a pattern with a running counter) and ``sine`` sources, encoded
with encoders every ffmpeg build has (MPEG-4 part 2 video, MP2 audio) at 320x240 and 10
frames a second: a minute of it is about 1.4 MB and takes well under a second to write.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from jobdash.jobs.ffmpeg_log import LOGLEVEL, StderrTail, classify
from jobdash.jobs.ffmpeg_tools import ToolsMissing, find_tools

MAX_SECONDS = 3600.0


def clip_args(
    ffmpeg: str, out: str, *, seconds: float = 60.0, width: int = 320, height: int = 240, fps: int = 10
) -> list[str]:
    """Given ffmpeg's path and the clip's file, return the command that writes the clip
    (never over an existing file: ``-n``).

    >>> clip_args("ffmpeg", "/tmp/c.mkv", seconds=2.5)[6:10]
    ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=2.5']
    """
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        LOGLEVEL,
        "-n",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={width}x{height}:rate={fps}:duration={seconds:g}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:beep_factor=4:sample_rate=44100:duration={seconds:g}",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "mpeg4",
        "-q:v",
        "5",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "mp2",
        "-b:a",
        "96k",
        "-shortest",
        f"file:{out}",
    ]


def make_clip(
    path: str | os.PathLike[str],
    *,
    seconds: float = 60.0,
    width: int = 320,
    height: int = 240,
    ffmpeg: str | None = None,
) -> Path:
    """Given a new file's path (its extension picks the container), write a test clip
    of ``seconds`` there (``width`` x ``height``, 10 frames a second); return the path.

    FileExistsError if the file exists; ToolsMissing without ffmpeg; RuntimeError with
    ffmpeg's messages if it fails (no partial file is left).

    >>> make_clip(tmp_path / "clip.mkv", seconds=3)  # doctest: +SKIP
    PosixPath('/tmp/.../clip.mkv')
    """
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be more than 0 and at most {MAX_SECONDS:g}; got {seconds:g}")
    out = Path(path)
    if out.exists() or out.is_symlink():
        raise FileExistsError(f"{out} already exists")
    program = ffmpeg or find_tools().ffmpeg
    try:
        result = subprocess.run(
            clip_args(program, os.path.abspath(out), seconds=seconds, width=width, height=height),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60 + seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        out.unlink(missing_ok=True)
        raise
    if result.returncode != 0:
        out.unlink(missing_ok=True)
        tail = StderrTail()
        for line in result.stderr.decode("utf-8", "replace").splitlines():
            found = classify(line)
            if found is not None:
                tail.add(*found)
        raise RuntimeError(f"ffmpeg could not write {out} (exit status {result.returncode}): {tail.reason()}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Given command-line arguments, write a test clip and print what was made."""
    parser = argparse.ArgumentParser(
        prog="python -m jobdash.jobs.sample_clip",
        description="Write a small test clip (320x240, 10 fps, a test pattern and a beep) with ffmpeg.",
    )
    parser.add_argument("out", type=Path, help="the clip to write, e.g. clip.mkv (must not exist)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length in seconds (default 60)")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be more than 0 and at most {MAX_SECONDS:g}; got {args.seconds:g}")
    if args.out.exists() or args.out.is_symlink():
        parser.error(f"{args.out} already exists; choose a new file name")
    try:
        made = make_clip(args.out, seconds=args.seconds)
    except (ToolsMissing, RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"made a {args.seconds:g} s test clip ({made.stat().st_size:,} bytes) in {made}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
