"""type_filter.js in the browser: the type <select>'s options come from the API's list at
run time; the view's value stays selected before the list arrives; an unchanged list
writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

SETUP = """async () => {
  const { TypeFilter } = await import("/js/type_filter.js");
  document.body.innerHTML = `<select id="type" name="type"><option value="">All types</option></select>`;
  const select = document.getElementById("type");
  window.filter = new TypeFilter(select);
  window.records = [];
  new MutationObserver((r) => window.records.push(...r)).observe(select,
    { subtree: true, childList: true, attributes: true, characterData: true });
  window.show = () => ({
    options: [...select.options].map((o) => [o.value, o.textContent]),
    value: select.value,
  });
}"""


@pytest.fixture
def select(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)
    page.evaluate(SETUP)
    return page


def mutations(page: Any) -> int:
    return page.evaluate("() => { const n = window.records.length; window.records = []; return n; }")


def test_the_options_come_from_the_list(select: Any) -> None:
    shown = select.evaluate("() => { filter.setTypes(['checksum', 'scan', 'transcode']); return show(); }")
    assert shown == {
        "options": [["", "All types"], ["checksum", "Checksum"], ["scan", "Scan"], ["transcode", "Transcode"]],
        "value": "",
    }


def test_the_views_type_is_selected_before_the_list_arrives_and_after(select: Any) -> None:
    before = select.evaluate("() => { filter.setValue('checksum'); return show(); }")
    assert before == {"options": [["", "All types"], ["checksum", "Checksum"]], "value": "checksum"}
    after = select.evaluate("() => { filter.setTypes(['checksum', 'scan']); return show(); }")
    assert after == {"options": [["", "All types"], ["checksum", "Checksum"], ["scan", "Scan"]], "value": "checksum"}
    # A type that leaves the list stays selectable while it is the view's.
    gone = select.evaluate("() => { filter.setTypes(['scan']); return show(); }")
    assert gone == {"options": [["", "All types"], ["scan", "Scan"], ["checksum", "Checksum"]], "value": "checksum"}


def test_a_combination_from_the_url_is_an_option_of_its_own(select: Any) -> None:
    shown = select.evaluate("() => { filter.setTypes(['move', 'scan']); filter.setValue('scan,move'); return show(); }")
    assert shown["options"][-1] == ["scan,move", "Scan, move"] and shown["value"] == "scan,move"
    # Back to one type: the combination's option goes.
    shown = select.evaluate("() => { filter.setValue('move'); return show(); }")
    assert shown == {"options": [["", "All types"], ["move", "Move"], ["scan", "Scan"]], "value": "move"}


def test_an_unchanged_list_or_value_writes_nothing(select: Any) -> None:
    select.evaluate("() => { filter.setTypes(['scan', 'transcode']); filter.setValue('scan'); }")
    mutations(select)
    select.evaluate("() => { filter.setTypes(['scan', 'transcode']); filter.setValue('scan'); }")
    assert mutations(select) == 0
    select.evaluate("() => filter.setTypes(['checksum', 'scan', 'transcode'])")
    assert mutations(select) > 0
    assert select.evaluate("() => show().value") == "scan"


def test_names_are_text(select: Any) -> None:
    shown = select.evaluate("() => { filter.setValue('<img src=x onerror=window.__xss=1>'); return show(); }")
    assert shown["options"][-1][1] == "<img src=x onerror=window.__xss=1>"
    assert select.evaluate("document.querySelectorAll('img').length") == 0
