"""frontend/js/log_state.js: which log lines to ask for, and what to do with an answer."""

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
def log_state(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)

    def run(name: str, *args: Any) -> Any:
        return page.evaluate(
            'async ([name, args]) => (await import("/js/log_state.js"))[name](...args)', [name, list(args)]
        )

    return run


def part(offset: int, count: int, total: int, has_more: bool = False) -> dict[str, Any]:
    return {
        "lines": [f"line {offset + i}" for i in range(count)],
        "offset": offset,
        "total_lines": total,
        "has_more": has_more,
    }


def test_the_first_request_asks_for_the_tail_then_for_what_follows(log_state: Any) -> None:
    assert log_state("logQuery", None, 1000) == {}
    assert log_state("logQuery", {"start": 100, "end": 300}, 1000) == {"offset": 300, "lines": 1000}


def test_the_first_answer_replaces_and_keeps_its_absolute_offset(log_state: Any) -> None:
    plan = log_state("planLog", None, part(100, 200, 300), 5000)
    assert (plan["action"], plan["start"], plan["end"], len(plan["lines"])) == ("replace", 100, 300, 200)
    capped = log_state("planLog", None, part(0, 50, 50), 20)
    assert (capped["start"], capped["end"], capped["lines"][0]) == (30, 50, "line 30")


def test_new_lines_are_appended_and_the_oldest_dropped_beyond_the_cap(log_state: Any) -> None:
    plan = log_state("planLog", {"start": 0, "end": 5}, part(5, 3, 8), 5000)
    assert plan == {
        "action": "append",
        "lines": ["line 5", "line 6", "line 7"],
        "start": 0,
        "end": 8,
        "trim": 0,
        "more": False,
    }
    capped = log_state("planLog", {"start": 0, "end": 10}, part(10, 4, 14, True), 12)
    assert (capped["action"], capped["start"], capped["end"], capped["trim"], capped["more"]) == (
        "append",
        2,
        14,
        2,
        True,
    )


def test_nothing_new_is_nothing_to_do(log_state: Any) -> None:
    plan = log_state("planLog", {"start": 0, "end": 5}, part(5, 0, 5), 5000)
    assert (plan["action"], plan["more"]) == ("none", False)


def test_lines_already_held_are_not_added_twice(log_state: Any) -> None:
    plan = log_state("planLog", {"start": 0, "end": 5}, part(3, 4, 7), 5000)
    assert plan["lines"] == ["line 5", "line 6"] and plan["end"] == 7


@pytest.mark.parametrize(
    ("held", "answer"),
    [
        ({"start": 0, "end": 50}, part(50, 0, 10)),  # the log shrank (truncated, replaced)
        ({"start": 0, "end": 50}, part(60, 5, 65)),  # a gap after what is held
        ({"start": 0, "end": 50}, part(50, 10, 9000)),  # too far behind to catch up line by line
    ],
)
def test_a_log_that_no_longer_continues_what_is_held_is_reloaded(log_state: Any, held: Any, answer: Any) -> None:
    plan = log_state("planLog", held, answer, 5000)
    assert (plan["action"], plan["more"], plan["lines"]) == ("reload", True, [])
