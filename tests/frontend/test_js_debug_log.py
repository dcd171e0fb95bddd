"""frontend/js/debug_log.js: prefixed console.debug only when enabled."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser


def _debug_messages(page: Any, harness: HarnessHTTPServer, script: str) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text) if msg.type == "debug" else None)
    open_module_page(page, harness.base)
    # Console events arrive asynchronously: wait for a marker logged after the messages.
    with page.expect_console_message(lambda msg: msg.text == "end-marker"):
        page.evaluate(
            f"""async () => {{
                const {{ createLogger }} = await import("/js/debug_log.js");
                {script}
                console.debug("end-marker");
            }}"""
        )
    return [m for m in messages if m != "end-marker"]


def test_enabled_logger_prefixes_its_messages(page: Any, harness: HarnessHTTPServer) -> None:
    """An enabled logger writes console.debug("[jobdash]", ...args)."""
    messages = _debug_messages(page, harness, 'createLogger(true).debug("poll: ok in", 12, "ms");')
    assert messages == ["[jobdash] poll: ok in 12 ms"]


def test_custom_prefix(page: Any, harness: HarnessHTTPServer) -> None:
    """The prefix can be changed."""
    messages = _debug_messages(page, harness, 'createLogger(true, "[jobs]").debug("x");')
    assert messages == ["[jobs] x"]


def test_disabled_logger_is_silent(page: Any, harness: HarnessHTTPServer) -> None:
    """A disabled logger writes nothing (and a truthy non-boolean does not enable it)."""
    messages = _debug_messages(
        page, harness, 'createLogger(false).debug("no"); createLogger("false").debug("no either");'
    )
    assert messages == []


def test_enabled_flag_is_exposed(page: Any, harness: HarnessHTTPServer) -> None:
    """logger.enabled tells callers whether building an expensive message is worth it."""
    open_module_page(page, harness.base)
    flags = page.evaluate(
        """async () => {
            const { createLogger } = await import("/js/debug_log.js");
            return [createLogger(true).enabled, createLogger(false).enabled];
        }"""
    )
    assert flags == [True, False]
