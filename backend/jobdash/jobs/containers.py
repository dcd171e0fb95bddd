"""Identify media containers from a file's first bytes and media files by name (pure).

Container names: ``matroska``, ``webm``, ``mp4``, ``quicktime``, ``avi``, ``mpegts``,
``asf`` (WMV and ASF share one container), ``flv``, ``mpeg-ps``, ``ogg``, ``unknown``.
"""

from __future__ import annotations

import os

# Media extensions, grouped with the sniffed containers plausible for them. Families,
# not exact matches: an .mkv holding a WebM DocType or a .mov with an "isom" brand is
# normal in the wild; a .mkv that is really an AVI is what an operator wants to hear about.
_GROUPS: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (("mkv", "mk3d", "webm"), frozenset({"matroska", "webm"})),
    (("mp4", "m4v", "f4v", "mov", "qt", "3gp", "3g2"), frozenset({"mp4", "quicktime"})),
    (("avi", "divx"), frozenset({"avi"})),
    (("ts", "m2ts", "mts", "m2t"), frozenset({"mpegts"})),
    (("wmv", "asf"), frozenset({"asf"})),
    (("flv",), frozenset({"flv"})),
    (("mpg", "mpeg", "vob"), frozenset({"mpeg-ps", "mpegts"})),
    (("ogv", "ogm"), frozenset({"ogg"})),
)
_FAMILIES: dict[str, frozenset[str]] = {ext: family for exts, family in _GROUPS for ext in exts}

MEDIA_EXTENSIONS: frozenset[str] = frozenset(_FAMILIES)

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = 0x4282
_ASF_GUID_PREFIX = b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"
# Top-level QuickTime atoms that old .mov files (before ftyp existed) start with.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_TS_PACKET, _M2TS_PACKET = 188, 192


def extension(name: str) -> str:
    """Given a file name or path, return its extension, lower-case, without the dot.

    >>> extension("Movie.MKV"), extension("archive.tar.gz"), extension(".mkv"), extension("x")
    ('mkv', 'gz', '', '')
    """
    return os.path.splitext(name)[1][1:].lower()


def is_media_file(name: str) -> bool:
    """Given a file name or path, return True if its extension is a media extension.

    >>> is_media_file("Show S01E01.MkV"), is_media_file("poster.jpg"), is_media_file(".mkv")
    (True, False, False)
    """
    return extension(name) in MEDIA_EXTENSIONS


def matches_extension(name: str, container: str) -> bool:
    """Given a media file name and its sniffed container, return True if they agree.

    >>> matches_extension("a.mkv", "webm"), matches_extension("a.mkv", "avi")
    (True, False)
    >>> matches_extension("a.mkv", "unknown")
    False
    """
    return container in _FAMILIES.get(extension(name), frozenset())


def _read_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """Given EBML data and a position, return (value, next position), or None if cut off.

    EBML variable-length integers: the count of leading zero bits of the first byte
    gives the length (1-8 bytes); IDs keep the marker bit, sizes drop it.
    """
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _ebml_doctype(head: bytes) -> str | None:
    """Given bytes starting with the EBML magic, return the header's DocType, if present."""
    header_size = _read_vint(head, 4, keep_marker=False)
    if header_size is None:
        return None
    size, pos = header_size
    end = min(len(head), pos + size)
    while pos < end:
        element = _read_vint(head, pos, keep_marker=True)
        if element is None:
            return None
        element_id, pos = element
        sized = _read_vint(head, pos, keep_marker=False)
        if sized is None:
            return None
        length, pos = sized
        if element_id == _EBML_DOCTYPE_ID:
            return head[pos : pos + length].rstrip(b"\x00").decode("ascii", errors="replace")
        pos += length
    return None


def _is_mpegts(head: bytes, packet: int, offset: int) -> bool:
    """Given a head, return True if sync bytes sit at the first three packet starts.

    At least one whole packet is required; starts beyond the head are not checked.
    """
    if len(head) < offset + packet:
        return False
    starts = [offset + i * packet for i in range(3) if offset + i * packet < len(head)]
    return all(head[start] == 0x47 for start in starts)


def sniff_container(head: bytes) -> str:
    """Given a file's first bytes, return the name of its container, or "unknown".

    Every ISO base media file (ftyp box) is "mp4" except brand ``qt  `` ("quicktime");
    M4V, 3GP and other brands are reported as "mp4" since they share the container.
    An EBML file is "matroska" unless its DocType says "webm". MPEG-TS needs at least
    one whole packet (188 bytes; 192 for M2TS, sync byte at offset 4) and sync bytes at
    every one of the first three packet starts that fit in ``head``.

    >>> sniff_container(b"\\x1a\\x45\\xdf\\xa3\\x84\\x42\\x82\\x81\\x00")
    'matroska'
    >>> sniff_container(b"\\x1a\\x45\\xdf\\xa3\\x87\\x42\\x82\\x84webm")
    'webm'
    >>> sniff_container(b"\\x00\\x00\\x00\\x18ftypisom")
    'mp4'
    >>> sniff_container(b"\\x00\\x00\\x00\\x14ftypqt  ")
    'quicktime'
    >>> sniff_container(b"RIFF\\x00\\x00\\x00\\x00AVI LIST"), sniff_container(b"OggS\\x00")
    ('avi', 'ogg')
    >>> sniff_container(b""), sniff_container(b"hello world")
    ('unknown', 'unknown')
    """
    if head.startswith(_EBML_MAGIC):
        return "webm" if _ebml_doctype(head) == "webm" else "matroska"
    box_type = head[4:8]
    if box_type == b"ftyp":
        return "quicktime" if head[8:12] == b"qt  " else "mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(_ASF_GUID_PREFIX):
        return "asf"
    if head.startswith(b"FLV"):
        return "flv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg-ps"
    if head.startswith(b"OggS"):
        return "ogg"
    if box_type in _QUICKTIME_ATOMS:
        return "quicktime"
    # Transport streams last: a lone 0x47 ("G") is weak evidence, so it needs packets.
    if _is_mpegts(head, _TS_PACKET, 0) or _is_mpegts(head, _M2TS_PACKET, 4):
        return "mpegts"
    return "unknown"
