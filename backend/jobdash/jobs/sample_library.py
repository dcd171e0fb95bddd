"""Write a realistic, deterministic media library of small files with real headers.

Used by the tests, the benchmark and the run script::

    python -m jobdash.jobs.sample_library DIR [--files N] [--seed S] [--flat] [--max-size BYTES]

Media files start with valid container headers (Matroska and WebM EBML headers, MP4 and
QuickTime ftyp boxes, RIFF AVI, 188-byte MPEG-TS packets) followed by pseudo-random
payload; beside them sit .nfo, .srt and .jpg files that a scan must ignore.
"""

from __future__ import annotations

import argparse
import math
import random
import struct
import sys
from pathlib import Path
from typing import Any

MIN_SIZE = 2 * 1024
MAX_SIZE = 200 * 1024

# (sniffed container name, file extension, weight): a library is mostly Matroska.
_KINDS: tuple[tuple[str, str, int], ...] = (
    ("matroska", "mkv", 40),
    ("mp4", "mp4", 25),
    ("avi", "avi", 10),
    ("mpegts", "ts", 10),
    ("webm", "webm", 8),
    ("quicktime", "mov", 7),
)
_WORDS_A = (
    "Silent",
    "Crimson",
    "Last",
    "Hidden",
    "Broken",
    "Golden",
    "Northern",
    "Lost",
    "Electric",
    "Quiet",
    "Distant",
    "Iron",
    "Paper",
    "Midnight",
    "Frozen",
    "Wild",
)
_WORDS_B = (
    "Harbor",
    "Garden",
    "Signal",
    "Empire",
    "River",
    "Letters",
    "Machine",
    "Summer",
    "Protocol",
    "Orchard",
    "Kingdom",
    "Station",
    "Horizon",
    "Archive",
    "Tide",
    "Road",
)


# Container headers. Each builder returns the whole file: header + payload, ``size`` bytes.


def _ebml_element(element_id: int, data: bytes) -> bytes:
    # Two-byte IDs and one-byte sizes are enough for the EBML header's small children.
    return element_id.to_bytes(2, "big") + bytes([0x80 | len(data)]) + data


def _matroska(doctype: bytes, payload: bytes) -> bytes:
    children = b"".join(
        (
            _ebml_element(0x4286, b"\x01"),  # EBMLVersion
            _ebml_element(0x42F7, b"\x01"),  # EBMLReadVersion
            _ebml_element(0x42F2, b"\x04"),  # EBMLMaxIDLength
            _ebml_element(0x42F3, b"\x08"),  # EBMLMaxSizeLength
            _ebml_element(0x4282, doctype),  # DocType
            _ebml_element(0x4287, b"\x04"),  # DocTypeVersion
            _ebml_element(0x4285, b"\x02"),  # DocTypeReadVersion
        )
    )
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(children)]) + children
    segment = b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # unknown size
    return header + segment + payload


def _box(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", 8 + len(data)) + kind + data


def _iso_bmff(ftyp: bytes, extra: bytes, payload: bytes) -> bytes:
    return _box(b"ftyp", ftyp) + extra + _box(b"mdat", payload)


def _avi(payload: bytes) -> bytes:
    # avih: 14 little-endian uint32 (µs/frame, ..., width, height, reserved).
    avih = struct.pack("<14I", 41708, 0, 0, 0x10, 240, 0, 1, 0, 0, 0, 1920, 1080, 0, 0)
    hdrl = b"hdrl" + b"avih" + struct.pack("<I", len(avih)) + avih
    body = b"LIST" + struct.pack("<I", len(hdrl)) + hdrl
    body += b"LIST" + struct.pack("<I", 4 + len(payload)) + b"movi" + payload
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"AVI " + body


def _mpegts(payload: bytes) -> bytes:
    packets = max(3, len(payload) // 188)
    data = bytearray((payload * (1 + 564 // max(1, len(payload))))[: packets * 188])
    # Header of every packet: sync byte, PID 0x0100, payload-only, continuity counter.
    data[0::188] = b"\x47" * packets
    data[1::188] = b"\x41" * packets
    data[2::188] = b"\x00" * packets
    data[3::188] = bytes(0x10 | (i & 0x0F) for i in range(packets))
    return bytes(data)


def _media_bytes(container: str, payload: bytes) -> bytes:
    """Given a container name and payload, return a file with that container's header."""
    if container in ("matroska", "webm"):
        return _matroska(container.encode(), payload)
    if container == "mp4":
        return _iso_bmff(b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41", _box(b"free", b""), payload)
    if container == "quicktime":
        return _iso_bmff(b"qt  " + struct.pack(">I", 0x20050300) + b"qt  ", _box(b"wide", b""), payload)
    if container == "avi":
        return _avi(payload)
    if container == "mpegts":
        return _mpegts(payload)
    raise ValueError(f"no sample header for container {container!r}")


class _Writer:
    """Writes files under a root, creating each directory once, and counts them."""

    def __init__(self, root: Path, rng: random.Random, max_size: int) -> None:
        self.root = root
        self.rng = rng
        self.max_size = max_size
        # One pool of random bytes, sliced at random offsets: fast and deterministic.
        self.pool = rng.randbytes(max_size + 4096)
        self.dirs: set[Path] = set()
        self.summary: dict[str, Any] = {
            "media_files": 0,
            "other_files": 0,
            "by_container": {},
            "bytes": 0,
        }

    def _write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        if path.parent not in self.dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.dirs.add(path.parent)
        path.write_bytes(data)

    def _payload(self, size: int) -> bytes:
        start = self.rng.randrange(len(self.pool) - size + 1)
        return self.pool[start : start + size]

    def media(self, stem: str, container: str, extension: str) -> None:
        low, high = math.log(min(MIN_SIZE, self.max_size)), math.log(self.max_size)
        size = int(math.exp(self.rng.uniform(low, high)))  # log-uniform: many small files
        data = _media_bytes(container, self._payload(max(0, size - 128)))
        self._write(f"{stem}.{extension}", data)
        counts = self.summary["by_container"]
        counts[container] = counts.get(container, 0) + 1
        self.summary["media_files"] += 1
        self.summary["bytes"] += len(data)

    def other(self, rel: str, kind: str) -> None:
        if kind == "jpg":
            data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + self._payload(self.rng.randrange(1024, 8192))
        elif kind == "srt":
            data = b"1\n00:00:01,000 --> 00:00:03,000\nHello.\n\n"
        else:
            data = b'<?xml version="1.0" encoding="UTF-8"?>\n<movie><title>sample</title></movie>\n'
        self._write(rel, data)
        self.summary["other_files"] += 1


def make_library(
    root: Path, *, files: int = 200, nested: bool = True, seed: int = 0, max_size: int = MAX_SIZE
) -> dict[str, Any]:
    """Given a directory, write ``files`` media files (and extras) under it; return counts.

    Nested: "Movies/Title (Year)/Title (Year).mkv" with movie.nfo and poster.jpg (and
    sometimes an .srt), and "TV/Show/Season 01/Show S01E01.mkv". Flat: everything in
    ``root``. Media sizes are log-uniform from 2 KiB to ``max_size`` bytes. The same
    arguments always write the same bytes. Returns ``{"media_files", "other_files",
    "by_container" (sniffed container -> count, sorted), "bytes" (media bytes)}``.

    >>> make_library(tmp_path, files=3)  # doctest: +SKIP
    {'media_files': 3, 'other_files': 8, 'by_container': {'matroska': 2, 'mp4': 1}, 'bytes': 95012}
    """
    if files < 0:
        raise ValueError(f"files must be 0 or more; got {files}")
    if max_size < 1024:
        raise ValueError(f"max_size must be at least 1024 bytes; got {max_size}")
    rng = random.Random(seed)
    writer = _Writer(Path(root), rng, max_size)
    writer.root.mkdir(parents=True, exist_ok=True)
    kinds, weights = [k[:2] for k in _KINDS], [k[2] for k in _KINDS]
    titles: set[str] = set()
    shows: dict[str, list[int]] = {}  # show -> [season, last episode]
    show_names = [f"{a} {b}" for a, b in zip(rng.sample(_WORDS_A, 8), rng.sample(_WORDS_B, 8), strict=True)]

    for _ in range(files):
        container, ext = rng.choices(kinds, weights)[0]
        title = f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)} ({rng.randrange(1950, 2025)})"
        while title in titles:  # each movie gets its own folder
            title = f"{title[:-7]} {rng.randrange(2, 99)}{title[-7:]}"
        if not nested:
            titles.add(title)
            writer.media(title, container, ext)
            if rng.random() < 0.3:
                writer.other(f"{title}.nfo", "nfo")
        elif rng.random() < 0.6:
            titles.add(title)
            folder = f"Movies/{title}"
            writer.media(f"{folder}/{title}", container, ext)
            writer.other(f"{folder}/movie.nfo", "nfo")
            writer.other(f"{folder}/poster.jpg", "jpg")
            if rng.random() < 0.4:
                writer.other(f"{folder}/{title}.en.srt", "srt")
        else:
            show = rng.choice(show_names)
            if show not in shows:
                shows[show] = [1, 0]
                writer.other(f"TV/{show}/tvshow.nfo", "nfo")
            state = shows[show]
            if state[1] >= 12:  # twelve episodes a season
                state[0], state[1] = state[0] + 1, 0
            state[1] += 1
            stem = f"TV/{show}/Season {state[0]:02d}/{show} S{state[0]:02d}E{state[1]:02d}"
            writer.media(stem, container, ext)
            if rng.random() < 0.3:
                writer.other(f"{stem}.en.srt", "srt")
    writer.summary["by_container"] = dict(sorted(writer.summary["by_container"].items()))
    return writer.summary


def main(argv: list[str] | None = None) -> int:
    """Given command-line arguments, write a sample library and print what was made."""
    parser = argparse.ArgumentParser(
        prog="python -m jobdash.jobs.sample_library",
        description="Write a deterministic sample media library (real container headers).",
    )
    parser.add_argument("dir", type=Path, help="directory to create (must be missing or empty)")
    parser.add_argument("--files", type=int, default=200, help="media files to write (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--flat", action="store_true", help="put every file directly in DIR")
    parser.add_argument(
        "--max-size",
        type=int,
        default=MAX_SIZE,
        help=f"largest media file in bytes (default {MAX_SIZE})",
    )
    args = parser.parse_args(argv)
    if args.files < 0:
        parser.error(f"--files must be 0 or more; got {args.files}")
    if args.max_size < 1024:
        parser.error(f"--max-size must be at least 1024; got {args.max_size}")
    target: Path = args.dir
    if target.exists() and not target.is_dir():
        parser.error(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        parser.error(f"{target} is not empty; choose a new or empty directory")
    try:
        made = make_library(target, files=args.files, nested=not args.flat, seed=args.seed, max_size=args.max_size)
    except OSError as error:
        print(
            f"error: cannot write the library in {target}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    by_container = ", ".join(f"{name} {count}" for name, count in made["by_container"].items())
    print(
        f"made {made['media_files']} media files ({made['bytes']} bytes: {by_container or 'none'}) "
        f"and {made['other_files']} other files in {target}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
