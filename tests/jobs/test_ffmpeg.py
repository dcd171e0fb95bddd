"""The transcode job's pure parts: presets, params, output names, command lines, finding the tools."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jobdash.jobs.ffmpeg import (
    DEFAULT_PRESET,
    MUXERS,
    PARAMS,
    PRESETS,
    PRESETS_BY_NAME,
    Options,
    ffmpeg_args,
    output_container,
    output_name,
    parse_params,
    partial_name,
)
from jobdash.jobs.ffmpeg_tools import ToolsMissing, find_tools, unavailable_reason
from jobdash.jobs.transcode import transcode
from jobdash.worker.registry import declaration

H264 = PRESETS_BY_NAME["h264-720p"]
COPY = PRESETS_BY_NAME["copy"]


# presets and params


def test_presets_are_a_tuple_of_names_with_the_two_required() -> None:
    assert isinstance(PRESETS, tuple)
    assert {"h264-720p", "copy"} <= set(PRESETS)
    assert DEFAULT_PRESET in PRESETS
    assert PARAMS == ("preset", "output_dir", "realtime")
    for name in PRESETS:
        preset = PRESETS_BY_NAME[name]
        assert preset.name == name and preset.description
        assert preset.extension is None or preset.extension in MUXERS


def test_h264_preset_scales_to_at_most_720_lines_with_aac_in_mp4() -> None:
    args = list(H264.args)
    assert args[args.index("-vf") + 1] == r"scale=w=-2:h=min(720\,trunc(ih/2)*2)"
    assert args[args.index("-c:v") + 1] == "libx264"
    assert args[args.index("-c:a") + 1] == "aac"
    assert args[args.index("-pix_fmt") + 1] == "yuv420p"
    assert H264.extension == "mp4"


def test_copy_preset_remuxes_every_stream() -> None:
    assert list(COPY.args[:4]) == ["-map", "0", "-c", "copy"]
    assert COPY.extension is None


def test_params_defaults() -> None:
    assert parse_params({}) == Options(H264, None, False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("TRUE", True), ("yes", True), ("1", True), ("false", False)]
    + [("no", False), ("0", False), (1, True), (0, False), ("off", False)],
)
def test_realtime_accepts_booleans_and_their_words(value: object, expected: bool) -> None:
    assert parse_params({"realtime": value}).realtime is expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"preset": "vp9"}, "param preset must be one of h264-720p, copy; got 'vp9'"),
        ({"preset": 7}, "param preset must be one of h264-720p, copy; got 7"),
        ({"speed": "fast"}, "unknown param 'speed'; the transcode job takes preset, output_dir, realtime"),
        ({"realtime": "maybe"}, "param realtime must be true or false; got 'maybe'"),
        ({"realtime": None}, "param realtime must be true or false; got None"),
        ({"output_dir": ""}, "param output_dir must be the path of a folder; got ''"),
        ({"output_dir": ["/a"]}, "param output_dir must be the path of a folder; got ['/a']"),
        ({"output_dir": "out"}, "param output_dir must be an absolute path; got 'out'"),
    ],
)
def test_bad_params_name_what_is_allowed(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_params(params)
    assert str(raised.value) == message


def test_output_dir_is_normalised_and_expands_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/op")
    assert parse_params({"output_dir": "/srv//out/../done/"}).output_dir == "/srv/done"
    assert parse_params({"output_dir": "~/out"}).output_dir == "/home/op/out"


# names


@pytest.mark.parametrize(
    ("name", "preset", "expected"),
    [
        ("clip.mkv", "h264-720p", "clip.h264-720p.mp4"),
        ("clip.mkv", "copy", "clip.copy.mkv"),
        ("Movie (2019).MP4", "copy", "Movie (2019).copy.MP4"),
        ("Show.S01E01.avi", "h264-720p", "Show.S01E01.h264-720p.mp4"),
        ("raw.h264", "copy", "raw.copy.mkv"),  # not a container jobdash knows: Matroska holds anything
        ("noext", "copy", "noext.copy.mkv"),
    ],
)
def test_output_names(name: str, preset: str, expected: str) -> None:
    assert output_name(name, PRESETS_BY_NAME[preset]) == expected


def test_output_container_names_the_muxer() -> None:
    assert output_container("a.ts", COPY) == ("ts", "mpegts")
    assert output_container("a.webm", COPY) == ("webm", "webm")
    assert output_container("a.webm", H264) == ("mp4", "mp4")


def test_partial_name_is_hidden_and_not_a_media_name() -> None:
    name = partial_name("clip.copy.mkv", "0123abcd-ffff-4fff-8fff-ffffffffffff")
    assert name == ".clip.copy.mkv.0123abcd.part"


# command lines


def test_ffmpeg_args_never_overwrite_and_report_progress_on_stdout() -> None:
    args = ffmpeg_args("/usr/bin/ffmpeg", "/m/a:b.mkv", "/m/.a.part", H264, "mp4")
    assert args[0] == "/usr/bin/ffmpeg"
    assert args[1:6] == ["-hide_banner", "-nostdin", "-loglevel", "level+warning", "-n"]
    assert "-readrate" not in args
    assert args[args.index("-i") + 1] == "file:/m/a:b.mkv"  # a colon is not a protocol
    assert args[-6:] == ["-f", "mp4", "-progress", "pipe:1", "-nostats", "file:/m/.a.part"]
    assert args[args.index("-i") + 2 : -6] == list(H264.args)


def test_realtime_reads_the_input_at_media_speed() -> None:
    args = ffmpeg_args("ffmpeg", "/m/a.mkv", "/m/.a.part", COPY, "matroska", realtime=True)
    assert args[args.index("-readrate") : args.index("-readrate") + 3] == ["-readrate", "1", "-i"]


# finding the tools


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_tools_from_jobdash_ffmpeg_with_ffprobe_beside_it(tmp_path: Path) -> None:
    ffmpeg = _executable(tmp_path / "ffmpeg")
    ffprobe = _executable(tmp_path / "ffprobe")
    tools = find_tools({"JOBDASH_FFMPEG": str(ffmpeg), "PATH": ""})
    assert (tools.ffmpeg, tools.ffprobe) == (str(ffmpeg), str(ffprobe))


def test_ffprobe_from_path_when_not_beside_ffmpeg(tmp_path: Path) -> None:
    (tmp_path / "opt").mkdir()
    (tmp_path / "bin").mkdir()
    ffmpeg = _executable(tmp_path / "opt" / "ffmpeg-custom")
    ffprobe = _executable(tmp_path / "bin" / "ffprobe")
    tools = find_tools({"JOBDASH_FFMPEG": str(ffmpeg), "PATH": str(tmp_path / "bin")})
    assert tools.ffprobe == str(ffprobe)
    # A bare name in JOBDASH_FFMPEG is looked up on PATH.
    _executable(tmp_path / "bin" / "ffmpeg5")
    assert find_tools({"JOBDASH_FFMPEG": "ffmpeg5", "PATH": str(tmp_path / "bin")}).ffmpeg == str(
        tmp_path / "bin" / "ffmpeg5"
    )


def test_missing_tools_give_one_line_reasons(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "ffmpeg"
    reason = unavailable_reason({"JOBDASH_FFMPEG": str(missing), "PATH": ""})
    assert reason == f"JOBDASH_FFMPEG={str(missing)!r} is not an executable file; point it at ffmpeg or unset it"
    assert unavailable_reason({"PATH": str(tmp_path)}) == (
        "ffmpeg not found on PATH; install Debian's ffmpeg (apt-get install ffmpeg) or set JOBDASH_FFMPEG"
    )
    _executable(tmp_path / "ffmpeg")
    with pytest.raises(ToolsMissing) as raised:
        find_tools({"PATH": str(tmp_path)})
    assert str(raised.value).startswith(f"ffprobe not found beside {tmp_path / 'ffmpeg'} or on PATH")
    assert "\n" not in str(raised.value)


def test_not_executable_is_not_ffmpeg(tmp_path: Path) -> None:
    plain = tmp_path / "ffmpeg"
    plain.write_text("")
    assert unavailable_reason({"JOBDASH_FFMPEG": str(plain), "PATH": ""}) is not None


def test_the_handler_declares_a_file_target_and_its_availability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = declaration(transcode)
    assert declared.target == "file"
    assert "h264-720p" in declared.description and "copy" in declared.description
    assert declared.available is not None
    monkeypatch.setenv("JOBDASH_FFMPEG", os.fspath(tmp_path / "missing-ffmpeg"))
    reason = declared.available()
    assert reason is not None and "JOBDASH_FFMPEG=" in reason and "missing-ffmpeg" in reason
