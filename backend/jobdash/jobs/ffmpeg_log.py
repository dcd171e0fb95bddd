"""ffmpeg's stderr as job log lines: which lines are warnings, which are errors.

ffmpeg runs with ``-loglevel level+warning`` (:data:`LOGLEVEL`): it prints only warnings
and worse, each tagged with its level (``[warning]``, ``[error]``, ``[fatal]``), so the
tag decides, not guesses from wording. Lines without a tag (a message continued on a
second line, or an ffmpeg run without that flag) are judged by their words. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections import deque

#: The ``-loglevel`` value the transcode job runs ffmpeg with: level tags, warnings and worse.
LOGLEVEL = "level+warning"
TAIL_LINES = 5

_TAGGED = re.compile(
    r"^(?:\[(?P<context>[^\]]*)\]\s*)?\[(?P<level>panic|fatal|error|warning|info|verbose|debug|trace)\]\s?"
)
# "[mp4 @ 0x55d39d712a00]": the address tells an operator nothing and differs every run.
_ADDRESS = re.compile(r"\s@\s0x[0-9a-fA-F]+")
_ERROR_WORDS = re.compile(r"\b(error|invalid|failed|cannot|could not|unable|no such file|permission denied)\b", re.I)
_LEVELS = {"panic": "ERROR", "fatal": "ERROR", "error": "ERROR", "warning": "WARN"}


def classify(line: str) -> tuple[str, str] | None:
    """Given one line of ffmpeg's stderr, return (job log level, message), or None for a
    blank line.

    >>> classify("[matroska,webm @ 0x55a37e0c1180] [error] EBML header parsing failed")
    ('ERROR', '[matroska,webm] EBML header parsing failed')
    >>> classify("[fatal] File 'out.mp4' already exists. Exiting.")
    ('ERROR', "File 'out.mp4' already exists. Exiting.")
    >>> classify("[mp4 @ 0x1] [warning] track 1: codec frame size is not set")
    ('WARN', '[mp4] track 1: codec frame size is not set')
    >>> classify("clip.mkv: Invalid data found when processing input")
    ('ERROR', 'clip.mkv: Invalid data found when processing input')
    >>> classify("   ") is None
    True
    """
    text = line.strip()
    if not text:
        return None
    match = _TAGGED.match(text)
    if match is None:
        level = "ERROR" if _ERROR_WORDS.search(text) else "WARN"
        return level, _ADDRESS.sub("", text)
    message = text[match.end() :]
    context = match.group("context")
    if context:
        message = f"[{_ADDRESS.sub('', context)}] {message}"
    # Anything above warning only shows up with a chattier -loglevel: not a problem.
    return _LEVELS.get(match.group("level"), "INFO"), message


class StderrTail:
    """Keeps ffmpeg's last few messages, to say why it failed.

    >>> tail = StderrTail()
    >>> tail.add("WARN", "low score"); tail.add("ERROR", "EBML header parsing failed")
    >>> tail.reason()
    'EBML header parsing failed'
    >>> StderrTail().reason()
    'ffmpeg printed no message'
    """

    def __init__(self, size: int = TAIL_LINES) -> None:
        self._errors: deque[str] = deque(maxlen=size)
        self._all: deque[str] = deque(maxlen=size)

    def add(self, level: str, message: str) -> None:
        """Remember one classified message."""
        self._all.append(message)
        if level == "ERROR":
            self._errors.append(message)

    def reason(self) -> str:
        """Return the last error messages (the last messages when none was an error), joined."""
        lines = self._errors or self._all
        return "; ".join(lines) if lines else "ffmpeg printed no message"
