"""Content hashes and hashed file names (the hash changes exactly when the bytes do)."""

from __future__ import annotations

import base64
import hashlib
import posixpath

# 12 hex digits (48 bits): collisions between versions of one file are not a concern,
# and names stay short. backend/jobdash/http/static.py recognises any 8-64 digit hash.
HASH_LENGTH = 12


def content_hash(data: bytes) -> str:
    """Given file bytes, return the first HASH_LENGTH hex digits of their SHA-256.

    >>> content_hash(b"")
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def hashed_name(name: str, data: bytes) -> str:
    """Given a logical name and its output bytes, return the name with the hash inserted
    before the last suffix.

    >>> hashed_name("js/pages/index.js", b""), hashed_name("LICENSE", b"")
    ('js/pages/index.e3b0c44298fc.js', 'LICENSE.e3b0c44298fc')
    """
    folder, base = posixpath.split(name)
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:  # no suffix, or a name like ".env"
        hashed = f"{base}.{content_hash(data)}"
    else:
        hashed = f"{stem}.{content_hash(data)}.{suffix}"
    return posixpath.join(folder, hashed)


def csp_hash(text: str) -> str:
    """Given the exact text of an inline script, return its CSP source ``'sha256-...'``.

    >>> csp_hash("")
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    """
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
