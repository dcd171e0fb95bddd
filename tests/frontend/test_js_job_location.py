"""frontend/js/job_location.js: the job id in the detail page's address, and the link back
to the list with the list's own view."""

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

ID = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"
ORIGIN = "https://dash.example"


@pytest.fixture
def read(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)

    def run(search: str, referrer: str = "") -> Any:
        return page.evaluate(
            """async ([search, referrer, origin]) =>
                 (await import("/js/job_location.js")).readJobLocation(search, { referrer, origin })""",
            [search, referrer, ORIGIN],
        )

    return run


def test_a_canonical_id_is_read(read: Any) -> None:
    assert read(f"?id={ID}") == {"id": ID, "problem": "", "backHref": "./"}
    assert read(f"?id={ID.upper()}")["id"] == ID, "upper case is the same UUID"


@pytest.mark.parametrize(
    ("search", "problem"),
    [
        ("", "This address names no job"),
        ("?id=", "This address names no job"),
        (f"?id={ID}&id={ID}", "more than one job"),
        ("?id=../../etc/passwd", "“../../etc/passwd” is not a job id"),
        (f"?id={ID[:-1]}", "is not a job id"),
        ("?id=" + "x" * 500, "…” is not a job id"),
        ("?id=a%0Ab", "“a?b” is not a job id"),
    ],
)
def test_anything_else_is_a_problem_that_says_what_is_wrong(read: Any, search: str, problem: str) -> None:
    location = read(search)
    assert location["id"] is None
    assert problem in location["problem"]
    assert len(location["problem"]) < 200


@pytest.mark.parametrize(
    ("search", "referrer", "back"),
    [
        (f"?id={ID}&from=status%3Dfailed%26type%3Dscan", "", "./?status=failed&type=scan"),
        (f"?id={ID}&from=%3Fsort%3Dpriority%26offset%3D50", "", "./?sort=priority&offset=50"),
        (f"?id={ID}&from=evil%3Djavascript%3Aalert(1)", "", "./"),
        (f"?id={ID}&from=status%3Dfailed&debug=1", "", "./?status=failed&debug=1"),
        (f"?id={ID}", f"{ORIGIN}/index.html?status=running", "./?status=running"),
        (f"?id={ID}", f"{ORIGIN}/?since=24h", "./?since=24h"),
        (f"?id={ID}", "https://elsewhere.example/?status=running", "./"),
        (f"?id={ID}", f"{ORIGIN}/job.html?id={ID}", "./"),
        (f"?id={ID}&from=", f"{ORIGIN}/?status=running", "./"),
    ],
)
def test_the_back_link_keeps_the_lists_view(read: Any, search: str, referrer: str, back: str) -> None:
    assert read(search, referrer)["backHref"] == back
