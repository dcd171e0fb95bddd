"""Reading ffmpeg and ffprobe output without running them: progress, probe JSON, stderr lines."""

from __future__ import annotations

import json

import pytest

from jobdash.jobs.ffmpeg_log import StderrTail, classify
from jobdash.jobs.ffmpeg_progress import Progress, ProgressParser, block_progress, parse_clock, parse_speed
from jobdash.jobs.ffprobe import MediaInfo, parse_probe, probe_args

# What ffmpeg 5.1 wrote for a 3-second transcode (trimmed to two blocks).
PROGRESS_STREAM = """\
frame=1
fps=0.00
stream_0_0_q=0.0
bitrate=   2.1kbits/s
total_size=48
out_time_us=185737
out_time_ms=185737
out_time=00:00:00.185737
dup_frames=0
drop_frames=0
speed=49.6x
progress=continue
frame=30
fps=0.00
stream_0_0_q=-1.0
bitrate= 247.5kbits/s
total_size=94085
out_time_us=3041723
out_time_ms=3041723
out_time=00:00:03.041723
dup_frames=0
drop_frames=0
speed=11.3x
progress=end
"""


# progress


def test_progress_stream_gives_one_update_per_block() -> None:
    parser = ProgressParser()
    updates = [u for u in (parser.feed(line) for line in PROGRESS_STREAM.splitlines()) if u is not None]
    assert updates == [Progress(0.185737, 49.6, False), Progress(3.041723, 11.3, True)]
    assert parser.last == updates[-1]


def test_position_falls_back_from_us_to_ms_to_clock() -> None:
    assert block_progress({"out_time_us": "2500000", "out_time_ms": "9", "out_time": "00:00:09.0"}).seconds == 2.5
    # out_time_ms is in microseconds too (an old ffmpeg misnomer, kept for compatibility).
    assert block_progress({"out_time_ms": "2500000", "out_time": "00:00:09.0"}).seconds == 2.5
    assert block_progress({"out_time_us": "N/A", "out_time": "01:00:01.25"}).seconds == 3601.25
    assert block_progress({"out_time_us": "N/A", "out_time_ms": "N/A", "out_time": "N/A"}).seconds is None
    assert block_progress({}).seconds is None


def test_negative_positions_at_the_start_mean_none_yet() -> None:
    # Seen with inputs whose first timestamps are negative (B-frames, raw streams).
    block = {"out_time_us": "-199000", "out_time_ms": "-199000", "out_time": "-00:00:00.199000"}
    assert block_progress(block).seconds is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:00:00.000000", 0.0), ("00:01:02.5", 62.5), ("10:00:00", 36000.0), ("N/A", None), ("", None)]
    + [("garbage", None), ("-00:00:01.0", None), ("00:61:00", None)],
)
def test_parse_clock(text: str, seconds: float | None) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize(
    ("text", "speed"), [("3.2x", 3.2), ("   1x", 1.0), ("0.999x", 0.999), ("1.2e+03x", 1200.0), ("N/A", None)]
)
def test_parse_speed(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


def test_odd_lines_do_not_break_the_parser() -> None:
    parser = ProgressParser()
    assert parser.feed("") is None
    assert parser.feed("no equals sign") is None
    assert parser.feed("out_time_us = 1000000 ") is None
    assert parser.feed("progress=continue") == Progress(1.0, None, False)
    # Keys do not leak from one block into the next.
    assert parser.feed("progress=continue") == Progress(None, None, False)


# ffprobe


def probe_json(format_: dict[str, object], streams: list[dict[str, object]]) -> str:
    return json.dumps({"format": format_, "streams": streams})


def test_probe_reads_duration_codecs_and_size() -> None:
    text = probe_json(
        {"filename": "clip.mkv", "duration": "60.011000", "format_name": "matroska,webm"},
        [
            {"index": 0, "codec_type": "video", "codec_name": "mpeg4", "width": 320, "height": 240},
            {"index": 1, "codec_type": "audio", "codec_name": "mp2"},
            {"index": 2, "codec_type": "audio", "codec_name": "aac"},
        ],
    )
    info = parse_probe(text)
    assert info == MediaInfo(60.011, "mpeg4", "mp2", 320, 240)
    assert info.resolution == "320x240"


def test_probe_skips_cover_art_and_falls_back_to_stream_durations() -> None:
    text = probe_json(
        {"duration": "N/A"},
        [
            {
                "codec_type": "video",
                "codec_name": "mjpeg",
                "width": 600,
                "height": 600,
                "disposition": {"attached_pic": 1},
            },
            {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080, "duration": "12.5"},
            {"codec_type": "audio", "codec_name": "opus", "duration": "12.75"},
        ],
    )
    assert parse_probe(text) == MediaInfo(12.75, "h264", "opus", 1920, 1080)


def test_probe_of_audio_only_and_of_nothing() -> None:
    assert parse_probe(probe_json({"duration": "3.0"}, [{"codec_type": "audio", "codec_name": "flac"}])) == MediaInfo(
        3.0, None, "flac"
    )
    assert parse_probe("{}") == MediaInfo()
    assert parse_probe(probe_json({"duration": "nan"}, [])).duration is None
    assert parse_probe(probe_json({"duration": "-1"}, [])).duration is None
    assert MediaInfo().resolution is None


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]"])
def test_probe_output_that_is_not_an_object_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_probe(text)


def test_probe_args() -> None:
    assert probe_args("/usr/bin/ffprobe", "/m/a.mkv") == [
        "/usr/bin/ffprobe",
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "file:/m/a.mkv",
    ]


# stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "[matroska,webm @ 0x55a37e0c1180] [error] EBML header parsing failed",
            ("ERROR", "[matroska,webm] EBML header parsing failed"),
        ),
        (
            "[error] bad.mkv: Invalid data found when processing input",
            ("ERROR", "bad.mkv: Invalid data found when processing input"),
        ),
        ("[fatal] File 'clip.mkv' already exists. Exiting.", ("ERROR", "File 'clip.mkv' already exists. Exiting.")),
        ("[panic] out of memory", ("ERROR", "out of memory")),
        (
            "[matroska,webm @ 0x55a37e0c1180] [warning] Format matroska,webm detected only with low score of 1",
            ("WARN", "[matroska,webm] Format matroska,webm detected only with low score of 1"),
        ),
        ("[info] Stream mapping:", ("INFO", "Stream mapping:")),
        # Untagged lines (a continued message, or ffmpeg run without `level`): judged by their words.
        (
            "Error while decoding stream #0:0: Invalid data found",
            ("ERROR", "Error while decoding stream #0:0: Invalid data found"),
        ),
        ("[h264 @ 0xdeadbeef] co located POCs unavailable", ("WARN", "[h264] co located POCs unavailable")),
        ("    Last message repeated 3 times\r", ("WARN", "Last message repeated 3 times")),
        ("", None),
        (" \r", None),
    ],
)
def test_classify_stderr(line: str, expected: tuple[str, str] | None) -> None:
    assert classify(line) == expected


def test_tail_keeps_the_last_errors_else_the_last_messages() -> None:
    tail = StderrTail(size=2)
    for n in range(4):
        tail.add("WARN", f"warning {n}")
    assert tail.reason() == "warning 2; warning 3"
    for n in range(3):
        tail.add("ERROR", f"error {n}")
    tail.add("WARN", "a warning after the errors")
    assert tail.reason() == "error 1; error 2"
