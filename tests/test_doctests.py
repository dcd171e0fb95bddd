"""The examples in every backend module's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import backend

# `python -m backend` runs the command on import; it has no examples.
NOT_IMPORTABLE = {"backend.__main__"}

MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(backend.__path__, prefix="backend.")
    if info.name not in NOT_IMPORTABLE
)


def test_modules_are_found() -> None:
    """The package's modules are discovered (the list below is not silently empty)."""
    assert "backend.store" in MODULES and "backend.timeutil" in MODULES


@pytest.mark.parametrize("name", ["backend", *MODULES])
def test_doctests(name: str) -> None:
    """Every docstring example in the module passes (examples marked +SKIP are skipped)."""
    module = importlib.import_module(name)
    out = io.StringIO()
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
