"""axe-core audits of a page as it is (axe-playwright-python bundles axe-core).

The pages must have no violation at the "serious" or "critical" level; a failing audit
lists each violation with its rule, the elements and what axe says is wrong.

axe schedules its own work with timers; under Playwright's paused fake clock those would
never fire, so for the audit's duration the page's timer functions are the real ones
(the clock keeps them in ``window.__pwClock.builtins``), then the fake ones again. The
page is idle meanwhile (the tests audit after their requests have settled), and the fake
time does not move.
"""

from __future__ import annotations

from functools import cache
from typing import Any

#: The impact levels that fail an audit.
BLOCKING = frozenset({"serious", "critical"})


@cache
def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def blocking_violations(violations: list[dict[str, Any]]) -> list[str]:
    """Given axe's violations, return one line per serious or critical one (rule, impact,
    the elements, axe's summary)."""
    lines = []
    for violation in violations:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        summary = violation["nodes"][0].get("failureSummary", "").replace("\n", " ") if violation["nodes"] else ""
        lines.append(f"{violation['id']} ({violation['impact']}): {targets} — {summary}")
    return lines


#: Swaps the page's timer functions for the real ones (true) and back (false).
REAL_TIMERS = """(on) => {
  const clock = window.__pwClock;
  if (!clock) return;
  const names = ["setTimeout", "clearTimeout", "setInterval", "clearInterval",
                 "requestAnimationFrame", "cancelAnimationFrame"];
  if (on) {
    window.__fakeTimers = Object.fromEntries(names.map((name) => [name, window[name]]));
    for (const name of names) window[name] = clock.builtins[name];
  } else if (window.__fakeTimers) {
    Object.assign(window, window.__fakeTimers);
    delete window.__fakeTimers;
  }
}"""


def assert_accessible(page: Any, what: str) -> None:
    """Run axe-core on the page (a Playwright page) and fail on any serious or critical
    violation, naming ``what`` (the state audited)."""
    page.evaluate(REAL_TIMERS, True)
    try:
        results = _axe().run(page, options={"resultTypes": ["violations"]})
    finally:
        page.evaluate(REAL_TIMERS, False)
    assert_no_blocking(results.response["violations"], what)


def assert_accessible_webdriver(driver: Any, what: str) -> None:
    """:func:`assert_accessible` for a Selenium session (the WebKit suite): the same
    axe-core, injected with the driver. (The WebKit suite's fake clock takes only the
    page's own modules' timers, so axe runs on real ones.)"""
    driver.execute_script(_axe().axe_script)
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, { resultTypes: ['violations'] }).then(done, (error) => done({ error: String(error) }));"
    )
    assert "error" not in results, f"{what}: axe-core failed: {results.get('error')}"
    assert_no_blocking(results["violations"], what)


def assert_no_blocking(violations: list[dict[str, Any]], what: str) -> None:
    """Fail, naming ``what``, if axe's violations include a serious or critical one."""
    problems = blocking_violations(violations)
    assert not problems, f"{what}: axe-core found {len(problems)} serious/critical violation(s):\n" + "\n".join(
        problems
    )
