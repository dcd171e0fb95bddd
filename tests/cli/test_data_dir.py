"""Where jobdash keeps its data by default, and preparing a data directory (jobdash.cli.data_dir)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jobdash.cli.data_dir import default_data_dir, prepare_data_dir
from support.sqlhelpers import write_protected

HOME = Path("/home/op")


def test_linux_uses_xdg_data_home() -> None:
    """On Linux, $XDG_DATA_HOME/jobdash is used when set."""
    assert default_data_dir({"XDG_DATA_HOME": "/srv/data"}, "linux", HOME) == Path("/srv/data/jobdash")


@pytest.mark.parametrize("env", [{}, {"XDG_DATA_HOME": ""}])
def test_linux_falls_back_to_local_share(env: dict[str, str]) -> None:
    """Without (or with an empty) XDG_DATA_HOME it is ~/.local/share/jobdash."""
    assert default_data_dir(env, "linux", HOME) == HOME / ".local" / "share" / "jobdash"


def test_other_unix_follows_xdg() -> None:
    """BSDs follow the XDG convention too."""
    assert default_data_dir({}, "freebsd13", HOME) == HOME / ".local" / "share" / "jobdash"


def test_macos_uses_application_support() -> None:
    """On macOS the data lives in ~/Library/Application Support/jobdash, whatever XDG says."""
    assert default_data_dir({"XDG_DATA_HOME": "/x"}, "darwin", HOME) == (
        HOME / "Library" / "Application Support" / "jobdash"
    )


def test_windows_uses_localappdata() -> None:
    """On Windows it is %LOCALAPPDATA%\\jobdash, or ~/AppData/Local/jobdash without it."""
    assert default_data_dir({"LOCALAPPDATA": "/c/Local"}, "win32", HOME) == Path("/c/Local/jobdash")
    assert default_data_dir({}, "win32", HOME) == HOME / "AppData" / "Local" / "jobdash"


def test_defaults_come_from_the_running_system(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no arguments the process environment and platform are used."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    if sys.platform == "darwin":
        assert default_data_dir() == Path.home() / "Library" / "Application Support" / "jobdash"
    else:
        assert default_data_dir() == tmp_path / "jobdash"


def test_prepare_creates_missing_parents(tmp_path: Path) -> None:
    """A missing directory (and its parents) is created and returned resolved."""
    target = tmp_path / "a" / "b" / "data"
    result = prepare_data_dir(target)
    assert target.is_dir()
    assert result == target.resolve() and result.is_absolute()


def test_prepare_accepts_an_existing_directory(tmp_path: Path) -> None:
    """An existing writable directory is used as is."""
    (tmp_path / "keep.txt").write_text("x")
    assert prepare_data_dir(tmp_path) == tmp_path.resolve()
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_prepare_resolves_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative path is made absolute against the working directory."""
    monkeypatch.chdir(tmp_path)
    assert prepare_data_dir(Path("rel/data")) == (tmp_path / "rel" / "data").resolve()


def test_prepare_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`~` means the user's home directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert prepare_data_dir(Path("~/jd")) == (tmp_path / "jd").resolve()
    assert (tmp_path / "jd").is_dir()


def test_prepare_refuses_a_file(tmp_path: Path) -> None:
    """A path that is an existing file is refused with a message naming it."""
    target = tmp_path / "data"
    target.write_text("not a dir")
    with pytest.raises(ValueError, match="exists but is not a directory") as excinfo:
        prepare_data_dir(target)
    assert str(target) in str(excinfo.value)


def test_prepare_refuses_a_path_under_a_file(tmp_path: Path) -> None:
    """A directory that cannot be created is a ValueError naming it, not an OSError."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="cannot create data directory"):
        prepare_data_dir(tmp_path / "file" / "data")


def test_prepare_refuses_an_unwritable_directory(tmp_path: Path) -> None:
    """A directory jobdash cannot write in is refused with a clear message."""
    target = tmp_path / "ro"
    target.mkdir()
    with write_protected(target):
        with pytest.raises(ValueError, match="is not writable"):
            prepare_data_dir(target)


def test_prepare_refuses_to_create_under_an_unwritable_parent(tmp_path: Path) -> None:
    """A missing directory under a read-only parent cannot be created: ValueError naming it."""
    parent = tmp_path / "ro"
    parent.mkdir()
    with write_protected(parent):
        with pytest.raises(ValueError, match="cannot create data directory") as excinfo:
            prepare_data_dir(parent / "data")
    assert str(parent / "data") in str(excinfo.value)
