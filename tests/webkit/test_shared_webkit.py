"""Two WebKit windows on one dashboard view share one request stream (shared_poller.js):
one leads and polls, the other renders its answers without a request of its own, and
takes over when the leader's window closes. (Each window here has its own injected fake
clock: the leader's is the one that moves time for the stream.)"""

from __future__ import annotations

from typing import Any

import pytest

from support.dashboard import running_job
from support.webkit import WebKitPage, wait_until

pytestmark = pytest.mark.browser

INTERVAL_MS = 5000
LIVE = '#connection-status[data-state="live"]'


def role(page: WebKitPage) -> str:
    return str(page.attribute("#connection-status", "data-stream"))


def test_a_second_window_follows_and_takes_over(driver: Any, server: Any) -> None:
    first_window = driver.current_window_handle
    first = WebKitPage(driver, server, api_prefix="/api/jobs").open("index.html", shown=LIVE)
    assert role(first) == "leader"

    driver.switch_to.new_window("window")  # a window of its own: both are visible
    second_window = driver.current_window_handle
    second = WebKitPage(driver, server, api_prefix="/api/jobs").open("index.html", shown=LIVE)
    wait_until(lambda: role(second) == "follower", "the second window to follow")
    asked = len(second.fetches())

    job = running_job(server.store, "/media/shared", processed=3, total=10)
    driver.switch_to.window(first_window)
    assert first.run_for(INTERVAL_MS) == [INTERVAL_MS]
    driver.switch_to.window(second_window)
    selector = f'tr[data-job-id="{job}"]'
    wait_until(lambda: second.js("return document.querySelector(arguments[0]) !== null", selector), "the row")
    assert len(second.fetches()) == asked, "the follower rendered the leader's answer without a request"
    assert second.state() == "live"

    driver.switch_to.window(first_window)
    driver.close()  # the leader goes: its lock is released
    driver.switch_to.window(second_window)
    wait_until(lambda: role(second) == "leader", "the second window to take over")
    fetched = second.run_for(3 * INTERVAL_MS)
    assert 1 <= len(fetched) <= 3, fetched
    assert second.errors() == []
