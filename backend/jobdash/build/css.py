"""Stylesheets: point their relative ``url(...)`` and ``@import`` references at hashed files.

A stylesheet's hash depends on the hashed names it refers to, so a changed image also
changes (and re-hashes) the CSS that uses it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from jobdash.build.errors import BuildError

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_URL = re.compile(r"""url\(\s*(?P<q>['"]?)(?P<ref>[^'")\s]+)(?P=q)\s*\)""", re.IGNORECASE)
_IMPORT = re.compile(r"""@import\s+(?P<q>['"])(?P<ref>[^'"]+)(?P=q)""", re.IGNORECASE)


def is_local(ref: str) -> bool:
    """Given a reference in CSS or HTML, return True if it is a relative path to a file.

    >>> is_local("../img/x.svg"), is_local("data:image/png;base64,AA"), is_local("/x.svg")
    (True, False, False)
    """
    return not re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|/|#)", ref) and ref != ""


def split_ref(ref: str) -> tuple[str, str]:
    """Given a reference, return (path, the query string and/or fragment kept as-is).

    >>> split_ref("font.woff2?v=1#x")
    ('font.woff2', '?v=1#x')
    """
    cut = min((i for i in (ref.find("?"), ref.find("#")) if i >= 0), default=len(ref))
    return ref[:cut], ref[cut:]


def references(css: str) -> list[tuple[int, int, str]]:
    """Given stylesheet text, return (start, end, reference) of its local references,
    outside comments.
    """
    # Blank out comments (same length) so positions stay valid and commented-out
    # rules do not count.
    visible = _COMMENT.sub(lambda m: " " * len(m.group()), css)
    found = []
    for pattern in (_URL, _IMPORT):
        for match in pattern.finditer(visible):
            ref = match.group("ref")
            if is_local(ref):
                found.append((match.start("ref"), match.end("ref"), ref))
    return sorted(found)


def rewrite(name: str, data: bytes, hashed_path: Callable[[str], str | None], label: str | None = None) -> bytes:
    """Given a stylesheet's logical name and bytes, and a function from a logical name to
    its hashed name (None if unknown), return the stylesheet with references rewritten.

    Raises BuildError naming the stylesheet (as ``label``) for a reference to a file that
    is not there.
    """
    label = label or name
    try:
        css = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BuildError(f"{label}: not UTF-8 text ({error})") from None
    folder = posixpath.dirname(name)
    pieces, last = [], 0
    for start, end, ref in references(css):
        path, rest = split_ref(ref)
        target = posixpath.normpath(posixpath.join(folder, path))
        target_hashed = hashed_path(target) if not target.startswith("../") else None
        if target_hashed is None:
            raise BuildError(f"{label} refers to {ref!r}, which is not a file of the frontend (looked for {target})")
        # Hashed files keep their folders, so the relative path is the same shape.
        relative = posixpath.relpath(target_hashed, folder or ".")
        pieces += [css[last:start], relative + rest]
        last = end
    pieces.append(css[last:])
    return "".join(pieces).encode("utf-8")
