"""Make arbitrary text (file names, messages) safe to print on one line."""

from __future__ import annotations

import os
import re

# C0 and C1 control characters, DEL, the Unicode line and paragraph separators (line
# breaks to JavaScript and splitlines), and the bidirectional marks, overrides and
# isolates that can make a file name display as something it is not.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """Given any text, return it with control and bidi characters escaped, on one line.

    >>> one_line("a\\nb\\x1b[31m")
    'a\\\\nb\\\\x1b[31m'
    """
    return _UNSAFE.sub(_escape, text)


def display_path(path: str | bytes | os.PathLike[str]) -> str:
    """Given a path (possibly with undecodable bytes), return valid one-line UTF-8 text.

    Bytes that are not UTF-8 (kept by Python as surrogate escapes) show as U+FFFD.

    >>> display_path(b"bad\\xffname.mkv")
    'bad\\ufffdname.mkv'
    """
    raw = os.fsencode(path)
    return one_line(raw.decode("utf-8", errors="replace"))
