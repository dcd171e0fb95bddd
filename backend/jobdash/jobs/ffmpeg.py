"""The transcode job's ffmpeg, the pure part: presets, parameters, output names and the
command line. No I/O and no jobdash imports, so the CLI can check ``--param preset=``
against :data:`PRESETS` cheaply.

Parameters (:data:`PARAMS`): ``preset`` (one of :data:`PRESETS`, default
:data:`DEFAULT_PRESET`), ``output_dir`` (an absolute path to an existing folder; default:
the input's folder) and ``realtime`` (true: read the input at media speed, for demos).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobdash.jobs.ffmpeg_log import LOGLEVEL


@dataclass(frozen=True, repr=False)
class Preset:
    """A named set of ffmpeg output options and the container it writes."""

    name: str
    description: str
    #: The output's extension, or None to keep the input's container.
    extension: str | None
    args: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Preset({self.name!r})"


_PRESET_TABLE: tuple[Preset, ...] = (
    Preset(
        "h264-720p",
        "H.264 video (libx264, CRF 23) at most 720 lines high, aspect kept, never upscaled; "
        "stereo AAC audio at 160 kb/s; MP4 that starts playing before it is fully downloaded",
        "mp4",
        (
            # Height at most 720 and even (yuv420p needs it); width follows the aspect ratio.
            # (The comma is escaped: unescaped, it would end the filter.)
            "-vf",
            r"scale=w=-2:h=min(720\,trunc(ih/2)*2)",
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-crf",
            "23",
            # 4:2:0: what players and browsers decode (a 4:4:4 source would stay 4:4:4).
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            "-ac",
            "2",
            # Subtitles and data streams do not survive into MP4 reliably (bitmap subtitles fail).
            "-sn",
            "-dn",
            "-movflags",
            "+faststart",
            "-max_muxing_queue_size",
            "1024",
        ),
    ),
    Preset(
        "copy",
        "every stream copied as it is into the same container (a remux: fast, lossless)",
        None,
        ("-map", "0", "-c", "copy", "-max_muxing_queue_size", "1024"),
    ),
)
PRESETS_BY_NAME: dict[str, Preset] = {preset.name: preset for preset in _PRESET_TABLE}
#: The preset names, for validating ``--param preset=`` up front.
PRESETS: tuple[str, ...] = tuple(PRESETS_BY_NAME)
DEFAULT_PRESET = "h264-720p"
#: The parameter names the transcode job takes.
PARAMS: tuple[str, ...] = ("preset", "output_dir", "realtime")

# Container extension -> ffmpeg muxer: the temporary output's name says nothing, so the
# muxer is named explicitly. `copy` keeps one of these; any other input becomes Matroska.
MUXERS: dict[str, str] = {
    "mkv": "matroska",
    "mka": "matroska",
    "webm": "webm",
    "mp4": "mp4",
    "m4v": "mp4",
    "m4a": "mp4",
    "mov": "mov",
    "avi": "avi",
    "ts": "mpegts",
    "m2ts": "mpegts",
    "mts": "mpegts",
    "mpg": "mpeg",
    "mpeg": "mpeg",
    "wmv": "asf",
    "asf": "asf",
    "flv": "flv",
    "ogv": "ogg",
    "ogg": "ogg",
    "3gp": "3gp",
}
FALLBACK_EXTENSION = "mkv"
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Options:
    """A transcode job's checked parameters."""

    preset: Preset
    output_dir: str | None = None
    realtime: bool = False


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"param realtime must be true or false; got {value!r:.40}")


def parse_params(params: Mapping[str, Any]) -> Options:
    """Given a transcode job's params, return its Options; ValueError naming the
    parameter and what is allowed.

    >>> parse_params({"preset": "copy", "realtime": "true"})
    Options(preset=Preset('copy'), output_dir=None, realtime=True)
    >>> parse_params({"preset": "vp9"})
    Traceback (most recent call last):
    ValueError: param preset must be one of h264-720p, copy; got 'vp9'
    >>> parse_params({"presets": "copy"})
    Traceback (most recent call last):
    ValueError: unknown param 'presets'; the transcode job takes preset, output_dir, realtime
    """
    unknown = [name for name in params if name not in PARAMS]
    if unknown:
        raise ValueError(f"unknown param {str(unknown[0])!r:.60}; the transcode job takes {', '.join(PARAMS)}")
    name = params.get("preset", DEFAULT_PRESET)
    if not isinstance(name, str) or name not in PRESETS_BY_NAME:
        raise ValueError(f"param preset must be one of {', '.join(PRESETS)}; got {name!r:.60}")
    output_dir = params.get("output_dir")
    if output_dir is not None:
        if not isinstance(output_dir, str) or not output_dir.strip() or "\x00" in output_dir:
            raise ValueError(f"param output_dir must be the path of a folder; got {output_dir!r:.60}")
        output_dir = os.path.expanduser(output_dir)
        # The worker's current folder is not the submitter's: a relative path would land anywhere.
        if not os.path.isabs(output_dir):
            raise ValueError(f"param output_dir must be an absolute path; got {output_dir!r:.200}")
        output_dir = os.path.normpath(output_dir)
    return Options(PRESETS_BY_NAME[name], output_dir, _flag(params.get("realtime", False)))


def output_container(input_name: str, preset: Preset) -> tuple[str, str]:
    """Given the input's file name and a preset, return (output extension, ffmpeg muxer).

    >>> output_container("clip.mkv", PRESETS_BY_NAME["h264-720p"])
    ('mp4', 'mp4')
    >>> output_container("Clip.MKV", PRESETS_BY_NAME["copy"]), output_container("raw.h264", PRESETS_BY_NAME["copy"])
    (('MKV', 'matroska'), ('mkv', 'matroska'))
    """
    if preset.extension is not None:
        return preset.extension, MUXERS[preset.extension]
    extension = os.path.splitext(input_name)[1][1:]
    if extension.lower() in MUXERS:
        return extension, MUXERS[extension.lower()]
    return FALLBACK_EXTENSION, MUXERS[FALLBACK_EXTENSION]


def output_name(input_name: str, preset: Preset) -> str:
    """Given the input's file name and a preset, return the output's file name: the
    input's stem, the preset, the container's extension.

    >>> output_name("clip.mkv", PRESETS_BY_NAME["h264-720p"]), output_name("clip.mkv", PRESETS_BY_NAME["copy"])
    ('clip.h264-720p.mp4', 'clip.copy.mkv')
    >>> output_name("Some.Movie.2019.avi", PRESETS_BY_NAME["copy"]), output_name("noext", PRESETS_BY_NAME["copy"])
    ('Some.Movie.2019.copy.avi', 'noext.copy.mkv')
    """
    stem = os.path.splitext(input_name)[0]
    return f"{stem}.{preset.name}.{output_container(input_name, preset)[0]}"


def partial_name(final_name: str, job_id: str) -> str:
    """Given the output's file name and the job's id, return the name ffmpeg writes to
    until it succeeds: hidden, and never a media name, so nothing mistakes it for the output.

    >>> partial_name("clip.h264-720p.mp4", "1a2b3c4d-0000-4000-8000-000000000000")
    '.clip.h264-720p.mp4.1a2b3c4d.part'
    """
    return f".{final_name}.{job_id[:8]}.part"


def ffmpeg_args(
    ffmpeg: str, source: str, partial: str, preset: Preset, muxer: str, *, realtime: bool = False
) -> list[str]:
    """Given the tools and files, return the ffmpeg command line of one transcode.

    ``-n`` never overwrites; ``-nostdin`` keeps ffmpeg from reading the terminal; progress
    goes to stdout as key=value lines, warnings and errors (level-tagged) to stderr.

    >>> " ".join(ffmpeg_args("ffmpeg", "/m/a.mkv", "/m/.a.copy.mkv.1a2b3c4d.part",
    ...     PRESETS_BY_NAME["copy"], "matroska", realtime=True))  # doctest: +NORMALIZE_WHITESPACE
    'ffmpeg -hide_banner -nostdin -loglevel level+warning -n -readrate 1 -i file:/m/a.mkv
     -map 0 -c copy -max_muxing_queue_size 1024 -f matroska -progress pipe:1 -nostats
     file:/m/.a.copy.mkv.1a2b3c4d.part'
    """
    args = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", LOGLEVEL, "-n"]
    if realtime:
        args += ["-readrate", "1"]  # an input option (ffmpeg 5 and later): read at media speed
    args += ["-i", f"file:{source}", *preset.args, "-f", muxer, "-progress", "pipe:1", "-nostats", f"file:{partial}"]
    return args
