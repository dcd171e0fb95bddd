"""ffprobe for the transcode job: its command line, and what its JSON says. Pure: no I/O."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MediaInfo:
    """What the transcode job needs to know of a media file."""

    duration: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def resolution(self) -> str | None:
        """``WIDTHxHEIGHT`` of the video, or None."""
        return f"{self.width}x{self.height}" if self.width and self.height else None


def probe_args(ffprobe: str, path: str) -> list[str]:
    """Given ffprobe's path and a media file, return the command that describes it as JSON.

    ``file:`` keeps a name with a colon (``a:b.mkv``) from being read as a protocol.

    >>> probe_args("ffprobe", "/m/clip.mkv")[-1]
    'file:/m/clip.mkv'
    """
    return [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", f"file:{path}"]


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None  # "N/A", missing
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _first(streams: list[dict[str, Any]], codec_type: str) -> dict[str, Any] | None:
    for stream in streams:
        if stream.get("codec_type") != codec_type:
            continue
        # Cover art in Matroska/MP4 is a one-frame "video" stream: not the video.
        if codec_type == "video" and (stream.get("disposition") or {}).get("attached_pic"):
            continue
        return stream
    return None


def parse_probe(text: str) -> MediaInfo:
    """Given ffprobe's JSON output, return the media's duration, codecs and video size.

    The duration is the container's, else the longest stream's, else None. Raises
    ValueError if the text is not a JSON object.

    >>> parse_probe('{"format": {"duration": "60.011000"}, "streams": ['
    ...     '{"codec_type": "video", "codec_name": "mpeg4", "width": 320, "height": 240},'
    ...     '{"codec_type": "audio", "codec_name": "mp2"}]}')
    MediaInfo(duration=60.011, video_codec='mpeg4', audio_codec='mp2', width=320, height=240)
    >>> parse_probe('{"format": {"duration": "N/A"}, "streams": []}')
    MediaInfo(duration=None, video_codec=None, audio_codec=None, width=None, height=None)
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("ffprobe output is not a JSON object")
    fmt = data.get("format") if isinstance(data.get("format"), dict) else {}
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    duration = _seconds(fmt.get("duration"))
    if duration is None:
        durations = [d for d in (_seconds(s.get("duration")) for s in streams) if d is not None]
        duration = max(durations, default=None)
    video = _first(streams, "video") or {}
    audio = _first(streams, "audio") or {}
    return MediaInfo(
        duration=duration,
        video_codec=video.get("codec_name") if isinstance(video.get("codec_name"), str) else None,
        audio_codec=audio.get("codec_name") if isinstance(audio.get("codec_name"), str) else None,
        width=_positive_int(video.get("width")),
        height=_positive_int(video.get("height")),
    )
