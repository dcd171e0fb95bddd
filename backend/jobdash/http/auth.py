"""Who may write: bearer tokens from the server's token file, compared in constant time.

Writes are off unless tokens are configured. Tokens never reach a log or a response.
"""

from __future__ import annotations

import hmac
import stat
from collections.abc import Sequence
from pathlib import Path

TOKEN_MIN_CHARS = 16
BEARER_CHALLENGE = 'Bearer realm="jobdash"'


class TokenFileError(Exception):
    """The token file cannot be used; the message says why and how to fix it."""


def read_token_file(path: Path) -> tuple[str, ...]:
    """Given the token file, return its tokens (one per line; blank lines and ``#``
    comments ignored), or raise TokenFileError: missing, readable by everyone, empty, or
    holding a token too short to be secret."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TokenFileError(f"API token file {path} cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise TokenFileError(f"API token file {path} is not UTF-8 text") from None
    if mode & stat.S_IROTH:
        raise TokenFileError(f"API token file {path} is readable by every user; restrict it: chmod 600 {path}")
    tokens = tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    if not tokens:
        raise TokenFileError(f"API token file {path} holds no token (one per line)")
    for number, token in enumerate(tokens, 1):
        if len(token) < TOKEN_MIN_CHARS or any(ch.isspace() for ch in token):
            raise TokenFileError(
                f"API token file {path}: token {number} must be at least {TOKEN_MIN_CHARS} characters with no "
                "spaces (make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return tokens


def bearer_token(authorization: str | None) -> str | None:
    """Given an Authorization header, return its bearer token, or None.

    >>> bearer_token("Bearer abc"), bearer_token("bearer  abc "), bearer_token("Basic abc"), bearer_token(None)
    ('abc', 'abc', None, None)
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_allowed(token: str | None, tokens: Sequence[str]) -> bool:
    """Given a presented token and the configured ones, return True if it is one of them.

    Every configured token is compared, each in constant time, so the time taken does not
    tell how much of a guess was right.

    >>> token_allowed("a" * 16, ["b" * 16, "a" * 16]), token_allowed(None, ["a" * 16])
    (True, False)
    """
    if token is None:
        return False
    presented = token.encode()
    allowed = False
    for known in tokens:
        allowed |= hmac.compare_digest(presented, known.encode())
    return allowed
