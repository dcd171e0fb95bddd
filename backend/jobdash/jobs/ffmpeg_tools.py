"""Finding ffmpeg and ffprobe on this host.

``JOBDASH_FFMPEG`` names the ffmpeg to use (a path, or a command name looked up on
PATH); otherwise ``ffmpeg`` on PATH. ffprobe is taken from ffmpeg's own folder first (a
build in /opt comes with its own), else from PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

ENV_FFMPEG = "JOBDASH_FFMPEG"


class ToolsMissing(Exception):
    """ffmpeg or ffprobe cannot be found; the message says which and what to do."""


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the ffmpeg and ffprobe executables."""

    ffmpeg: str
    ffprobe: str


def find_tools(environ: Mapping[str, str] | None = None) -> Tools:
    """Return this host's ffmpeg and ffprobe; ToolsMissing (a one-line reason) if either is missing.

    >>> find_tools({"JOBDASH_FFMPEG": "/nonexistent/ffmpeg"})
    Traceback (most recent call last):
    jobdash.jobs.ffmpeg_tools.ToolsMissing: JOBDASH_FFMPEG='/nonexistent/ffmpeg' is not an executable file; point it at ffmpeg or unset it
    """
    env = os.environ if environ is None else environ
    path = env.get("PATH", os.defpath)
    configured = env.get(ENV_FFMPEG, "").strip()
    if configured:
        ffmpeg = shutil.which(os.path.expanduser(configured), path=path)
        if ffmpeg is None:
            raise ToolsMissing(
                f"{ENV_FFMPEG}={configured!r:.200} is not an executable file; point it at ffmpeg or unset it"
            )
    else:
        ffmpeg = shutil.which("ffmpeg", path=path)
        if ffmpeg is None:
            raise ToolsMissing(
                "ffmpeg not found on PATH; install Debian's ffmpeg (apt-get install ffmpeg) or set JOBDASH_FFMPEG"
            )
    ffmpeg = os.path.abspath(ffmpeg)
    ffprobe = shutil.which(os.path.join(os.path.dirname(ffmpeg), "ffprobe")) or shutil.which("ffprobe", path=path)
    if ffprobe is None:
        raise ToolsMissing(f"ffprobe not found beside {ffmpeg} or on PATH; it comes with ffmpeg (Debian: ffmpeg)")
    return Tools(ffmpeg, os.path.abspath(ffprobe))


def unavailable_reason(environ: Mapping[str, str] | None = None) -> str | None:
    """Return None when ffmpeg and ffprobe are found, else why the transcode job cannot run here."""
    try:
        find_tools(environ)
    except ToolsMissing as missing:
        return str(missing)
    return None
