"""ffmpeg's ``-progress pipe:1`` stream: ``key=value`` lines in blocks, each ended by
``progress=continue`` (or ``progress=end`` for the last one). Pure: no I/O.

The position is read from ``out_time_us``, else ``out_time_ms`` (which ffmpeg, despite
its name, also writes in microseconds), else ``out_time`` (``HH:MM:SS.micro``). Values
are ``N/A`` before the first frame is written, and can be negative around the start:
both mean "no position yet".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLOCK = re.compile(r"(?P<h>\d+):(?P<m>[0-5]?\d):(?P<s>\d+(?:\.\d+)?)")
_SPEED = re.compile(r"(?P<x>\d+(?:\.\d+)?(?:e[+-]?\d+)?)x")


@dataclass(frozen=True)
class Progress:
    """One progress block: media seconds written so far, encoding speed, and whether it is the last."""

    seconds: float | None
    speed: float | None
    ended: bool


def parse_clock(text: str) -> float | None:
    """Given ``HH:MM:SS.micro``, return seconds (None for N/A, negative or malformed).

    >>> parse_clock("00:01:02.500000"), parse_clock("N/A"), parse_clock("-577014:32:22.771")
    (62.5, None, None)
    """
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        return None
    return int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])


def _microseconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value / 1_000_000 if value >= 0 else None


def parse_speed(text: str | None) -> float | None:
    """Given ffmpeg's speed (``3.2x``), return the factor (None for N/A).

    >>> parse_speed("3.2x"), parse_speed(" 11.3x"), parse_speed("N/A")
    (3.2, 11.3, None)
    """
    match = _SPEED.fullmatch((text or "").strip())
    return float(match["x"]) if match else None


def block_progress(block: dict[str, str]) -> Progress:
    """Given one block's keys and values, return its Progress.

    >>> block_progress({"out_time_us": "3041723", "speed": "11.3x", "progress": "end"})
    Progress(seconds=3.041723, speed=11.3, ended=True)
    >>> block_progress({"out_time_ms": "N/A", "out_time": "00:00:01.500000", "progress": "continue"})
    Progress(seconds=1.5, speed=None, ended=False)
    """
    seconds = _microseconds(block.get("out_time_us"))
    if seconds is None:
        seconds = _microseconds(block.get("out_time_ms"))
    if seconds is None and "out_time" in block:
        seconds = parse_clock(block["out_time"])
    return Progress(seconds, parse_speed(block.get("speed")), block.get("progress") == "end")


class ProgressParser:
    """Reads the progress stream line by line; returns a Progress at the end of each block.

    >>> parser = ProgressParser()
    >>> [parser.feed(line) for line in ("frame=30", "out_time_us=2000000", "speed=2x")]
    [None, None, None]
    >>> parser.feed("progress=continue")
    Progress(seconds=2.0, speed=2.0, ended=False)
    """

    def __init__(self) -> None:
        self._block: dict[str, str] = {}
        #: The last block's Progress (None before the first block ends).
        self.last: Progress | None = None

    def feed(self, line: str) -> Progress | None:
        """Given one line of the stream, return the block's Progress if the line ended it."""
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None  # not key=value: nothing ffmpeg writes, so nothing to read
        self._block[key.strip()] = value.strip()
        if key.strip() != "progress":
            return None
        self.last = block_progress(self._block)
        self._block = {}
        return self.last
