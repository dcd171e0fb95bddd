"""Dashboard state in the URL: filters, sort and page survive polls, reloads and the
back button; controls fetch at once; empty states say what to do; keyboard reaches all."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from support.dashboard import Dashboard, running_job

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def api_query(fetch: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(urlsplit(fetch["url"]).query)


def make_jobs(dash: Dashboard, count: int, job_type: str = "scan") -> list[str]:
    """Create jobs; return their ids oldest first, as ``sort=created_at`` lists them
    (jobs made in the same millisecond are ordered by id)."""
    jobs = [dash.store.create(f"/media/{job_type} {n:02d}", job_type) for n in range(count)]
    return [job["id"] for job in sorted(jobs, key=lambda job: (job["created_at"], job["id"]))]


def test_filters_sort_and_page_from_the_url_survive_polls_and_a_reload(dash: Dashboard) -> None:
    scans = make_jobs(dash, 5)
    make_jobs(dash, 2, "move")
    view = "?type=scan&sort=created_at&limit=2&offset=2"
    dash.open(view)
    page = dash.page

    def check() -> None:
        assert dash.row_ids() == scans[2:4]
        expect(page.locator("#filter-type")).to_have_value("scan")
        expect(page.locator("#filter-sort")).to_have_value("created_at")
        expect(page.locator('th[data-sort-key="created_at"]')).to_have_attribute("aria-sort", "ascending")
        expect(page.locator("th[aria-sort]")).to_have_count(1)
        expect(page.locator("#jobs-range")).to_have_text("3–4 of 5")
        assert urlsplit(page.url).query == view[1:]

    check()
    assert api_query(dash.fetches()[-1]) == {
        "type": ["scan"],
        "sort": ["created_at"],
        "limit": ["2"],
        "offset": ["2"],
    }
    dash.run_for(INTERVAL_MS)
    dash.run_for(INTERVAL_MS)
    check()
    page.reload()
    dash.settle()
    check()


def test_invalid_url_values_are_dropped_and_the_url_cleaned(dash: Dashboard) -> None:
    make_jobs(dash, 1)
    dash.open("?status=bogus&type=scan&limit=5000&debug=1&status=")
    # The repeated status is refused like the API would; the debug switch stays.
    assert query(dash.page) == {"type": ["scan"], "debug": ["1"]}
    assert api_query(dash.fetches()[-1]) == {"type": ["scan"]}
    expect(dash.page.locator("#page-error")).to_be_hidden()


def test_filter_and_sort_changes_fetch_at_once_and_the_back_button_restores(dash: Dashboard) -> None:
    make_jobs(dash, 2)
    moves = make_jobs(dash, 2, "move")
    dash.open()
    page = dash.page
    before = len(dash.fetches())

    page.select_option("#filter-type", "move")
    dash.settle()  # no clock step: the request goes out at once
    assert len(dash.fetches()) == before + 1
    assert query(page) == {"type": ["move"]}
    assert sorted(dash.row_ids()) == sorted(moves)
    expect(page.locator("#clear-filters")).to_be_visible()

    page.locator('th[data-sort-key="status"] button').click()
    dash.settle()
    assert query(page) == {"type": ["move"], "sort": ["status"]}
    expect(page.locator('th[data-sort-key="status"]')).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#filter-sort")).to_have_value("status")
    page.locator('th[data-sort-key="status"] button').click()
    dash.settle()
    expect(page.locator('th[data-sort-key="status"]')).to_have_attribute("aria-sort", "descending")
    assert len(dash.fetches()) == before + 3

    page.go_back()
    dash.settle()
    assert query(page) == {"type": ["move"], "sort": ["status"]}
    expect(page.locator('th[data-sort-key="status"]')).to_have_attribute("aria-sort", "ascending")
    page.go_back()
    page.go_back()
    dash.settle()
    assert query(page) == {}
    expect(page.locator("#filter-type")).to_have_value("")
    expect(page.locator("#clear-filters")).to_be_hidden()
    assert len(dash.row_ids()) == 4
    assert api_query(dash.fetches()[-1]) == {}


def test_pagination_moves_by_a_page_and_stops_at_the_ends(dash: Dashboard) -> None:
    ids = make_jobs(dash, 5)
    dash.open("?sort=created_at&limit=2")
    page = dash.page
    prev, nxt = page.locator("#page-prev"), page.locator("#page-next")
    expect(prev).to_have_attribute("aria-disabled", "true")
    expect(prev).not_to_have_attribute("href", r".*")
    expect(page.locator("#jobs-range")).to_have_text("1–2 of 5")
    nxt.click()
    dash.settle()
    assert query(page) == {"sort": ["created_at"], "limit": ["2"], "offset": ["2"]}
    assert dash.row_ids() == ids[2:4]
    nxt.click()
    dash.settle()
    expect(page.locator("#jobs-range")).to_have_text("5 of 5")
    expect(nxt).to_have_attribute("aria-disabled", "true")
    assert dash.row_ids() == ids[4:]
    # The link that was followed is now disabled: focus moved to the other one.
    expect(prev).to_be_focused()
    prev.click()
    dash.settle()
    assert dash.row_ids() == ids[2:4]


def test_empty_list_says_how_to_start_a_scan_and_a_scan_appears_without_reload(dash: Dashboard) -> None:
    dash.open()
    page = dash.page
    empty = page.locator('[data-empty="none"]')
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("jobdash scan DIR")
    expect(page.locator("#jobs-table")).to_be_hidden()
    expect(page.locator('[data-empty="filtered"]')).to_be_hidden()
    job = dash.store.create("/media/new library", "scan")["id"]
    dash.run_for(INTERVAL_MS)
    expect(dash.row(job)).to_be_visible()
    expect(empty).to_be_hidden()


def test_no_match_for_the_filters_offers_to_clear_them(dash: Dashboard) -> None:
    make_jobs(dash, 3)
    dash.open("?status=failed&sort=status")
    page = dash.page
    filtered = page.locator('[data-empty="filtered"]')
    expect(filtered).to_be_visible()
    expect(filtered).to_contain_text("No jobs match these filters")
    expect(page.locator('[data-empty="none"]')).to_be_hidden()
    filtered.get_by_role("link", name="Clear filters").click()
    dash.settle()
    assert query(page) == {"sort": ["status"]}  # filters gone, the sort kept
    assert len(dash.row_ids()) == 3
    expect(filtered).to_be_hidden()


def test_a_page_past_the_end_links_to_the_first(dash: Dashboard) -> None:
    make_jobs(dash, 2)
    dash.open("?offset=50")
    past = dash.page.locator('[data-empty="past-end"]')
    expect(past).to_be_visible()
    past.get_by_role("link").click()
    dash.settle()
    assert query(dash.page) == {}
    assert len(dash.row_ids()) == 2


def test_keyboard_reaches_filters_sort_buttons_pagination_and_row_links(dash: Dashboard) -> None:
    ids = make_jobs(dash, 3)
    dash.open("?limit=2")
    page = dash.page
    seen: list[str] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                """() => { const el = document.activeElement;
              return el.id || el.dataset.sort || el.closest("tr")?.dataset.jobId || el.className || el.tagName; }"""
            )
        )
        # Stop at the second row link: Tab past the page's last control leaves the
        # document for the browser's own controls in Firefox (Chromium wraps around).
        if len([name for name in seen if name in ids]) == 2:
            break
    expected = [
        "filter-status",
        "filter-type",
        "filter-since",
        "filter-sort",
        "page-next",
        "job_type",
        "status",
        "created_at",
    ]
    positions = [seen.index(name) for name in expected]
    assert positions == sorted(positions), seen
    rows = [name for name in seen if name in ids]
    assert len(rows) == 2, seen
    # Sorting from the keyboard.
    page.locator('th[data-sort-key="status"] button').focus()
    page.keyboard.press("Enter")
    dash.settle()
    expect(page.locator('th[data-sort-key="status"]')).to_have_attribute("aria-sort", "ascending")
    expect(page.locator('th[data-sort-key="status"] button')).to_be_focused()
    # Next page from the keyboard.
    page.locator("#page-next").focus()
    page.keyboard.press("Enter")
    dash.settle()
    expect(page.locator("#jobs-range")).to_have_text("3 of 3")


def test_row_links_carry_the_job_id(dash: Dashboard) -> None:
    job = running_job(dash.store, "/media/x", processed=1, total=2)
    dash.open()
    link = dash.cell(job, "id").locator("a")
    expect(link).to_have_text(job[:8])
    expect(link).to_have_attribute("href", f"job.html?id={job}")


def test_row_links_carry_the_list_view_and_the_detail_page_leads_back_to_it(dash: Dashboard) -> None:
    """A row link keeps the list's filters and sort in `from`; they follow a filter change
    without re-rendering the row; the detail page's back link returns to that same view."""
    job = running_job(dash.store, "/media/x", processed=1, total=2)
    dash.open("?status=running&sort=status")
    link = dash.cell(job, "id").locator("a")
    expect(link).to_have_attribute("href", f"job.html?id={job}&from=status%3Drunning%26sort%3Dstatus")
    dash.tag_rows()
    dash.page.select_option("select[name=type]", "scan")
    expect(link).to_have_attribute("href", f"job.html?id={job}&from=status%3Drunning%26type%3Dscan%26sort%3Dstatus")
    assert dash.same_rows() == {job: True}
    link.click()
    dash.page.wait_for_url("**/job.html?**")
    back = dash.page.locator("#back-link")
    expect(back).to_have_attribute("href", "./?status=running&type=scan&sort=status")
