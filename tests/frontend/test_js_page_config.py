"""frontend/js/page_config.js: the page's polling settings from <body> data and the URL."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

# Pure logic (no engine API beyond the language): Chromium only.
pytestmark = [pytest.mark.browser, pytest.mark.engines("chromium")]


@pytest.fixture
def parse(page: Any, harness: HarnessHTTPServer) -> Any:
    """parse([(dataset, search), ...]) -> parsePageConfig's results, computed in the page."""
    open_module_page(page, harness.base)

    def run(cases: list[tuple[dict[str, str], str]]) -> list[dict[str, Any]]:
        return page.evaluate(
            """async (cases) => {
                const { parsePageConfig } = await import("/js/page_config.js");
                return cases.map(([dataset, search]) => parsePageConfig(dataset, search));
            }""",
            [list(case) for case in cases],
        )

    return run


def check(parse: Any, key: str, table: list[tuple[dict[str, str], str, Any]]) -> None:
    """Assert parsePageConfig(dataset, search)[key] == expected for every row at once."""
    results = parse([(dataset, search) for dataset, search, _ in table])
    wrong = [(d, q, e, r[key]) for (d, q, e), r in zip(table, results, strict=True) if r[key] != e]
    assert not wrong, "\n".join(f"{d} {q!r}: {key} expected {e!r}, got {g!r}" for d, q, e, g in wrong)


def test_defaults_when_nothing_is_set(parse: Any) -> None:
    """No data attributes: 5 s, 15 s, enabled, same-origin API, no debug."""
    assert parse([({}, "")]) == [
        {
            "intervalMs": 5000,
            "logIntervalMs": 15000,
            "enabled": True,
            "minUpdateGapMs": 1000,
            "stallAfterMs": 120_000,
            "apiBase": "",
            "debug": False,
            "shared": True,
        }
    ]


def test_valid_values_are_kept(parse: Any) -> None:
    """Values the build wrote (in range) come through as numbers and booleans."""
    dataset = {
        "pollingInterval": "2000",
        "pollingLogInterval": "6000",
        "pollingEnabled": "false",
        "pollingMinUpdateGap": "500",
        "stallAfter": "300",
        "apiBase": "https://api.example.com",
        "debug": "true",
    }
    assert parse([(dataset, "")]) == [
        {
            "intervalMs": 2000,
            "logIntervalMs": 6000,
            "enabled": False,
            "minUpdateGapMs": 500,
            "stallAfterMs": 300_000,
            "apiBase": "https://api.example.com/",
            "debug": True,
            "shared": True,
        }
    ]


def test_interval_missing_out_of_range_or_unparsable_is_5000(parse: Any) -> None:
    """A hand-edited page still behaves: bad intervals become 5000 (the build clamps; the page does not)."""
    table = [
        ({}, "", 5000),
        ({"pollingLogInterval": "20000"}, "", 5000),
        ({"pollingInterval": "500"}, "", 5000),
        ({"pollingInterval": "999999"}, "", 5000),
        ({"pollingInterval": "abc"}, "", 5000),
        ({"pollingInterval": ""}, "", 5000),
        ({"pollingInterval": "12.5"}, "", 5000),
        ({"pollingInterval": "-3000"}, "", 5000),
        ({"pollingInterval": "1999"}, "", 5000),
        ({"pollingInterval": "60001"}, "", 5000),
        ({"pollingInterval": "2000"}, "", 2000),
        ({"pollingInterval": "60000"}, "", 60000),
        ({"pollingInterval": " 3000 "}, "", 3000),
    ]
    check(parse, "intervalMs", table)


def test_log_interval_rules(parse: Any) -> None:
    """The log interval defaults to 15 s, is at most 300 s, and never below the polling interval."""
    table = [
        ({"pollingInterval": "5000", "pollingLogInterval": "2000"}, "", 5000),  # raised
        ({"pollingInterval": "30000"}, "", 30000),  # default 15000 raised to 30000
        ({"pollingInterval": "5000", "pollingLogInterval": "abc"}, "", 15000),
        ({"pollingInterval": "5000", "pollingLogInterval": "999999"}, "", 15000),
        ({"pollingInterval": "5000", "pollingLogInterval": "300000"}, "", 300000),
        ({"pollingInterval": "5000", "pollingLogInterval": "20000"}, "", 20000),
        ({"pollingInterval": "500", "pollingLogInterval": "3000"}, "", 5000),  # interval fell back first
    ]
    check(parse, "logIntervalMs", table)


def test_enabled(parse: Any) -> None:
    """Only an explicit false turns polling off."""
    values = {"false": False, "FALSE": False, "0": False, "off": False, "true": True, "": True, "maybe": True}
    check(parse, "enabled", [({"pollingEnabled": v}, "", e) for v, e in values.items()] + [({}, "", True)])


def test_api_base(parse: Any) -> None:
    """ "" is same origin; a base gets a trailing slash; an invalid one falls back to ""."""
    values = {
        "": "",
        "  ": "",
        "https://api.example.com": "https://api.example.com/",
        "https://api.example.com/jobdash/": "https://api.example.com/jobdash/",
        "http://10.0.0.5:8080": "http://10.0.0.5:8080/",
        "https://api.example.com/x?y=1#z": "https://api.example.com/x/",
        "/backend": "/backend/",
        "javascript:alert(1)": "",
        "not a url": "",
        "//evil.example": "",
    }
    check(parse, "apiBase", [({"apiBase": v}, "", e) for v, e in values.items()])


def test_debug(parse: Any) -> None:
    """Debug logging: data-debug="true" or ?debug=1."""
    table = [
        ({}, "", False),
        ({"debug": "true"}, "", True),
        ({"debug": "false"}, "", False),
        ({}, "?debug=1", True),
        ({"debug": "false"}, "?status=running&debug=1", True),
        ({}, "?debug=0", False),
        ({}, "?nodebug=1", False),
    ]
    check(parse, "debug", table)


def test_stall_after(parse: Any) -> None:
    """data-stall-after is seconds, 30–3600; anything else is the default, 120 s."""
    values = {"30": 30_000, "3600": 3_600_000, "29": 120_000, "3601": 120_000, "": 120_000, "2m": 120_000}
    check(parse, "stallAfterMs", [({"stallAfter": v}, "", e) for v, e in values.items()])


def test_min_update_gap(parse: Any) -> None:
    """data-polling-min-update-gap is ms, 250–10000; anything else is the default, 1000 (not clamped)."""
    values = {
        "250": 250,
        "10000": 10_000,
        " 2500 ": 2500,
        "249": 1000,
        "10001": 1000,
        "0": 1000,
        "-500": 1000,
        "": 1000,
        "1.5": 1000,
        "1s": 1000,
    }
    table = [({"pollingMinUpdateGap": v}, "", e) for v, e in values.items()] + [({}, "", 1000)]
    check(parse, "minUpdateGapMs", table)


def test_shared(parse: Any) -> None:
    """Tabs share their request streams unless the URL says ?shared=0 (or false/no/off)."""
    table = [
        ({}, "", True),
        ({}, "?shared=1", True),
        ({}, "?shared=0", False),
        ({}, "?status=running&shared=false", False),
        ({}, "?shared=OFF", False),
        ({}, "?shared=no", False),
        ({}, "?shared=maybe", True),
    ]
    check(parse, "shared", table)


def test_constants(page: Any, harness: HarnessHTTPServer) -> None:
    """The exported limits match the design (and backend/jobdash/model/polling.py)."""
    open_module_page(page, harness.base)
    constants = page.evaluate(
        """async () => {
            const m = await import("/js/page_config.js");
            return [m.DEFAULT_INTERVAL_MS, m.MIN_INTERVAL_MS, m.MAX_INTERVAL_MS,
                    m.DEFAULT_LOG_INTERVAL_MS, m.MAX_LOG_INTERVAL_MS,
                    m.DEFAULT_MIN_UPDATE_GAP_MS, m.MIN_MIN_UPDATE_GAP_MS, m.MAX_MIN_UPDATE_GAP_MS,
                    m.DEFAULT_STALL_AFTER_S, m.MIN_STALL_AFTER_S, m.MAX_STALL_AFTER_S];
        }"""
    )
    from jobdash.model import polling as py

    assert constants == [
        py.POLL_INTERVAL_DEFAULT_MS,
        py.POLL_INTERVAL_MIN_MS,
        py.POLL_INTERVAL_MAX_MS,
        py.LOG_POLL_INTERVAL_DEFAULT_MS,
        py.LOG_POLL_INTERVAL_MAX_MS,
        py.MIN_UPDATE_GAP_DEFAULT_MS,
        py.MIN_UPDATE_GAP_MIN_MS,
        py.MIN_UPDATE_GAP_MAX_MS,
        py.STALL_AFTER_DEFAULT_S,
        py.STALL_AFTER_MIN_S,
        py.STALL_AFTER_MAX_S,
    ]


def test_read_page_config_uses_body_data_and_location(page: Any, harness: HarnessHTTPServer) -> None:
    """readPageConfig() reads document.body.dataset and location.search."""
    open_module_page(page, harness.base, path="/?debug=1")
    config = page.evaluate(
        """async () => {
            document.body.dataset.pollingInterval = "3000";
            document.body.dataset.pollingEnabled = "false";
            const { readPageConfig } = await import("/js/page_config.js");
            return readPageConfig();
        }"""
    )
    assert config == {
        "intervalMs": 3000,
        "logIntervalMs": 15000,
        "enabled": False,
        "minUpdateGapMs": 1000,
        "stallAfterMs": 120_000,
        "apiBase": "",
        "debug": True,
        "shared": True,
    }
