"""Several tabs of one browser (one Playwright context) on a LiveServer, under one fake clock.

Tabs of one context share what the shared poller uses — Web Locks and BroadcastChannel —
as tabs of one browser profile do, and Playwright's clock belongs to the context: it is
installed once, and ``run_for`` advances every tab's timers together. The server's own
view of the traffic comes from the context's ``request`` events (every tab's requests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from support.browser import track_console_errors
from support.dashboard import REAL_WAIT_MS, ClockedPage

#: Who fetches for a tab, as its connection indicator says (data-stream).
LEADER, FOLLOWER = "leader", "follower"


class Tabs:
    """Open tabs of one context, each a ``driver`` (Dashboard, DetailPage) of the server."""

    def __init__(self, first: Any, server: Any, driver: Callable[[Any, Any], ClockedPage]) -> None:
        self.context = first.context
        self.server = server
        self.driver = driver
        self.tabs: list[ClockedPage] = []
        self.requests: list[str] = []  # every tab's API requests, in order
        self.context.on("request", lambda request: self._count(request.url))
        self._first: Any | None = first
        self._clock_installed = False

    def _count(self, url: str) -> None:
        if "/api/" in url:
            self.requests.append(url)

    def open(self, path: str, count: int = 1) -> list[ClockedPage]:
        """Open ``count`` new tabs on ``path``; each waits until it shows data (its own or a
        leader's) with nothing in flight."""
        opened = []
        for _ in range(count):
            page = self._first if self._first is not None else self.context.new_page()
            if self._first is None:
                track_console_errors(page)
            self._first = None
            tab = self.driver(page, self.server)
            if not self._clock_installed:
                page.clock.install()
                page.clock.pause_at(time.time() + 1)
                self._clock_installed = True
            page.goto(self.server.url(path))
            expect(tab.status).to_have_attribute("data-state", "live", timeout=REAL_WAIT_MS)
            self.tabs.append(tab)
            opened.append(tab)
        self.settle()
        return opened

    def settle(self) -> None:
        """Wait (in real time) until no open tab has a request in flight or an answer not yet
        applied (followers render what the leader posts, a message later)."""
        for tab in self.tabs:
            if not tab.page.is_closed():
                tab.settle()

    def run_for(self, ms: int, step_ms: int = 5000) -> None:
        """Advance every tab's clock by ``ms``, a step at a time, settling between steps
        (a leader's answer reaches its followers in real time, not on the fake clock)."""
        for _ in range(ms // step_ms):
            self._first_open().page.clock.run_for(step_ms)
            self.settle()
        if ms % step_ms:
            self._first_open().page.clock.run_for(ms % step_ms)
            self.settle()

    def _first_open(self) -> ClockedPage:
        return next(tab for tab in self.tabs if not tab.page.is_closed())

    def roles(self) -> list[str]:
        """Each open tab's role (leader, follower, own), in opening order."""
        return [tab.status.get_attribute("data-stream") for tab in self.tabs if not tab.page.is_closed()]

    def wait_for_leader(self) -> ClockedPage:
        """Wait (in real time) until one open tab leads (a hand-off is a lock grant and a
        message away), and return it."""
        from support.drills import wait_for

        wait_for(
            lambda: self.roles().count(LEADER) == 1,
            REAL_WAIT_MS / 1000,
            "one tab to lead",
            diagnostics=lambda: str(self.roles()),
        )
        return self.leader()

    def leader(self) -> ClockedPage:
        """The tab that leads (exactly one must)."""
        leaders = [t for t in self.tabs if not t.page.is_closed() and t.status.get_attribute("data-stream") == LEADER]
        assert len(leaders) == 1, f"expected one leader, roles: {self.roles()}"
        return leaders[0]

    def close(self, tab: ClockedPage) -> None:
        """Close a tab (as the user does: its locks are released by the browser)."""
        tab.page.close()

    def count(self, fragment: str) -> int:
        """How many API requests so far had ``fragment`` in their URL."""
        return sum(fragment in url for url in self.requests)
