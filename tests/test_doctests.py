"""The examples in every jobdash module's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import jobdash

# `python -m jobdash` runs the command on import; it has no examples.
NOT_IMPORTABLE = {"jobdash.__main__"}

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(jobdash.__path__, prefix="jobdash.") if info.name not in NOT_IMPORTABLE
)


def test_modules_are_found() -> None:
    """Every subpackage's modules are discovered (the list below is not silently short)."""
    assert {
        "jobdash.store.sqlite.store",
        "jobdash.util.timestamps",
        "jobdash.build.config",
        "jobdash.worker.registry",
    } <= set(MODULES)


@pytest.mark.parametrize("name", ["jobdash", *MODULES])
def test_doctests(name: str) -> None:
    """Every docstring example in the module passes (examples marked +SKIP are skipped)."""
    module = importlib.import_module(name)
    out = io.StringIO()
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
