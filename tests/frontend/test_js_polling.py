"""frontend/js/polling.js: the Poller, driven under Playwright's fake clock.

Every test installs the fake clock before the page loads (js_harness.open_module_page),
so timers fire only inside ``page.clock.run_for``; times below are ms after the clock's
start (T). The task is scripted in the page (js_harness.POLL_HARNESS_JS) and records each
call; the Poller gets a spy windowRef that counts its live timers and listeners.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from support.js_harness import (
    CLOCK_START_MS,
    POLL_HARNESS_JS,
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

T = CLOCK_START_MS


class PollPage:
    """The harness page, with shortcuts for the poller under test."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def setup(self, **options: Any) -> None:
        """Create window.poller with these options (script, intervalMs, enabled, ...) and start it."""
        self.page.evaluate("(options) => window.setupPoller(options)", options)

    def js(self, expression: str, arg: Any = None) -> Any:
        """Evaluate in the page."""
        return self.page.evaluate(expression, arg)

    def run_for(self, ms: int) -> None:
        """Advance the fake clock, firing due timers (and microtasks between them)."""
        self.page.clock.run_for(ms)

    def now(self) -> int:
        """The fake time, relative to T."""
        return self.js("Date.now()") - T

    def times(self) -> list[int]:
        """When the task was called, relative to T."""
        return [at - T for at in self.js("calls.map(c => c.at)")]

    def calls(self) -> list[dict[str, Any]]:
        """The task's calls."""
        return self.js("calls")

    def state(self) -> dict[str, Any]:
        """poller.state."""
        return self.js("({ ...poller.state })")

    def changes(self) -> list[dict[str, Any]]:
        """Every state passed to onStateChange, in order."""
        return self.js("changes")

    def resting(self) -> list[tuple[str, int]]:
        """(state, failures) of each change that ended a request, in order."""
        return [(c["state"], c["failures"]) for c in self.changes() if c["state"] != "updating" and not c["inFlight"]]

    def live_timers(self) -> int:
        """Timers the poller has set and not cleared (nor seen fire)."""
        return self.js("win.liveTimers()")

    def live_listeners(self) -> int:
        """Window listeners the poller has attached and not removed."""
        return self.js("win.liveListeners()")


@pytest.fixture
def poll(page: Any, harness: HarnessHTTPServer) -> PollPage:
    """The harness page under a paused fake clock, with setupPoller() defined."""
    open_module_page(page, harness.base, clock=True)
    page.evaluate(POLL_HARNESS_JS)
    return PollPage(page)


def assert_no_repeated_changes(poll: PollPage) -> None:
    """onStateChange is never called with a state equal to the previous one."""
    changes = [{k: v for k, v in c.items() if k != "at"} for c in poll.changes()]
    for before, after in pairwise(changes):
        assert before != after, f"no-op change reported: {after}"


# --- the interval ----------------------------------------------------------------------------


def test_first_run_at_once_then_every_interval(poll: PollPage) -> None:
    """start(): an immediate run ("updating" from the very first load), then every 5 s."""
    poll.setup()
    first = poll.changes()[0]
    assert (first["state"], first["reason"], first["inFlight"], first["at"]) == ("updating", "request", True, T)
    poll.run_for(16_000)
    assert poll.times() == [0, 5000, 10_000, 15_000]
    state = poll.state()
    assert (state["state"], state["reason"], state["failures"]) == ("live", "ok", 0)
    assert state["lastSuccessAt"] == T + 15_000
    assert state["nextAttemptAt"] == T + 20_000
    assert state["inFlight"] is False
    assert poll.live_timers() == 1  # the next run's timer; each run's timeout timer is cleared
    assert poll.js("maxInFlight") == 1
    assert [c["state"] for c in poll.changes()] == ["updating", "live"] * 4
    assert_no_repeated_changes(poll)


def test_a_seeded_start_takes_over_the_schedule(poll: PollPage) -> None:
    """start(seed) (a tab taking over a shared stream): the first run waits for the old
    leader's next attempt; failures, Retry-After and the last success carry on."""
    seed = {"nextAttemptAt": T + 3000, "failures": 3, "retryAfterMs": 0, "lastSuccessAt": T - 20_000}
    poll.setup(seed=seed, script=["fail"])
    state = poll.state()
    assert (state["state"], state["failures"], state["nextAttemptAt"]) == ("offline", 3, T + 3000)
    assert state["lastSuccessAt"] == T - 20_000
    assert poll.times() == []
    poll.run_for(3000)
    assert poll.times() == [3000]
    assert poll.state()["failures"] == 4
    assert poll.state()["nextAttemptAt"] == T + 3000 + 20_000, "the backoff goes on from the 4th failure"


def test_a_seed_with_a_past_or_no_next_attempt_runs_at_once(poll: PollPage) -> None:
    """A seed whose next attempt is due (or unknown) runs at once, keeping its counters."""
    poll.setup(seed={"nextAttemptAt": T - 1, "failures": 0, "lastSuccessAt": T - 4000})
    assert poll.times() == [0]
    poll.run_for(1)
    assert poll.state()["lastSuccessAt"] == T


def test_configured_interval(poll: PollPage) -> None:
    """The interval comes from the options (2 s here)."""
    poll.setup(intervalMs=2000)
    poll.run_for(7000)
    assert poll.times() == [0, 2000, 4000, 6000]


def test_start_is_idempotent(poll: PollPage) -> None:
    """A second start() neither runs again nor adds listeners."""
    poll.setup()
    poll.js("poller.start(); poller.start()")
    poll.run_for(5000)
    assert poll.times() == [0, 5000]
    assert poll.live_listeners() == 4  # online, offline, pagehide, pageshow (window)


# --- never two in flight -----------------------------------------------------------------------


def test_slow_task_never_overlaps(poll: PollPage) -> None:
    """A 7 s task with a 5 s interval: the next run waits for the end, then the interval."""
    poll.setup(script=[{"kind": "slow", "ms": 7000}, {"kind": "slow", "ms": 7000}])
    poll.run_for(1000)
    assert poll.js("poller.pollNow()") is False  # in flight: nothing
    assert poll.live_timers() == 1  # only the run's timeout: nothing is scheduled meanwhile
    assert poll.state()["state"] == "updating"
    poll.run_for(27_000)
    assert poll.times() == [0, 12_000, 24_000]
    assert [c["end"] - T for c in poll.calls()] == [7000, 19_000, 24_000]
    assert poll.js("maxInFlight") == 1


def test_poll_now_when_idle_runs_at_once_and_restarts_the_interval(poll: PollPage) -> None:
    """pollNow() between runs clears the timer and runs now; the interval counts from it."""
    poll.setup()
    poll.run_for(2000)
    assert poll.js("poller.pollNow()") is True
    poll.run_for(5500)
    assert poll.times() == [0, 2000, 7000]
    assert poll.live_timers() == 1


def test_poll_now_during_a_run_does_nothing(poll: PollPage) -> None:
    """Repeated pollNow() while a run is in flight start nothing and keep the schedule."""
    poll.setup(script=[{"kind": "slow", "ms": 3000}])
    poll.js("[1, 2, 3].map(() => poller.pollNow())")
    poll.run_for(2000)
    poll.js("poller.pollNow()")
    poll.run_for(6500)
    assert poll.times() == [0, 8000]
    assert poll.js("maxInFlight") == 1


def test_refresh_supersedes_the_run_in_flight(poll: PollPage) -> None:
    """refresh(): the in-flight run is aborted (not a failure) and a new one starts."""
    poll.setup(script=[{"kind": "slow", "ms": 3000}, "ok"])
    poll.run_for(1000)
    poll.js("poller.refresh()")
    calls = poll.calls()
    assert [c["at"] - T for c in calls] == [0, 1000]
    assert (calls[0]["aborted"], calls[0]["reason"], calls[0]["outcome"]) == (True, "AbortError", "aborted")
    assert poll.state()["failures"] == 0
    poll.run_for(5000)
    assert poll.times() == [0, 1000, 6000]
    assert poll.js("maxInFlight") == 1


def test_refresh_waits_for_a_task_that_ignores_the_abort(poll: PollPage) -> None:
    """A task that ignores its signal keeps the slot: the new run starts when it settles."""
    poll.setup(script=[{"kind": "deaf", "ms": 3000}, "ok"])
    poll.run_for(1000)
    poll.js("poller.refresh()")
    assert poll.times() == [0]
    assert poll.state()["state"] == "updating"
    poll.run_for(2000)
    assert poll.times() == [0, 3000]
    assert poll.js("maxInFlight") == 1


# --- failures and backoff ------------------------------------------------------------------------


def test_failures_follow_the_backoff_schedule(poll: PollPage) -> None:
    """Gaps: 5, 5, 10, 20, 40, 80, 120, 120 s; reconnecting (1–2), offline (3+); success resets."""
    poll.setup(script=["fail"] * 8 + ["ok"])
    poll.run_for(404_000)
    times = poll.times()
    assert [b - a for a, b in pairwise(times)] == [5000, 5000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000]
    assert poll.resting() == [
        ("reconnecting", 1),
        ("reconnecting", 2),
        ("offline", 3),
        ("offline", 4),
        ("offline", 5),
        ("offline", 6),
        ("offline", 7),
        ("offline", 8),
        ("live", 0),
    ]
    waits = [c["nextAttemptAt"] - c["at"] for c in poll.changes() if c["state"] != "updating" and not c["inFlight"]]
    assert waits == [5000, 5000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000, 5000]
    reasons = {c["state"]: c["reason"] for c in poll.changes()}
    assert reasons == {"updating": "request", "reconnecting": "failure", "offline": "backoff", "live": "ok"}
    poll.run_for(5000)
    assert poll.times()[-1] == 405_000  # back to the interval
    assert_no_repeated_changes(poll)


def test_retry_after_is_a_minimum(poll: PollPage) -> None:
    """An error's retryAfterMs: 30 s beats the interval; 2 s loses to the 20 s backoff."""
    poll.setup(
        script=[
            {"kind": "fail", "retryAfterMs": 30_000},
            "fail",
            "fail",
            {"kind": "fail", "retryAfterMs": 2000},
            "ok",
        ]
    )
    state = poll.state()
    assert (state["state"], state["failures"], state["retryAfterMs"]) == ("reconnecting", 1, 30_000)
    assert state["nextAttemptAt"] == T + 30_000
    poll.run_for(66_000)
    assert poll.times() == [0, 30_000, 35_000, 45_000, 65_000]
    assert poll.state()["state"] == "live"


def test_success_after_offline_resets_to_live(poll: PollPage) -> None:
    """Three failures (offline), then a success: live, failures 0, interval again."""
    poll.setup(script=["fail", "fail", "fail", "ok"])
    poll.run_for(10_000)
    assert poll.state()["state"] == "offline"
    poll.run_for(10_000)
    state = poll.state()
    assert (state["state"], state["failures"], state["nextAttemptAt"]) == ("live", 0, T + 25_000)


def test_poll_now_retries_at_once_during_backoff(poll: PollPage) -> None:
    """A "retry now" during a long backoff runs at once (and a success resets)."""
    poll.setup(script=["fail", "fail", "fail", "ok"])
    poll.run_for(11_000)
    assert poll.state()["nextAttemptAt"] == T + 20_000
    assert poll.js("poller.pollNow()") is True
    assert poll.times() == [0, 5000, 10_000, 11_000]
    assert poll.state()["state"] == "live"


def test_timeout_counts_as_a_failure(poll: PollPage) -> None:
    """A task that never answers is aborted after 10 s (TimeoutError): a failure."""
    poll.setup(script=["hang", "ok"])
    poll.run_for(9999)
    assert poll.state()["state"] == "updating"
    assert poll.calls()[0]["aborted"] is False
    poll.run_for(1)
    call = poll.calls()[0]
    assert (call["aborted"], call["reason"]) == (True, "TimeoutError")
    state = poll.state()
    assert (state["state"], state["failures"], state["nextAttemptAt"]) == ("reconnecting", 1, T + 15_000)
    poll.run_for(5000)
    assert poll.times() == [0, 15_000]
    assert poll.state()["state"] == "live"


def test_custom_timeout(poll: PollPage) -> None:
    """timeoutMs sets the limit."""
    poll.setup(script=["hang"], timeoutMs=3000)
    poll.run_for(3000)
    assert poll.calls()[0]["reason"] == "TimeoutError"
    assert poll.state()["failures"] == 1


def test_own_abort_error_is_not_a_failure(poll: PollPage) -> None:
    """A task rejecting with an AbortError of its own: no failure, the interval goes on."""
    poll.setup(script=["selfabort", "ok"])
    state = poll.state()
    assert (state["failures"], state["nextAttemptAt"]) == (0, T + 5000)
    poll.run_for(5000)
    assert poll.times() == [0, 5000]


# --- hidden tab, offline browser, pagehide ----------------------------------------------------------


def test_hidden_tab_aborts_at_once_and_pauses(poll: PollPage) -> None:
    """Hidden: the in-flight run aborts (not a failure), no timers, no runs; visible: run now."""
    poll.setup(script=["ok", {"kind": "slow", "ms": 3000}])
    poll.run_for(6000)
    poll.js("setVisibility('hidden')")
    call = poll.calls()[1]
    assert (call["aborted"], call["reason"], call["outcome"]) == (True, "AbortError", "aborted")
    state = poll.state()
    assert (state["state"], state["reason"], state["failures"], state["nextAttemptAt"]) == (
        "paused",
        "hidden",
        0,
        None,
    )
    assert poll.live_timers() == 0
    poll.run_for(60_000)
    assert poll.times() == [0, 5000]
    poll.js("setVisibility('visible')")
    assert poll.times() == [0, 5000, 66_000]
    poll.run_for(5000)
    assert poll.times() == [0, 5000, 66_000, 71_000]
    assert poll.state()["state"] == "live"
    assert_no_repeated_changes(poll)


def test_hidden_between_runs_clears_the_timer(poll: PollPage) -> None:
    """Hidden while idle: the scheduled run does not happen."""
    poll.setup()
    poll.run_for(1000)
    poll.js("setVisibility('hidden')")
    assert poll.live_timers() == 0
    poll.run_for(30_000)
    assert poll.times() == [0]
    poll.js("setVisibility('visible')")
    assert poll.times() == [0, 31_000]


def test_hidden_at_start_waits_for_visible(poll: PollPage) -> None:
    """A page opened in a background tab loads when first shown."""
    poll.js("setVisibility('hidden')")
    poll.setup()
    assert poll.times() == []
    assert (poll.state()["state"], poll.state()["reason"]) == ("paused", "hidden")
    poll.run_for(10_000)
    poll.js("setVisibility('visible')")
    assert poll.times() == [10_000]


def test_visible_again_while_the_aborted_run_settles_does_not_start_another(poll: PollPage) -> None:
    """Resume from hidden while a (signal-ignoring) run is still in flight: one run at a time."""
    poll.setup(script=["ok", {"kind": "deaf", "ms": 3000}, "ok"])
    poll.run_for(6000)  # run 2 started at 5000 and ignores aborts until 8000
    poll.js("setVisibility('hidden')")
    poll.run_for(500)
    poll.js("setVisibility('visible')")
    poll.js("setVisibility('hidden'); setVisibility('visible')")
    assert poll.times() == [0, 5000]
    assert poll.state()["state"] == "updating"
    poll.run_for(1500)  # the deaf run settles at 8000: the resumed run starts then
    assert poll.times() == [0, 5000, 8000]
    poll.run_for(5000)
    assert poll.times() == [0, 5000, 8000, 13_000]
    assert poll.js("maxInFlight") == 1


def test_stray_visible_and_online_events_do_not_cut_a_backoff_short(poll: PollPage) -> None:
    """'visible' without a hidden before, 'online' without an offline before: no extra run."""
    poll.setup(script=["fail", "fail", "fail", "ok"])
    poll.run_for(11_000)
    assert poll.state()["nextAttemptAt"] == T + 20_000
    poll.js("setVisibility('visible'); dispatchEvent(new Event('online'))")
    assert poll.times() == [0, 5000, 10_000]
    assert poll.state()["nextAttemptAt"] == T + 20_000


def test_offline_and_online_events(poll: PollPage) -> None:
    """'offline': abort, no timers, state offline (browser-offline); 'online': run now."""
    poll.setup(script=["ok", "hang", "ok"])
    poll.run_for(6000)
    poll.js("dispatchEvent(new Event('offline'))")
    call = poll.calls()[1]
    assert (call["aborted"], call["reason"]) == (True, "AbortError")
    state = poll.state()
    assert (state["state"], state["reason"], state["failures"]) == ("offline", "browser-offline", 0)
    assert poll.live_timers() == 0
    poll.run_for(120_000)
    assert poll.times() == [0, 5000]
    poll.js("dispatchEvent(new Event('online'))")
    assert poll.times() == [0, 5000, 126_000]
    assert poll.state()["state"] == "live"


def test_browser_offline_at_start_and_back(poll: PollPage) -> None:
    """With the network emulated offline (navigator.onLine false) nothing runs until online."""
    poll.js('Promise.all([import("/js/polling.js"), import("/js/debug_log.js")])')  # load first
    poll.page.context.set_offline(True)
    poll.page.wait_for_function("navigator.onLine === false")
    poll.setup()
    assert poll.times() == []
    assert (poll.state()["state"], poll.state()["reason"]) == ("offline", "browser-offline")
    poll.page.context.set_offline(False)
    poll.page.wait_for_function("calls.length === 1")
    assert poll.state()["state"] == "live"


def test_pagehide_clears_every_timer_and_aborts(poll: PollPage) -> None:
    """pagehide: the run aborts, no timer is left (not even its timeout); pageshow resumes."""
    poll.setup(script=["ok", "hang", "ok"])
    poll.run_for(6000)
    assert poll.live_timers() == 1  # the hanging run's timeout
    poll.js("dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))")
    assert poll.calls()[1]["reason"] == "AbortError"
    assert poll.live_timers() == 0
    poll.run_for(120_000)
    assert poll.times() == [0, 5000]
    assert poll.state()["failures"] == 0
    poll.js("dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")
    assert poll.times() == [0, 5000, 126_000]


# --- disabled, stop, finish -------------------------------------------------------------------------


def test_disabled_runs_once_then_pauses(poll: PollPage) -> None:
    """enabled=false: one load so the page has data, then paused (disabled), no timers."""
    poll.setup(enabled=False)
    poll.run_for(60_000)
    assert poll.times() == [0]
    state = poll.state()
    assert (state["state"], state["reason"], state["lastSuccessAt"]) == ("paused", "disabled", T)
    assert poll.live_timers() == 0
    poll.js("setVisibility('hidden'); setVisibility('visible'); dispatchEvent(new Event('online'))")
    poll.run_for(60_000)
    assert poll.times() == [0]
    assert poll.js("poller.pollNow()") is True  # an explicit request still runs
    poll.run_for(60_000)
    assert poll.times() == [0, 120_000]
    assert (poll.state()["state"], poll.state()["reason"]) == ("paused", "disabled")


def test_disabled_with_a_failed_load(poll: PollPage) -> None:
    """enabled=false and the one load fails: still paused (disabled), the failure counted."""
    poll.setup(enabled=False, script=["fail"])
    poll.run_for(60_000)
    assert poll.times() == [0]
    state = poll.state()
    assert (state["state"], state["reason"], state["failures"]) == ("paused", "disabled", 1)


def test_stop_aborts_without_failure_and_is_idempotent(poll: PollPage) -> None:
    """stop(): the task's signal aborts, nothing is counted or scheduled, listeners go."""
    poll.setup(script=["hang", "ok"])
    poll.js("poller.stop()")
    call = poll.calls()[0]
    assert (call["aborted"], call["reason"], call["outcome"]) == (True, "AbortError", "aborted")
    state = poll.state()
    assert (state["state"], state["reason"], state["failures"], state["inFlight"]) == ("paused", "stopped", 0, False)
    assert (poll.live_timers(), poll.live_listeners()) == (0, 0)
    count = len(poll.changes())
    poll.js("poller.stop(); poller.stop()")
    assert len(poll.changes()) == count  # no-op: no change reported
    poll.run_for(60_000)
    assert poll.times() == [0]
    poll.js("poller.start(); poller.start()")
    assert poll.times() == [0, 60_000]
    assert poll.live_listeners() == 4
    assert_no_repeated_changes(poll)


def test_stop_between_runs_clears_the_timer(poll: PollPage) -> None:
    """stop() while idle: the pending run never happens."""
    poll.setup()
    poll.run_for(1000)
    poll.js("poller.stop()")
    assert poll.live_timers() == 0
    poll.run_for(30_000)
    assert poll.times() == [0]
    assert poll.js("poller.pollNow()") is False  # stopped: nothing


def test_finish_from_inside_the_task(poll: PollPage) -> None:
    """A job that ended: finish() in the task; paused (finished) and nothing more runs."""
    poll.setup(script=["ok", "finish"])
    poll.run_for(5000)
    state = poll.state()
    assert (state["state"], state["reason"], state["inFlight"]) == ("paused", "finished", False)
    assert state["lastSuccessAt"] == T + 5000  # the last fetch still counts
    assert (poll.live_timers(), poll.live_listeners()) == (0, 0)
    poll.js("setVisibility('hidden'); setVisibility('visible'); poller.pollNow(); poller.stop()")
    poll.run_for(60_000)
    assert poll.times() == [0, 5000]
    assert (poll.state()["state"], poll.state()["reason"]) == ("paused", "finished")


# --- reporting ---------------------------------------------------------------------------------------


def test_state_is_a_read_only_snapshot(poll: PollPage) -> None:
    """poller.state cannot be assigned nor changed by the caller."""
    poll.setup()
    result = poll.js(
        """() => {
            const s = poller.state;
            try { s.state = "hacked"; } catch {}
            try { poller.state = {}; } catch {}
            return [poller.state.state, Object.isFrozen(s)];
        }"""
    )
    assert result == ["live", True]


def test_debug_log_traces_requests_and_transitions(poll: PollPage) -> None:
    """With a logger enabled, each request and transition is logged with the prefix."""
    messages: list[str] = []
    poll.page.on("console", lambda msg: messages.append(msg.text) if msg.type == "debug" else None)
    with poll.page.expect_console_message(lambda msg: "next request in 5000 ms" in msg.text):
        poll.setup(debug=True)
    assert any(m.startswith("[jobdash] test: start") for m in messages)
    assert "[jobdash] test: request (start)" in messages
    assert "[jobdash] test: updating/request -> live/ok" in messages


def test_with_get_json_and_a_503_retry_after(poll: PollPage, harness: HarnessHTTPServer) -> None:
    """A real request: a 503's Retry-After (30 s) sets the wait; the state says reconnecting."""
    poll.js(
        """async () => {
            const { Poller } = await import("/js/polling.js");
            const { getJson } = await import("/js/api_client.js");
            window.times = [];
            window.poller = new Poller({
                intervalMs: 5000,
                task: async (signal) => { times.push(Date.now()); await getJson("/api/test/busy", { signal }); },
            });
            poller.start();
        }"""
    )
    poll.page.wait_for_function("poller.state.failures === 1")
    state = poll.state()
    assert (state["state"], state["retryAfterMs"], state["nextAttemptAt"]) == ("reconnecting", 30_000, T + 30_000)
    poll.run_for(29_999)
    assert poll.js("times.length") == 1
    poll.run_for(1)
    poll.page.wait_for_function("poller.state.failures === 2")
    assert poll.js("times.map(t => t - times[0])") == [0, 30_000]
    poll.js("poller.stop()")
    poll.page.console_errors.clear()  # Chromium logs each 503 load as a console error


# --- held polls ------------------------------------------------------------------------------------
#
# A step with `held` resolves to {held, status}, as a page's task does with getJson's result.
# The server holds a revalidation up to the wait (25 s here: holdWaitMs) until the data changes.

WAIT = 25_000


def held(status: int, ms: int = 0) -> dict[str, Any]:
    """A held answer with this status, after ms (0: in a microtask)."""
    return (
        {"kind": "slow", "ms": ms, "held": True, "status": status}
        if ms
        else {"kind": "ok", "held": True, "status": status}
    )


def test_a_held_304_asks_again_at_once(poll: PollPage) -> None:
    """A 304 after the server held the request for the whole wait: the next request at once."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304, WAIT), held(304, WAIT), held(304, WAIT)])
    poll.run_for(1000 + 3 * WAIT)
    assert poll.times() == [0, 1000, 1000 + WAIT, 1000 + 2 * WAIT, 1000 + 3 * WAIT]
    assert [c["end"] - T for c in poll.calls()[:4]] == [0, 1000 + WAIT, 1000 + 2 * WAIT, 1000 + 3 * WAIT]
    assert poll.js("maxInFlight") == 1


def test_a_held_304_answered_at_once_waits_for_the_min_gap_from_the_previous_start(poll: PollPage) -> None:
    """A server or proxy that answers held requests at once cannot make a tight loop: the
    next request starts no sooner than minUpdateGapMs after the previous one started."""
    poll.setup(holdWaitMs=WAIT, script=[held(304)] * 4 + [held(304, 600)] * 2)
    poll.run_for(5500)
    assert poll.times() == [0, 1000, 2000, 3000, 4000, 5000]
    assert poll.calls()[4]["end"] - T == 4600  # answered after 600 ms: asked again 400 ms later
    poll.js("poller.stop()")
    poll.setup(holdWaitMs=WAIT, minUpdateGapMs=250, script=[held(304)] * 5)
    start = poll.now()
    poll.run_for(1000)
    assert [t - start for t in poll.times()] == [0, 250, 500, 750, 1000]


def test_a_held_200_asks_again_after_the_min_gap(poll: PollPage) -> None:
    """A held 200 (the data changed): the next request minUpdateGapMs after the answer."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(200, 3000), held(200, 3000)])
    poll.run_for(8500)
    assert poll.times() == [0, 1000, 5000]
    state = poll.state()
    assert (state["state"], state["held"], state["inFlight"], state["nextAttemptAt"]) == ("live", True, False, T + 9000)
    poll.run_for(500)
    assert poll.times() == [0, 1000, 5000, 9000]
    poll.js("poller.stop()")
    poll.setup(holdWaitMs=WAIT, minUpdateGapMs=2500, script=[held(200), held(200)])
    start = poll.now()
    poll.run_for(5000)
    assert [t - start for t in poll.times()] == [0, 2500, 5000]


def test_answers_that_are_not_held_keep_the_interval(poll: PollPage) -> None:
    """No Preference-Applied (an older server, a proxy that strips it): the interval, as
    before; the stream falls back as soon as one answer is not held, and comes back."""
    not_held = {"kind": "ok", "held": False, "status": 304}
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304), not_held, not_held, held(200), held(304)])
    poll.run_for(12_000)
    assert poll.times() == [0, 1000, 2000, 7000, 12_000]
    assert poll.state()["held"] is True
    poll.run_for(1000)
    assert poll.times() == [0, 1000, 2000, 7000, 12_000, 13_000]


def test_a_held_request_shows_live_not_updating(poll: PollPage) -> None:
    """While a request is expected to be held, the indicator stays "live" (inFlight true);
    a request that is not expected to be held shows "updating"."""
    not_held = {"kind": "ok", "held": False, "status": 200}
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304, WAIT), held(200, 4000), not_held, "ok"])
    first = poll.changes()[0]
    assert (first["state"], first["inFlight"], first["held"]) == ("updating", True, False)  # not known yet
    poll.run_for(1000 + 10_000)
    state = poll.state()
    assert (state["state"], state["reason"], state["inFlight"], state["held"]) == ("live", "ok", True, True)
    assert state["nextAttemptAt"] is None
    poll.run_for(WAIT + 5000 - 10_000)  # the 304, the 200 after 4 s, the min gap
    assert poll.times() == [0, 1000, 1000 + WAIT, 6000 + WAIT]
    poll.run_for(5000)  # that answer was not held: the interval, and "updating" again
    assert poll.times() == [0, 1000, 1000 + WAIT, 6000 + WAIT, 11_000 + WAIT]
    states = [(c["state"], c["inFlight"]) for c in poll.changes()]
    assert states.count(("updating", True)) == 2  # the first request and the one after the fallback
    assert ("updating", True) not in states[1:-2]
    assert_no_repeated_changes(poll)


def test_the_timeout_grows_by_the_hold_wait(poll: PollPage) -> None:
    """holdWaitMs is added to the timeout of a run that may be held (10 s + 25 s): a held
    request is not cut."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), "hang", "hang", held(304)])
    poll.run_for(1000 + 10_000 + WAIT - 1)
    assert poll.calls()[1]["aborted"] is False
    poll.run_for(1)
    assert poll.calls()[1]["reason"] == "TimeoutError"
    state = poll.state()
    assert (state["state"], state["failures"], state["held"]) == ("reconnecting", 1, False)


def test_a_retry_after_a_failure_asks_for_no_hold_and_has_the_plain_timeout(poll: PollPage) -> None:
    """After a failure the task is told not to ask for a hold (a server that is back
    answers at once, so the page learns it is back), with the plain timeout; once a retry
    succeeds, the stream resumes its holds a minimum gap later, shown "live"."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), "fail", "hang", {"kind": "ok", "held": False}, "hang"])
    poll.run_for(1000)
    poll.run_for(5000)  # the retry
    assert poll.times() == [0, 1000, 6000]
    assert [c["hold"] for c in poll.calls()] == [True, True, False]
    assert (poll.state()["state"], poll.state()["inFlight"]) == ("updating", True)
    poll.run_for(10_000 - 1)
    assert poll.calls()[2]["aborted"] is False
    poll.run_for(1)
    assert poll.calls()[2]["reason"] == "TimeoutError"  # 10 s: not 35 s
    poll.run_for(5000)  # the next retry succeeds (no Prefer was sent: it is not held)
    state = poll.state()
    assert (state["state"], state["failures"], state["held"], state["nextAttemptAt"]) == ("live", 0, True, T + 22_000)
    poll.run_for(1000)  # a minimum gap later, a run that may be held again, shown "live"
    assert poll.times() == [0, 1000, 6000, 16_000 + 5000, 22_000]
    assert [c["hold"] for c in poll.calls()] == [True, True, False, False, True]
    state = poll.state()
    assert (state["state"], state["inFlight"]) == ("live", True)
    poll.run_for(10_000 + WAIT - 1)
    assert poll.calls()[4]["aborted"] is False  # its timeout allows the wait again
    poll.js("poller.stop()")


def test_without_a_hold_wait_the_timeout_is_plain(poll: PollPage) -> None:
    """A poller without holdWaitMs (0, the default) tells its task that no run may be held,
    and keeps its timeout."""
    poll.setup(script=["ok", "hang"])
    poll.run_for(5000 + 10_000)
    assert poll.calls()[1]["reason"] == "TimeoutError"
    assert [c["hold"] for c in poll.calls()] == [False, False]


def test_a_failure_after_held_runs_backs_off_as_before(poll: PollPage) -> None:
    """Failures after held answers: the backoff schedule as ever, "updating" during each
    retry; a held answer afterwards brings the held pace back."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304), "fail", "fail", "fail", "fail", held(304), held(304)])
    poll.run_for(43_000)
    assert poll.times() == [0, 1000, 2000, 7000, 12_000, 22_000, 42_000, 43_000]
    assert poll.resting() == [
        ("live", 0),
        ("live", 0),
        ("reconnecting", 1),
        ("reconnecting", 2),
        ("offline", 3),
        ("offline", 4),
        ("live", 0),
        ("live", 0),
    ]
    starts = [c for c in poll.changes() if c["inFlight"]]
    shown = [(c["at"] - T, c["state"], c["held"]) for c in starts if c["state"] in ("updating", "live")]
    assert shown == [
        (0, "updating", False),
        (1000, "live", True),
        (2000, "live", True),  # the request that failed was expected to be held
        (7000, "updating", False),
        (12_000, "updating", False),
        (22_000, "updating", False),
        (42_000, "updating", False),
        (43_000, "live", True),
    ]


def test_retry_after_still_counts_after_held_runs(poll: PollPage) -> None:
    """A 503's Retry-After after held answers: the wait is the larger of it and the backoff."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), {"kind": "fail", "retryAfterMs": 30_000}, held(304)])
    poll.run_for(1000)
    state = poll.state()
    assert (state["state"], state["held"], state["nextAttemptAt"]) == ("reconnecting", False, T + 31_000)


def test_hidden_tab_aborts_a_held_request_at_once_and_visible_asks_again_at_once(poll: PollPage) -> None:
    """Hidden: the held request aborts (not a failure), no timer is left; visible: a request
    at once, still "live" (the stream is held), then the held pace."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304, WAIT), held(304, WAIT), held(304, WAIT)])
    poll.run_for(5000)
    poll.js("setVisibility('hidden')")
    call = poll.calls()[1]
    assert (call["aborted"], call["reason"], call["outcome"]) == (True, "AbortError", "aborted")
    state = poll.state()
    assert (state["state"], state["reason"], state["failures"], state["inFlight"]) == ("paused", "hidden", 0, False)
    assert poll.live_timers() == 0
    poll.run_for(60_000)
    assert poll.times() == [0, 1000]
    poll.js("setVisibility('visible')")
    assert poll.times() == [0, 1000, 65_000]
    state = poll.state()
    assert (state["state"], state["inFlight"]) == ("live", True)
    poll.run_for(WAIT)
    assert poll.times() == [0, 1000, 65_000, 65_000 + WAIT]
    assert poll.js("maxInFlight") == 1


def test_offline_and_pagehide_abort_a_held_request(poll: PollPage) -> None:
    """The browser going offline, and pagehide, abort a held request and clear every timer."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304, WAIT), held(304, WAIT), held(304, WAIT)])
    poll.run_for(2000)
    poll.js("dispatchEvent(new Event('offline'))")
    assert (poll.calls()[1]["reason"], poll.live_timers()) == ("AbortError", 0)
    assert (poll.state()["state"], poll.state()["reason"]) == ("offline", "browser-offline")
    poll.js("dispatchEvent(new Event('online'))")
    assert poll.times() == [0, 1000, 2000]
    poll.js("dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))")
    assert (poll.calls()[2]["reason"], poll.live_timers()) == ("AbortError", 0)
    poll.run_for(60_000)
    assert poll.times() == [0, 1000, 2000]
    assert poll.state()["failures"] == 0


def test_never_two_in_flight_with_held_polls(poll: PollPage) -> None:
    """pollNow() during a held request does nothing; refresh() aborts it and asks at once,
    showing "updating" (a new query's first answer is not held)."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304, WAIT), held(200, 100), held(304, WAIT)])
    poll.run_for(2000)
    assert poll.js("poller.pollNow()") is False
    assert poll.times() == [0, 1000]
    poll.js("poller.refresh()")
    assert poll.times() == [0, 1000, 2000]
    assert (poll.calls()[1]["reason"], poll.calls()[1]["outcome"]) == ("AbortError", "aborted")
    assert (poll.state()["state"], poll.state()["held"]) == ("updating", False)
    poll.run_for(100 + 1000)
    assert poll.times() == [0, 1000, 2000, 3100]
    assert poll.state()["state"] == "live"
    assert poll.js("maxInFlight") == 1
    assert poll.live_timers() == 1  # the held request's timeout, nothing scheduled meanwhile


def test_stop_and_finish_with_held_polls(poll: PollPage) -> None:
    """stop() aborts a held request and leaves nothing behind; a finish() from a held run ends it."""
    poll.setup(holdWaitMs=WAIT, script=[held(200), held(304, WAIT)])
    poll.run_for(1500)
    poll.js("poller.stop()")
    assert (poll.calls()[1]["reason"], poll.live_timers(), poll.live_listeners()) == ("AbortError", 0, 0)
    assert poll.state()["failures"] == 0
    poll.js("poller.stop()")
    poll.setup(holdWaitMs=WAIT, script=[held(200), {"kind": "finish", "held": True, "status": 200}])
    poll.run_for(60_000)
    assert len(poll.calls()) == 2
    state = poll.state()
    assert (state["state"], state["reason"], state["inFlight"]) == ("paused", "finished", False)
    assert (poll.live_timers(), poll.live_listeners()) == (0, 0)


def test_a_seed_from_a_held_stream(poll: PollPage) -> None:
    """A tab taking over a held stream (shared_poller.js) stays "live" through its first request."""
    poll.setup(holdWaitMs=WAIT, seed={"failures": 0, "held": True, "lastSuccessAt": T - 3000}, script=[held(304, WAIT)])
    state = poll.state()
    assert (state["state"], state["inFlight"], state["held"]) == ("live", True, True)
    assert [c["state"] for c in poll.changes()] == ["live"]
    poll.js("poller.stop()")
    poll.setup(holdWaitMs=WAIT, seed={"failures": 2, "held": True}, script=["hang"])
    assert (poll.state()["state"], poll.state()["held"]) == ("updating", False)  # failures win


def test_held_poll_options_are_checked(poll: PollPage) -> None:
    """minUpdateGapMs must be positive, holdWaitMs a number >= 0."""
    messages = poll.js(
        """async () => {
            const { Poller } = await import("/js/polling.js");
            const make = (options) => {
                try { new Poller({ task: async () => {}, intervalMs: 5000, ...options }); return "ok"; }
                catch (error) { return `${error.name}: ${error.message}`; }
            };
            return [make({ minUpdateGapMs: 0 }), make({ holdWaitMs: -1 }), make({ holdWaitMs: NaN }),
                    make({ minUpdateGapMs: 250, holdWaitMs: 0 })];
        }"""
    )
    assert messages == [
        "RangeError: Poller: minUpdateGapMs must be a positive number; got 0",
        "RangeError: Poller: holdWaitMs must be a number >= 0; got -1",
        "RangeError: Poller: holdWaitMs must be a number >= 0; got NaN",
        "ok",
    ]
