"""frontend/js/shared_poller.js: which poller a page gets. (Leaders, followers and
hand-offs between real tabs are tested on the pages: tests/pages/test_shared_polling.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

CHOOSE = """async ([shared, enabled, noLocks]) => {
  const { createPoller, SharedPoller, canShare } = await import("/js/shared_poller.js");
  const { Poller } = await import("/js/polling.js");
  // A window whose navigator has no Web Locks (an older browser, or http on another host).
  const windowRef = noLocks
    ? new Proxy(window, { get: (target, name) => (name === "navigator" ? {} : Reflect.get(target, name)) })
    : window;
  const poller = createPoller({ shared, enabled, windowRef, intervalMs: 5000, key: () => "k",
    task: async () => {}, receive: () => true });
  return { shared: poller instanceof SharedPoller, plain: poller instanceof Poller, can: canShare(windowRef) };
}"""


@pytest.mark.parametrize(
    ("shared", "enabled", "no_locks", "expected"),
    [
        (True, True, False, {"shared": True, "plain": False, "can": True}),
        (False, True, False, {"shared": False, "plain": True, "can": True}),  # ?shared=0
        (True, False, False, {"shared": False, "plain": True, "can": True}),  # polling disabled: load once
        (True, True, True, {"shared": False, "plain": True, "can": False}),  # no Web Locks
    ],
)
def test_create_poller_shares_only_when_asked_and_able(
    page: Any, harness: HarnessHTTPServer, shared: bool, enabled: bool, no_locks: bool, expected: dict[str, bool]
) -> None:
    open_module_page(page, harness.base)
    assert page.evaluate(CHOOSE, [shared, enabled, no_locks]) == expected


def test_a_shared_poller_needs_its_callbacks(page: Any, harness: HarnessHTTPServer) -> None:
    open_module_page(page, harness.base)
    message = page.evaluate(
        """async () => { const { SharedPoller } = await import("/js/shared_poller.js");
          try { new SharedPoller({ key: () => "k", task: async () => {}, intervalMs: 5000 }); return "";
          } catch (error) { return error.message; } }"""
    )
    assert message == "SharedPoller: receive must be a function"


@pytest.mark.parametrize("shared", [True, False])
def test_held_poll_options_reach_the_poller_that_runs(page: Any, harness: HarnessHTTPServer, shared: bool) -> None:
    """minUpdateGapMs and holdWaitMs go to the Poller a page gets (a shared stream's leader
    runs a Poller with every option as given): a held 200 is followed after the gap."""
    open_module_page(page, harness.base)
    state = page.evaluate(
        """async (shared) => {
            const { createPoller } = await import("/js/shared_poller.js");
            const poller = createPoller({ shared, intervalMs: 5000, minUpdateGapMs: 2000, holdWaitMs: 25000,
              key: () => `held-options-${shared}`, task: async () => ({ held: true, status: 200 }), receive: () => true });
            poller.start();
            const deadline = Date.now() + 5000;
            while (!poller.state.held && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
            const { held, state, nextAttemptAt, lastSuccessAt, role } = poller.state;
            poller.stop();
            return { held, state, gap: nextAttemptAt - lastSuccessAt, role: role ?? null };
        }""",
        shared,
    )
    assert 2000 <= state.pop("gap") <= 2050  # real time: the clock may tick between the two readings
    assert state == {"held": True, "state": "live", "role": "leader" if shared else None}
