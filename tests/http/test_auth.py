"""API tokens: reading the token file, parsing Authorization, comparing (jobdash.http.auth)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobdash.http.auth import TokenFileError, bearer_token, read_token_file, token_allowed

GOOD = "a-long-enough-token-123"


def token_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "tokens"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_tokens_one_per_line_with_comments_and_blanks(tmp_path: Path) -> None:
    path = token_file(tmp_path, f"# ops team\n{GOOD}\n\n  second-token-abcdefgh  \n", 0o640)
    assert read_token_file(path) == (GOOD, "second-token-abcdefgh")


@pytest.mark.parametrize(
    "text, mode, words",
    [
        (GOOD, 0o644, ["readable by every user", "chmod 600"]),
        ("# only a comment\n\n", 0o600, ["holds no token"]),
        ("short\n", 0o600, ["token 1 must be at least 16 characters", "secrets.token_urlsafe"]),
        (f"{GOOD}\nhas a space in it ok\n", 0o600, ["token 2 must be at least 16 characters with no spaces"]),
    ],
)
def test_unusable_token_files_are_refused_saying_why(tmp_path: Path, text: str, mode: int, words: list[str]) -> None:
    with pytest.raises(TokenFileError) as excinfo:
        read_token_file(token_file(tmp_path, text, mode))
    for word in words:
        assert word in str(excinfo.value)
    assert GOOD not in str(excinfo.value), "a token never appears in a message"


def test_missing_token_file(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="cannot be read"):
        read_token_file(tmp_path / "nope")


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
    ],
)
def test_bearer_token(header: str, token: str | None) -> None:
    assert bearer_token(header) == token


def test_token_allowed_compares_whole_tokens() -> None:
    tokens = (GOOD, "second-token-abcdefgh")
    assert token_allowed(GOOD, tokens) and token_allowed("second-token-abcdefgh", tokens)
    for guess in (GOOD[:-1], GOOD + "x", "", GOOD.upper(), None):
        assert not token_allowed(guess, tokens)
