"""frontend/js/connection_status.js: the header's connection indicator.

The indicator markup is taken from frontend/templates/_base.html, so the tests exercise
the real hooks (#connection-status, [data-role=connection-text|connection-updated]).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from support.browser import FRONTEND
from support.js_harness import (
    CLOCK_START_MS,
    POLL_HARNESS_JS,
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

# Rendering into the DOM and timer-driven ticks, engine-independent: Chromium only (the
# page tests show the indicator in every engine).
pytestmark = [pytest.mark.browser, pytest.mark.engines("chromium")]

NOW = 1_700_000_000_000
T = CLOCK_START_MS


def indicator_markup() -> str:
    """The #connection-status element exactly as the base template writes it."""
    template = (FRONTEND / "templates" / "_base.html").read_text(encoding="utf-8")
    match = re.search(r'<div id="connection-status".*?</div>', template, re.DOTALL)
    assert match, "_base.html has no #connection-status"
    return match.group(0)


def load(page: Any, *, now: int | None = NOW) -> None:
    """Put the indicator in the page and create window.indicator (a ConnectionStatus)."""
    page.evaluate(
        """async ([markup, now]) => {
            document.body.innerHTML = markup;  // test fixture markup, not product code
            const { ConnectionStatus } = await import("/js/connection_status.js");
            window.element = document.getElementById("connection-status");
            window.win = window.spyWindow();
            const options = { windowRef: window.win };
            if (now !== null) options.now = () => now;
            window.indicator = new ConnectionStatus(window.element, options);
        }""",
        [indicator_markup(), now],
    )


def shown(page: Any) -> dict[str, Any]:
    """What the indicator shows."""
    return page.evaluate(
        """() => ({
            state: element.dataset.state,
            reason: element.dataset.reason ?? null,
            busy: element.getAttribute("aria-busy"),
            text: element.querySelector("[data-role=connection-text]").textContent,
            updated: element.querySelector("[data-role=connection-updated]").textContent,
            title: element.title,
            held: element.dataset.held,
        })"""
    )


def poller_state(state: str, reason: str, **fields: Any) -> dict[str, Any]:
    """A PollerState object like Poller's."""
    base = {
        "state": state,
        "reason": reason,
        "failures": 0,
        "nextAttemptAt": None,
        "lastSuccessAt": None,
        "inFlight": state == "updating",
        "intervalMs": 5000,
        "retryAfterMs": 0,
    }
    return base | fields


@pytest.fixture
def status_page(page: Any, harness: HarnessHTTPServer) -> Any:
    """The harness page with the indicator and window.indicator (now: NOW)."""
    open_module_page(page, harness.base)
    page.evaluate(POLL_HARNESS_JS)
    load(page)
    return page


def update(page: Any, state: dict[str, Any]) -> dict[str, Any]:
    """indicator.update(state), then what is shown."""
    page.evaluate("(s) => indicator.update(s)", state)
    return shown(page)


@pytest.mark.parametrize(
    ("state", "expected_state", "text", "title_part"),
    [
        (poller_state("live", "ok", lastSuccessAt=NOW - 12_000), "live", "Live", "every 5 s"),
        (  # held polls: a request waits for a change (in flight, but not "updating")
            poller_state("live", "ok", lastSuccessAt=NOW - 12_000, inFlight=True, held=True),
            "live",
            "Live",
            "changes show as soon as they happen",
        ),
        (
            poller_state("reconnecting", "failure", failures=1, nextAttemptAt=NOW + 5000),
            "reconnecting",
            "Reconnecting…",
            "The last request",
        ),
        (poller_state("reconnecting", "failure", failures=2), "reconnecting", "Reconnecting…", "The last 2 requests"),
        (
            poller_state("offline", "backoff", failures=5, nextAttemptAt=NOW + 40_000),
            "offline",
            "Offline — retrying in 40 s",
            "next try in 40 s",
        ),
        (
            poller_state("offline", "backoff", failures=6, nextAttemptAt=NOW + 80_000),
            "offline",
            "Offline — retrying in 1 min 20 s",
            "6 requests",
        ),
        (
            poller_state("offline", "backoff", failures=7, nextAttemptAt=NOW + 119_500),
            "offline",
            "Offline — retrying in 2 min",
            "waiting longer",
        ),
        (
            poller_state("offline", "browser-offline"),
            "offline",
            "Offline — browser is offline",
            "no network connection",
        ),
        (poller_state("paused", "hidden"), "paused", "Paused — tab hidden", "tab is hidden"),
        (poller_state("paused", "disabled"), "paused", "Paused — polling disabled", "turned off"),
        (poller_state("paused", "finished"), "paused", "Paused — job finished", "job has finished"),
        (poller_state("paused", "stopped"), "paused", "Paused — updates stopped", "stopped"),
        (poller_state("updating", "request"), "updating", "Connecting…", "Fetching"),
    ],
)
def test_state_text_and_attributes(
    status_page: Any, state: dict[str, Any], expected_state: str, text: str, title_part: str
) -> None:
    """Each state: data-state, its text, a title sentence; aria-busy only while updating."""
    result = update(status_page, state)
    assert result["state"] == expected_state
    assert result["reason"] == state["reason"]
    assert result["text"] == text
    assert title_part in result["title"]
    assert result["title"].endswith(".")
    assert result["busy"] == ("true" if expected_state == "updating" else None)
    assert result["held"] == ("true" if state.get("held") else "false")


def test_updated_ago_from_the_last_success(status_page: Any) -> None:
    """ "updated 12 s ago" from lastSuccessAt; nothing before the first success."""
    assert update(status_page, poller_state("updating", "request"))["updated"] == ""
    assert update(status_page, poller_state("live", "ok", lastSuccessAt=NOW - 12_000))["updated"] == "updated 12 s ago"
    assert update(status_page, poller_state("live", "ok", lastSuccessAt=NOW - 200))["updated"] == "updated just now"
    paused = update(status_page, poller_state("paused", "hidden", lastSuccessAt=NOW - 185_000))
    assert paused["updated"] == "updated 3 min ago"  # shown while paused too: how old the data is


def test_updating_after_live_keeps_the_text(status_page: Any) -> None:
    """A poll while live: only data-state and aria-busy change (no flicker), then back."""
    update(status_page, poller_state("live", "ok", lastSuccessAt=NOW - 5000))
    during = update(status_page, poller_state("updating", "request", lastSuccessAt=NOW - 5000))
    assert (during["state"], during["busy"], during["text"]) == ("updating", "true", "Live")
    after = update(status_page, poller_state("live", "ok", lastSuccessAt=NOW))
    assert (after["state"], after["busy"], after["text"]) == ("live", None, "Live")


def test_updating_text_after_failures_and_after_a_pause(status_page: Any) -> None:
    """While retrying after failures: "Reconnecting…"; after a pause: "Updating…"."""
    update(status_page, poller_state("offline", "backoff", failures=3, nextAttemptAt=NOW))
    assert update(status_page, poller_state("updating", "request", failures=3))["text"] == "Reconnecting…"
    update(status_page, poller_state("paused", "hidden", lastSuccessAt=NOW - 60_000))
    assert update(status_page, poller_state("updating", "request", lastSuccessAt=NOW - 60_000))["text"] == "Updating…"


def test_countdown_reached(status_page: Any) -> None:
    """At the scheduled time (the run about to start) the text says so."""
    assert (
        update(status_page, poller_state("offline", "backoff", failures=3, nextAttemptAt=NOW))["text"]
        == "Offline — retrying now"
    )


def test_no_dom_mutation_when_nothing_changes(status_page: Any) -> None:
    """The same state twice writes nothing the second time."""
    state = poller_state("live", "ok", lastSuccessAt=NOW - 3000)
    update(status_page, state)
    records = status_page.evaluate(
        """(s) => {
            const observer = new MutationObserver(() => {});
            observer.observe(element, { subtree: true, childList: true, attributes: true, characterData: true });
            indicator.update(s);
            indicator.update({ ...s });
            const records = observer.takeRecords();
            observer.disconnect();
            return records.length;
        }""",
        state,
    )
    assert records == 0


def test_updated_child_is_hidden_from_screen_readers(status_page: Any) -> None:
    """The per-second "updated" text is aria-hidden; the live region itself is untouched."""
    attrs = status_page.evaluate(
        """() => [element.querySelector("[data-role=connection-updated]").getAttribute("aria-hidden"),
                  element.getAttribute("role"), element.getAttribute("aria-live")]"""
    )
    assert attrs == ["true", "status", "polite"]


def test_missing_children_are_created(status_page: Any) -> None:
    """An indicator without the two children still works (they are created)."""
    result = status_page.evaluate(
        """async () => {
            const { ConnectionStatus } = await import("/js/connection_status.js");
            const bare = document.createElement("div");
            document.body.append(bare);
            const s = new ConnectionStatus(bare, { now: () => 0 });
            s.update({ state: "live", reason: "ok", failures: 0, nextAttemptAt: null,
                       lastSuccessAt: -5000, inFlight: false });
            return [bare.dataset.state, bare.querySelector("[data-role=connection-text]").textContent,
                    bare.querySelector("[data-role=connection-updated]").textContent];
        }"""
    )
    assert result == ["live", "Live", "updated 5 s ago"]


# --- ticking under the fake clock -----------------------------------------------------------------


@pytest.fixture
def clock_page(page: Any, harness: HarnessHTTPServer) -> Any:
    """The indicator under a paused fake clock (default now: Date.now)."""
    open_module_page(page, harness.base, clock=True)
    page.evaluate(POLL_HARNESS_JS)
    load(page, now=None)
    return page


def test_updated_ago_ticks_every_second(clock_page: Any) -> None:
    """While started, "updated N s ago" follows the clock; stop() freezes it."""
    page = clock_page
    page.evaluate(
        "(s) => { indicator.update(s); indicator.start(); indicator.start(); }",
        poller_state("live", "ok", lastSuccessAt=T),
    )
    assert page.evaluate("win.liveTimers()") == 1  # start() twice: one tick chain
    assert shown(page)["updated"] == "updated just now"
    page.clock.run_for(1000)
    assert shown(page)["updated"] == "updated 1 s ago"
    page.clock.run_for(11_000)
    assert shown(page)["updated"] == "updated 12 s ago"
    page.clock.run_for(48_000)
    assert shown(page)["updated"] == "updated 1 min ago"
    page.evaluate("indicator.stop(); indicator.stop()")
    assert page.evaluate("win.liveTimers()") == 0
    page.clock.run_for(120_000)
    assert shown(page)["updated"] == "updated 1 min ago"


def test_ticks_stop_while_hidden_and_after_pagehide(clock_page: Any) -> None:
    """No ticking in a hidden tab or after pagehide; shown again: current at once."""
    page = clock_page
    page.evaluate(
        "(s) => { indicator.update(s); indicator.start(); }", poller_state("paused", "hidden", lastSuccessAt=T)
    )
    assert page.evaluate("win.liveListeners()") == 2  # pagehide, pageshow
    page.evaluate("setVisibility('hidden')")
    assert page.evaluate("win.liveTimers()") == 0
    page.clock.run_for(30_000)
    assert shown(page)["updated"] == "updated just now"  # not ticking
    page.evaluate("setVisibility('visible')")
    assert shown(page)["updated"] == "updated 30 s ago"
    assert page.evaluate("win.liveTimers()") == 1
    page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))")
    assert page.evaluate("win.liveTimers()") == 0
    page.clock.run_for(30_000)
    page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")
    assert shown(page)["updated"] == "updated 1 min ago"
    assert page.evaluate("win.liveTimers()") == 1
    page.evaluate("indicator.stop()")
    assert page.evaluate("[win.liveTimers(), win.liveListeners()]") == [0, 0]


def test_offline_countdown_ticks(clock_page: Any) -> None:
    """ "Offline — retrying in 40 s" counts down with the clock."""
    page = clock_page
    page.evaluate(
        "(s) => { indicator.update(s); indicator.start(); }",
        poller_state("offline", "backoff", failures=5, nextAttemptAt=T + 40_000),
    )
    assert shown(page)["text"] == "Offline — retrying in 40 s"
    page.clock.run_for(1000)
    assert shown(page)["text"] == "Offline — retrying in 39 s"
    page.clock.run_for(29_500)
    assert shown(page)["text"] == "Offline — retrying in 10 s"
    assert "next try in 10 s" in shown(page)["title"]


def test_driven_by_a_poller(clock_page: Any) -> None:
    """Wired to a Poller: connecting, live, reconnecting, offline with countdown, live."""
    page = clock_page
    page.evaluate(
        """async () => {
            window.onPollerState = (state) => indicator.update(state);
            indicator.start();
            await setupPoller({ script: ["ok", "fail", "fail", "fail", "ok"] });
        }"""
    )
    assert shown(page)["state"] == "live"
    page.clock.run_for(5000)
    assert (shown(page)["state"], shown(page)["text"]) == ("reconnecting", "Reconnecting…")
    page.clock.run_for(10_000)
    assert (shown(page)["state"], shown(page)["text"]) == ("offline", "Offline — retrying in 10 s")
    page.clock.run_for(4000)
    assert shown(page)["text"] == "Offline — retrying in 6 s"
    assert shown(page)["updated"] == "updated 19 s ago"
    page.clock.run_for(6000)
    assert (shown(page)["state"], shown(page)["text"], shown(page)["updated"]) == ("live", "Live", "updated just now")
