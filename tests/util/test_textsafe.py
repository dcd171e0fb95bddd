"""Printing arbitrary text (file names, messages) safely on one line (jobdash.util.textsafe)."""

from __future__ import annotations

import os

import pytest

from jobdash.util.textsafe import display_path, one_line

# Unicode's Bidi_Control characters: ALM, LRM, RLM, LRE..RLO, LRI..PDI.
BIDI_CONTROLS = ["\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("a\nb", "a\\nb"),
        ("a\rb", "a\\rb"),
        ("a\tb", "a\\tb"),
        ("\x00", "\\x00"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),  # NEL
        ("\x9b2J", "\\x9b2J"),  # C1 CSI
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
        ("\u2066x\u2069", "\\u2066x\\u2069"),
    ],
)
def test_control_characters_are_escaped(raw: str, safe: str) -> None:
    """Newlines, terminal escapes, C1 controls and bidi overrides become visible escapes."""
    assert one_line(raw) == safe


@pytest.mark.parametrize(
    "text",
    [
        "plain.mkv",
        "Amélie (2001).mkv",
        "日本語/映画.mp4",
        "🎬 film.webm",
        "<img src=x onerror=alert(1)>",
        "a\\nb",
        "שלום.mkv",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    """Printable text, accents, CJK, emoji, RTL letters and markup characters pass through."""
    assert one_line(text) == text


def test_every_ascii_control_is_escaped() -> None:
    """No C0 control or DEL survives."""
    out = one_line("".join(map(chr, range(0x20))) + "\x7f")
    assert all(0x20 <= ord(c) < 0x7F for c in out)


@pytest.mark.parametrize("char", BIDI_CONTROLS, ids=[f"U+{ord(c):04X}" for c in BIDI_CONTROLS])
def test_every_bidi_control_is_escaped(char: str) -> None:
    """Every Unicode Bidi_Control character (Trojan-Source style reordering) is escaped."""
    out = one_line(f"a{char}b")
    assert char not in out
    assert out == f"a\\u{ord(char):04x}b"


@pytest.mark.parametrize(
    "char",
    ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_output_is_one_line_for_every_line_break(char: str) -> None:
    """Whatever line-break character a name holds, the output is a single line."""
    assert one_line(f"first{char}second").splitlines() == [one_line(f"first{char}second")]


def test_display_path_replaces_undecodable_bytes() -> None:
    """Non-UTF-8 bytes (bytes or surrogate-escaped str) show as U+FFFD."""
    assert display_path(b"bad\xffname.mkv") == "bad\ufffdname.mkv"
    assert display_path(os.fsdecode(b"bad\xffname.mkv")) == "bad\ufffdname.mkv"


def test_display_path_escapes_controls_and_accepts_pathlike() -> None:
    """A path object with a newline in its name is shown on one line."""
    from pathlib import PurePosixPath

    assert display_path(PurePosixPath("/m/a\nb.mkv")) == "/m/a\\nb.mkv"
    assert display_path("Amélie.mkv") == "Amélie.mkv"
