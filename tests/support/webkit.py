"""WebKit (Safari's engine) for the page tests: WebKitGTK driven by Selenium.

Debian's ``webkit2gtk-driver`` ships ``WebKitWebDriver``, which starts WebKitGTK's
MiniBrowser in automation mode. It needs an X display, so the session gets a private
Xvfb (``-displayfd`` picks a free display number). Nothing else is set on the browser:
giving Selenium a binary or arguments drops the driver's own ``--automation`` flag.

WebDriver classic has no pre-load script hook, no console API and no request
interception, so the pages are driven like this:

- Time: :data:`FAKE_CLOCK` is injected once a page has loaded. It replaces
  ``setTimeout``/``clearTimeout`` and ``Date.now`` by a clock that moves only when a test
  says; :meth:`WebKitPage.open` then hides and shows the page (emulated visibility), which
  makes the pollers drop their real timers and fetch at once, so every later poll is on
  the fake clock.
- Requests: ``window.fetch`` is wrapped after load (:data:`support.dashboard.PAGE_PROBES`:
  each fetch with its fake time, and how many are still open).
- Errors: ``error`` and ``unhandledrejection`` events and ``console.error`` are recorded
  after load; a page whose modules failed to load shows no data, which every test checks.
- Failures: made with the test server itself (a server that stops, then starts again),
  not by blocking requests.

The automation window's toolbar holds it at 447 px or more; a GTK style sheet of the
session's own (in a private ``XDG_CONFIG_HOME``) lets it shrink, for the 390 px phone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.dashboard import PAGE_PROBES, SET_VISIBILITY
from support.drills import wait_for

DRIVER = "/usr/bin/WebKitWebDriver"
REAL_WAIT_S = 10.0
SCREEN = (1600, 4000)  # the virtual screen: room for a whole page in one window

# Lets the automation window (and its toolbar) be narrower than its natural 447 px.
GTK_CSS = "* { min-width: 0; padding: 0; margin: 0; }\n"

# A clock that moves only when the test says (window.__clock.runFor(ms)): due timers run
# in time order, each seeing Date.now() at its due time. Real timers (set before it was
# installed, or by the driver) can still be cleared: its own ids start far above them.
FAKE_CLOCK = """
(() => {
  if (window.__clock) return;
  const realSet = window.setTimeout.bind(window);
  const realClear = window.clearTimeout.bind(window);
  // WebKitWebDriver times its own scripts with the page's setTimeout: only timers set
  // by the page's modules (their URLs are in the stack) go on the fake clock.
  const page = `${location.origin}/`;
  const fromPage = () => (new Error().stack ?? "").includes(page);
  let now = Date.now();
  let nextId = 1_000_000_000;
  const timers = new Map();
  window.setTimeout = (callback, delay = 0, ...args) => {
    if (!fromPage()) return realSet(callback, delay, ...args);
    const id = nextId++;
    timers.set(id, { at: now + Math.max(0, Number(delay) || 0), callback, args, id });
    return id;
  };
  window.clearTimeout = (id) => {
    if (!timers.delete(id)) realClear(id);
  };
  Date.now = () => now;
  window.__clock = {
    now: () => now,
    runFor(ms) {
      const end = now + ms;
      for (let fired = 0; ; fired++) {
        if (fired > 1000) throw new Error("fake clock: more than 1,000 timers in one step (a timer loop?)");
        let due = null;
        for (const timer of timers.values()) {
          if (timer.at <= end && (due === null || timer.at < due.at || (timer.at === due.at && timer.id < due.id))) due = timer;
        }
        if (due === null) break;
        timers.delete(due.id);
        now = Math.max(now, due.at);
        due.callback(...due.args);
      }
      now = end;
    },
  };
})();
"""

# Records page errors and console errors from now on (CSP violations: PAGE_PROBES).
ERROR_PROBES = """
(() => {
  if (window.__errors) return;
  window.__errors = [];
  window.addEventListener("error", (event) => window.__errors.push(`error: ${event.message}`));
  window.addEventListener("unhandledrejection", (event) => window.__errors.push(`rejection: ${event.reason}`));
  const realError = console.error.bind(console);
  console.error = (...args) => { window.__errors.push(`console: ${args.join(" ")}`); realError(...args); };
})();
"""


class WebKitUnavailable(Exception):
    """WebKitWebDriver or Xvfb is not installed (the message says which)."""


def missing_programs() -> list[str]:
    """The programs the WebKit suite needs that are not installed (Debian packages named)."""
    missing = []
    if not os.access(DRIVER, os.X_OK):
        missing.append(f"{DRIVER} (Debian package webkit2gtk-driver)")
    if shutil.which("Xvfb") is None:
        missing.append("Xvfb (Debian package xvfb)")
    return missing


@contextmanager
def webkit_driver(scheme: str = "light") -> Iterator[Any]:
    """A WebKitGTK session under a private Xvfb; both end with the block. With ``scheme``
    "dark" the pages see ``prefers-color-scheme: dark`` (GTK's dark theme)."""
    assert scheme in ("light", "dark"), scheme
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.service import Service

    missing = missing_programs()
    if missing:
        raise WebKitUnavailable("not installed: " + ", ".join(missing))
    home = Path(tempfile.mkdtemp(prefix="jobdash-webkit-"))
    (home / "gtk-3.0").mkdir()
    (home / "gtk-3.0" / "gtk.css").write_text(GTK_CSS)
    xvfb, display = _start_xvfb()
    try:
        env = dict(os.environ, DISPLAY=f":{display}", XDG_CONFIG_HOME=str(home))
        if scheme == "dark":
            env["GTK_THEME"] = "Adwaita:dark"
        with warnings.catch_warnings():
            # Selenium's own WebKitGTK driver still builds its connection the deprecated way.
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            driver = webdriver.WebKitGTK(service=Service(executable_path=DRIVER, env=env))
        try:
            driver.set_script_timeout(REAL_WAIT_S)
            yield driver
        finally:
            driver.quit()
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def _start_xvfb() -> tuple[subprocess.Popen[bytes], int]:
    """Start Xvfb on a free display; return it and its display number.

    The number is picked by hand (a lock file and socket that do not exist yet, from an
    offset of this process's own, as pytest-xdist runs several at once) and the server is
    ready when its socket appears; a number taken meanwhile makes Xvfb exit, and the next
    one is tried.
    """
    first = 100 + os.getpid() % 400
    for display in range(first, first + 50):
        if Path(f"/tmp/.X{display}-lock").exists() or Path(f"/tmp/.X11-unix/X{display}").exists():
            continue
        xvfb = subprocess.Popen(
            ["Xvfb", f":{display}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + REAL_WAIT_S
        while xvfb.poll() is None and time.monotonic() < deadline:
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                return xvfb, display
            time.sleep(0.02)
        xvfb.kill()
        xvfb.wait()
    raise WebKitUnavailable(f"Xvfb did not start on any display from :{first} to :{first + 49}")


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    """:func:`support.drills.wait_for` with this suite's real-time bound."""
    return wait_for(condition, REAL_WAIT_S, what, every=0.02)


def resize(driver: Any, width: int, height: int) -> None:
    """Size the window and wait until the page has the new width (the resize is applied
    asynchronously)."""
    driver.set_window_size(width, height)
    wait_until(lambda: driver.execute_script("return innerWidth") == width, f"the window {width} px wide")


class WebKitPage:
    """A jobdash page in WebKit, under the injected fake clock, with its fetches logged.

    ``api_prefix`` picks which fetches count, as in :class:`support.dashboard.ClockedPage`.
    """

    def __init__(self, driver: Any, server: Any, api_prefix: str = "/api/") -> None:
        self.driver = driver
        self.server = server
        self.api_prefix = api_prefix

    # --- opening and time ---------------------------------------------------------------

    def open(self, path: str, *, shown: str) -> WebKitPage:
        """Load ``path``, wait until ``shown`` (a CSS selector) is on the page and nothing
        is in flight, then move the page onto the fake clock."""
        self.driver.get(self.server.url(path))
        wait_until(lambda: self.js(f"return document.querySelector({shown!r}) !== null"), f"{shown} on {path}")
        self.wait_idle()
        self.js(ERROR_PROBES + PAGE_PROBES + FAKE_CLOCK)
        # The pollers' timers so far are real ones: hiding the page clears them, showing
        # it fetches at once and schedules the next poll on the fake clock.
        self.set_visibility("hidden")
        self.set_visibility("visible")
        self.js("delete document.visibilityState; delete document.hidden;")
        self.settle()
        return self

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def now(self) -> int:
        return int(self.js("return window.__clock.now()"))

    def wait_idle(self) -> None:
        """Wait (real time) until no indicator on the page says "updating"."""
        wait_until(
            lambda: self.js("return document.querySelector('[data-state=\"updating\"]') === null"),
            "the page to finish its requests",
        )

    def settle(self) -> None:
        """Wait until every fetch the page started has been answered and rendered."""
        wait_until(
            lambda: self.js("return (document.documentElement.getAttribute('data-test-inflight') ?? '0') === '0'"),
            "the page's fetches to finish",
        )
        self.wait_idle()

    def run_for(self, ms: int) -> list[int]:
        """Advance the fake clock by ``ms``, let the requests it started finish; return
        when (ms after the step began) each counted request started."""
        start, before = self.now(), len(self.fetches())
        self.js("window.__clock.runFor(arguments[0])", ms)
        self.settle()
        return [f["at"] - start for f in self.fetches()[before:]]

    def set_visibility(self, state: str) -> None:
        self.js(f"({SET_VISIBILITY})(arguments[0])", state)

    # --- reading the page -----------------------------------------------------------------

    def fetches(self) -> list[dict[str, Any]]:
        """Every counted API fetch since the probes went in: {"at": fake ms, "url"}."""
        return [f for f in self.js("return window.__fetches") if self.api_prefix in f["url"]]

    def errors(self) -> list[str]:
        """Page errors and console errors since the probes went in."""
        return list(self.js("return window.__errors"))

    def state(self) -> str:
        return str(self.js("return document.getElementById('connection-status').dataset.state"))

    def text(self, selector: str) -> str:
        return str(self.js("return document.querySelector(arguments[0]).textContent", selector))

    def assert_strict_csp(self) -> None:
        """Assert the page runs under its CSP <meta> without unsafe-inline or unsafe-eval
        and no style attributes, and that WebKit enforces it: an inline script added now
        does not run, and is reported."""
        csp = self.attribute('meta[http-equiv="Content-Security-Policy"]', "content")
        assert csp and "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        assert self.js("return document.querySelectorAll('[style]:not(.progress-fill)').length") == 0
        assert self.js("return window.__cspViolations") == []
        self.js(
            "const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s);"
        )
        wait_until(lambda: self.js("return window.__cspViolations.length") > 0, "the violation report")
        assert self.js("return window.__cspViolations") == ["script-src-elem inline"]
        assert self.js("return window.__inline === undefined")

    def attribute(self, selector: str, name: str) -> str | None:
        return self.js(
            "return document.querySelector(arguments[0])?.getAttribute(arguments[1]) ?? null", selector, name
        )


def check_webkit_layout(page: WebKitPage, shots: Path | None, filename: str, scheme: str, badges: str) -> None:
    """:func:`support.screens.check_layout` for a WebKit page: the same checks (on the
    visible badges matched by ``badges``, and the axe-core audit), then a screenshot of the whole document as
    ``shots/webkit-filename``."""
    from support.accessibility import assert_accessible_webdriver
    from support.screens import assert_layout

    filename = f"webkit-{filename}"
    assert_layout(
        filename,
        page.js("return document.documentElement.scrollWidth - window.innerWidth"),
        page.js(
            "return [...document.querySelectorAll(arguments[0])].filter((b) => b.checkVisibility()).map((b) => b.innerText)",
            badges,
        ),
        page.js("return getComputedStyle(document.body).backgroundColor"),
        scheme,
    )
    assert_accessible_webdriver(page.driver, filename)
    if shots is None:
        return
    # The whole document: the window as tall as the document for one viewport shot (an
    # element shot of <html> keeps only what is in view), then back to its size.
    driver = page.driver
    size = driver.get_window_size()
    height = min(page.js("return document.documentElement.scrollHeight"), SCREEN[1])
    height = max(height, size["height"])
    inner = page.js("return innerHeight") + height - size["height"]  # the window has a toolbar
    driver.set_window_size(size["width"], height)
    wait_until(lambda: page.js("return innerHeight") == inner, "the window resized")
    # Two frames: the resized page has been laid out and painted.
    driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")
    driver.save_screenshot(str(shots / filename))
    driver.set_window_size(size["width"], size["height"])
