"""Container sniffing from real header bytes, and media file names."""

from __future__ import annotations

import random

import pytest

from jobdash.jobs.containers import (
    MEDIA_EXTENSIONS,
    extension,
    is_media_file,
    matches_extension,
    sniff_container,
)

# First bytes of real files, as written by common muxers.
MKV_MKVMERGE = bytes.fromhex("1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b61428781044285810218538067")
# libavformat writes the EBML header size as an 8-byte variable-length integer.
MKV_FFMPEG = bytes.fromhex(
    "1a45dfa301000000000000234286810142f7810142f2810442f381084282886d6174726f736b61428781044285810218538067"
)
WEBM_FFMPEG = bytes.fromhex(
    "1a45dfa3010000000000001f4286810142f7810142f2810442f381084282847765626d428781044285810218538067"
)
MP4_ISOM = bytes.fromhex("000000206674797069736f6d0000020069736f6d69736f32617663316d703431")
M4V_ITUNES = bytes.fromhex("0000001c667479704d345620000000014d3456204d3441206d70343269736f6d")
THREE_GP = bytes.fromhex("00000018667479703367703400000000336770346973366d")
MOV_FTYP = bytes.fromhex("0000001466747970717420202005030071742020") + bytes.fromhex("0000000877696465")
MOV_LEGACY_WIDE = bytes.fromhex("0000000877696465") + bytes.fromhex("00012a3c6d646174")
MOV_LEGACY_MOOV = bytes.fromhex("00012a3c6d6f6f76000000 6c6d766864".replace(" ", ""))
AVI = b"RIFF" + bytes.fromhex("a0860100") + b"AVI LIST" + bytes.fromhex("c0000000") + b"hdrlavih"
ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + bytes.fromhex("b005000000000000")
FLV = bytes.fromhex("464c5601050000000900000000")
MPEG_PS = bytes.fromhex("000001ba4400040004010189c3f8000001bb")
OGG = bytes.fromhex("4f67675300020000000000000000")


def ts_packets(count: int, packet: int = 188, offset: int = 0) -> bytes:
    """Given a packet count, return MPEG-TS (or M2TS, 192/4) packets with sync bytes."""
    data = bytearray(count * packet)
    for start in range(offset, len(data), packet):
        data[start : start + 4] = b"\x47\x40\x00\x10"
    return bytes(data)


KNOWN = [
    ("mkv from mkvmerge", MKV_MKVMERGE, "matroska"),
    ("mkv from ffmpeg", MKV_FFMPEG, "matroska"),
    ("webm from ffmpeg", WEBM_FFMPEG, "webm"),
    ("mp4 isom", MP4_ISOM, "mp4"),
    ("m4v brand", M4V_ITUNES, "mp4"),
    ("3gp brand", THREE_GP, "mp4"),
    ("mov with ftyp qt", MOV_FTYP, "quicktime"),
    ("mov, legacy wide atom", MOV_LEGACY_WIDE, "quicktime"),
    ("mov, legacy moov atom", MOV_LEGACY_MOOV, "quicktime"),
    ("avi", AVI, "avi"),
    ("mpeg-ts", ts_packets(3), "mpegts"),
    ("m2ts", ts_packets(3, 192, 4), "mpegts"),
    ("asf/wmv", ASF, "asf"),
    ("flv", FLV, "flv"),
    ("mpeg-ps", MPEG_PS, "mpeg-ps"),
    ("ogg", OGG, "ogg"),
]
CONTAINERS = {expected for _, _, expected in KNOWN} | {"unknown"}


@pytest.mark.parametrize("head, expected", [(h, e) for _, h, e in KNOWN], ids=[n for n, _, _ in KNOWN])
def test_sniff_known_container_from_real_header(head: bytes, expected: str) -> None:
    assert sniff_container(head) == expected
    # What follows the header does not change the answer.
    assert sniff_container(head + bytes(range(256)) * 4) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"G",
        b"\x1a\x45\xdf",  # EBML magic cut short
        b"RIFF",
        b"RIFF\x24\x08\x00\x00WAVEfmt ",  # a WAV file is RIFF but not AVI
        b"\x00\x00\x00",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",  # JPEG
        b"<?xml version='1.0'?><movie/>",
        b"PK\x03\x04",  # zip
        bytes(1000),
    ],
    ids=[
        "empty",
        "one sync byte",
        "short ebml",
        "riff only",
        "wav",
        "three zeros",
        "jpeg",
        "xml",
        "zip",
        "zeros",
    ],
)
def test_sniff_unknown(head: bytes) -> None:
    assert sniff_container(head) == "unknown"


def test_ebml_without_readable_doctype_is_matroska() -> None:
    assert sniff_container(b"\x1a\x45\xdf\xa3") == "matroska"
    assert sniff_container(b"\x1a\x45\xdf\xa3\x00\x00") == "matroska"  # invalid size vint
    assert sniff_container(b"\x1a\x45\xdf\xa3\x88\x42\x82\x88web") == "matroska"  # cut off


def test_transport_stream_needs_a_whole_packet_and_consistent_sync() -> None:
    assert sniff_container(ts_packets(1)) == "mpegts"
    assert sniff_container(ts_packets(1)[:187]) == "unknown"
    broken = bytearray(ts_packets(3))
    broken[376] = 0x00
    assert sniff_container(bytes(broken)) == "unknown"
    # A fourth packet's sync byte is not checked (only the first three).
    loose = bytearray(ts_packets(4))
    loose[564] = 0x00
    assert sniff_container(bytes(loose)) == "mpegts"


@pytest.mark.parametrize("head", [h for _, h, _ in KNOWN], ids=[n for n, _, _ in KNOWN])
def test_every_prefix_of_a_header_is_handled(head: bytes) -> None:
    for end in range(len(head) + 1):
        assert sniff_container(head[:end]) in CONTAINERS


def test_random_bytes_never_raise() -> None:
    rng = random.Random(0)
    for _ in range(3000):
        head = rng.randbytes(rng.randrange(0, 64))
        if rng.random() < 0.5:  # half start with the EBML magic, to exercise the parser
            head = b"\x1a\x45\xdf\xa3" + head
        assert sniff_container(head) in CONTAINERS


@pytest.mark.parametrize(
    "name",
    [
        "a.mkv",
        "A.MKV",
        "b.Mp4",
        "Show S01E01.m4v",
        "c.m2ts",
        "d.WebM",
        "e.ts",
        "f.wmv",
        "Movies/x.mov",
    ],
)
def test_is_media_file_true(name: str) -> None:
    assert is_media_file(name)


@pytest.mark.parametrize(
    "name",
    ["poster.jpg", "movie.nfo", "Movie.en.srt", "noext", ".mkv", "x.mkv.part", "mkv", "x.mkvv", ""],
)
def test_is_media_file_false(name: str) -> None:
    assert not is_media_file(name)


def test_media_extensions_are_lower_case_without_dot() -> None:
    required = {
        "mkv",
        "mk3d",
        "mp4",
        "m4v",
        "mov",
        "avi",
        "webm",
        "ts",
        "m2ts",
        "mts",
        "wmv",
        "asf",
        "flv",
        "mpg",
        "mpeg",
        "vob",
        "ogv",
        "3gp",
    }
    assert required <= MEDIA_EXTENSIONS
    assert all(ext == ext.lower() and not ext.startswith(".") for ext in MEDIA_EXTENSIONS)


def test_extension_and_matches_extension() -> None:
    assert extension("Dir.d/File.MKV") == "mkv"
    assert matches_extension("x.mkv", "matroska") and matches_extension("x.webm", "webm")
    assert matches_extension("x.mov", "mp4") and matches_extension("x.MP4", "quicktime")
    assert not matches_extension("x.mkv", "avi")
    assert not matches_extension("x.mkv", "unknown")
    assert not matches_extension("notes.txt", "matroska")
