"""Writing dist/: gzip copies, the refusal of dangerous output paths, the atomic swap.

The whole tree is written into a fresh directory beside the target and swapped into
place, so a failed build never leaves a half-written dist/ behind.
"""

from __future__ import annotations

import gzip
import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

from jobdash.build.errors import BuildError

# Text assets get a precompressed copy beside them (for CDNs and the server).
GZIP_SUFFIXES = (".html", ".js", ".css", ".json", ".svg", ".txt", ".xml", ".webmanifest")
GZIP_LEVEL = 9
MANIFEST = "manifest.json"


def gzip_bytes(data: bytes) -> bytes:
    """Given bytes, return a deterministic gzip of them (no file name, mtime 0, level 9).

    >>> gzip_bytes(b"x") == gzip_bytes(b"x"), gzip.decompress(gzip_bytes(b"x"))
    (True, b'x')
    """
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def with_gzip_copies(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Given output files by relative path, return them plus ``.gz`` copies of text files."""
    result = dict(files)
    for path, data in files.items():
        if path.endswith(GZIP_SUFFIXES):
            result[path + ".gz"] = gzip_bytes(data)
    return dict(sorted(result.items()))


def check_out_dir(out: Path, source: Path) -> Path:
    """Given the output and source directories, return the absolute output path, or
    raise BuildError if writing there could destroy something that is not a build.
    """
    out = Path(os.path.abspath(out))
    real_out, real_source = out.resolve(), source.resolve()
    if real_out == real_source or real_out in real_source.parents:
        raise BuildError(
            f"refusing to write the build to {out}: it holds the frontend sources "
            f"({source}); choose another --out, such as dist"
        )
    if real_source in real_out.parents:
        raise BuildError(
            f"refusing to write the build to {out}: it is inside the frontend sources "
            f"({source}), which would be read as input by the next build"
        )
    if out.exists() and not out.is_dir():
        raise BuildError(f"refusing to write the build to {out}: it exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise BuildError(
            f"refusing to replace {out}: it is not empty and has no {MANIFEST}, so it does "
            "not look like a previous build; remove it or choose another --out"
        )
    return real_out


def write_tree(files: Mapping[str, bytes], out: Path) -> None:
    """Given files by relative POSIX path, make ``out`` hold exactly them.

    Writes a sibling directory first, then swaps it in; on any error ``out`` is left
    as it was. ``out`` must have passed :func:`check_out_dir`.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.building-{secrets.token_hex(4)}"
    retired = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
    # os.mkdir honours the umask, unlike tempfile.mkdtemp's 0700: dist/ must stay
    # readable by a web server running as another user.
    os.mkdir(staging)
    try:
        for path, data in sorted(files.items()):
            target = staging.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            os.rename(out, retired)
        try:
            os.rename(staging, out)
        except OSError:
            if retired.exists():
                os.rename(retired, out)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)
