"""url_state.js in the browser: dashboard state <-> query string under the API's names."""

from __future__ import annotations

from typing import Any

import pytest

from jobdash.model.list_query import DEFAULT_SORT, LIMIT_DEFAULT, LIMIT_MAX, SINCE_WINDOWS, SORTS
from jobdash.model.states import STATUSES

# Pure logic (no engine API beyond the language): Chromium only.
pytestmark = [pytest.mark.browser, pytest.mark.engines("chromium")]

# The vocabulary as the page reads it from its <select>s (rendered from these constants).
# Job types are not in it: any well-formed type name is accepted (the API knows which exist).
VOCAB = {
    "statuses": list(STATUSES),
    "since": list(SINCE_WINDOWS),
    "sorts": list(SORTS),
    "defaultSort": DEFAULT_SORT,
    "limitDefault": LIMIT_DEFAULT,
    "limitMax": LIMIT_MAX,
}
DEFAULT = {"status": "", "type": "", "since": "", "sort": DEFAULT_SORT, "limit": LIMIT_DEFAULT, "offset": 0}


@pytest.fixture
def harness(page: Any, module_base: str) -> Any:
    page.goto(f"{module_base}/")
    return page


def read(page: Any, search: str) -> dict[str, Any]:
    return page.evaluate(
        """async ([search, vocab]) => {
          const { readState } = await import("/js/url_state.js");
          return readState(search, vocab);
        }""",
        [search, VOCAB],
    )


def write(page: Any, state: dict[str, Any]) -> str:
    return page.evaluate(
        """async ([state, vocab]) => {
          const { writeParams } = await import("/js/url_state.js");
          return writeParams(state, vocab).toString();
        }""",
        [state, VOCAB],
    )


def test_empty_query_is_the_default_view(harness: Any) -> None:
    assert read(harness, "") == {"state": DEFAULT, "rejected": []}
    assert write(harness, DEFAULT) == ""


def test_round_trip_in_a_fixed_order(harness: Any) -> None:
    search = "offset=50&sort=status&type=scan&status=failed&since=7d&limit=20"
    result = read(harness, search)
    assert result["rejected"] == []
    assert result["state"] == {
        "status": "failed",
        "type": "scan",
        "since": "7d",
        "sort": "status",
        "limit": 20,
        "offset": 50,
    }
    # One view, one URL: the API's parameter order, defaults left out.
    assert write(harness, result["state"]) == "status=failed&type=scan&since=7d&sort=status&limit=20&offset=50"
    assert write(harness, {**DEFAULT, "sort": DEFAULT_SORT, "offset": 0, "status": "running"}) == "status=running"


def test_comma_separated_choices_are_kept_deduplicated(harness: Any) -> None:
    result = read(harness, "?status=queued,running,queued")
    assert result["state"]["status"] == "queued,running" and result["rejected"] == []


@pytest.mark.parametrize("value", ["checksum", "scan,checksum", "my-plugin_2", "a" * 40])
def test_any_well_formed_job_type_is_accepted(harness: Any, value: str) -> None:
    """Job types are open (plugins, rows of other processes): the URL keeps any
    well-formed name, even one the page has not seen listed yet."""
    result = read(harness, f"type={value}")
    assert result == {"state": {**DEFAULT, "type": value}, "rejected": []}


@pytest.mark.parametrize(
    "search",
    [
        "status=bogus",
        "status=queued,bogus",
        "type=<script>",
        "type=Checksum",
        "type=scan,a b",
        f"type={'a' * 41}",
        "since=1y",
        "sort=file_path",
        "limit=0",
        f"limit={LIMIT_MAX + 1}",
        "limit=ten",
        "limit=-5",
        "offset=-1",
        "offset=1.5",
        "offset=99999999",
        "unknown=1",
        "status=failed&status=queued",
    ],
)
def test_invalid_values_fall_back_to_defaults_and_are_reported(harness: Any, search: str) -> None:
    result = read(harness, search)
    assert result["state"] == DEFAULT
    assert result["rejected"] == [search.split("=")[0]]


def test_empty_values_mean_not_given(harness: Any) -> None:
    # What the plain GET form submits for "All".
    assert read(harness, "status=&type=&since=&sort=-created_at") == {"state": DEFAULT, "rejected": []}


def test_helpers(harness: Any) -> None:
    result = harness.evaluate(
        """async ([vocab]) => {
          const m = await import("/js/url_state.js");
          const state = { ...m.defaultState(vocab), offset: 100, status: "failed" };
          return {
            changed: m.changeState(state, { type: "scan" }),
            paged: m.changeState(state, { offset: 150 }),
            same: m.sameState(state, { ...state }),
            differs: m.sameState(state, { ...state, limit: 10 }),
            filtered: m.hasFilters(state),
            unfiltered: m.hasFilters(m.defaultState(vocab)),
            sorts: [
              m.nextSort("-created_at", "created_at", "-created_at"),
              m.nextSort("created_at", "created_at", "-created_at"),
              m.nextSort("-created_at", "status", "-created_at"),
              m.nextSort("status", "status", "-created_at"),
              m.nextSort("status", "created_at", "-created_at"),
            ],
            directions: [m.sortDirection("-status", "status"), m.sortDirection("status", "status"),
                         m.sortDirection("status", "job_type")],
            pages: [
              m.pageOffsets({ ...state, offset: 0, limit: 50 }, 120),
              m.pageOffsets({ ...state, offset: 50, limit: 50 }, 120),
              m.pageOffsets({ ...state, offset: 100, limit: 50 }, 120),
              m.pageOffsets({ ...state, offset: 0, limit: 50 }, 50),
              m.pageOffsets({ ...state, offset: 30, limit: 50 }, 120),
              m.pageOffsets({ ...state, offset: 500, limit: 50 }, 120),
            ],
          };
        }""",
        [VOCAB],
    )
    # A new filter starts again at the first page; a page change keeps the filters.
    assert result["changed"]["offset"] == 0 and result["changed"]["type"] == "scan"
    assert result["paged"]["offset"] == 150 and result["paged"]["status"] == "failed"
    assert result["same"] is True and result["differs"] is False
    assert result["filtered"] is True and result["unfiltered"] is False
    # Dates start newest first (the default sort's direction), other columns ascending.
    assert result["sorts"] == ["created_at", "-created_at", "status", "-status", "-created_at"]
    assert result["directions"] == ["descending", "ascending", None]
    assert result["pages"] == [
        {"prev": None, "next": 50},
        {"prev": 0, "next": 100},
        {"prev": 50, "next": None},
        {"prev": None, "next": None},
        {"prev": 0, "next": 80},
        # Past the end: "previous" leads back to the last real page.
        {"prev": 70, "next": None},
    ]


def test_page_parameters_are_neither_state_nor_rejected(harness: Any) -> None:
    result = harness.evaluate(
        """async ([vocab]) => {
          const m = await import("/js/url_state.js");
          return { read: m.readState("debug=1&status=failed", vocab),
                   kept: m.pageParams("status=failed&debug=1").toString() };
        }""",
        [VOCAB],
    )
    assert result["read"] == {"state": {**DEFAULT, "status": "failed"}, "rejected": []}
    assert result["kept"] == "debug=1"
