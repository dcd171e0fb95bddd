"""The docstring examples of the build's modules (a subpackage: tests/test_doctests.py
covers only the top level of ``backend``)."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import backend.frontend_build

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(backend.frontend_build.__path__, prefix="backend.frontend_build.")
)


def test_modules_are_found() -> None:
    assert {"backend.frontend_build.config", "backend.frontend_build.modules"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    out = io.StringIO()
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=out.write)
    assert runner.summarize(verbose=False).failed == 0, out.getvalue()
