"""Collection fix-up for the fuzz drill's per-operation tests."""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId


def pytest_itemcollected(item: pytest.Item) -> None:
    """Give each schemathesis operation test its own node id.

    pytest 9 builds a test's id from its original name and its parametrize ids only, so
    the items that schemathesis makes per API operation (named ``test_x[GET /api/jobs]``)
    all get the id ``test_x``. pytest-xdist schedules by id, and with one id for all of
    them only one operation would run there. The name still carries the operation, so
    the id is rebuilt from it.
    """
    name = item.name
    if type(item).__name__ != "SchemathesisFunction" or "[" not in name or item.nodeid.endswith("]"):
        return
    assert item.parent is not None
    item._id = NodeId.parse(f"{item.parent.nodeid}::{name}")  # noqa: SLF001
