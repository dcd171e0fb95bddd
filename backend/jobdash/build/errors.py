"""The one exception of the build: what went wrong, naming the file at fault."""

from __future__ import annotations


class BuildError(Exception):
    """The frontend cannot be built; the message names the file (and what to do)."""
