"""Support for the unit tests of the frontend's ES modules (tests/frontend/).

- ``HarnessServer``: serves frontend/ as-is and a blank page at ``/`` (like
  browser_support.module_server), plus scripted JSON API routes under ``/api/test/`` for the
  api_client tests: ETags and 304s, errors with Retry-After, non-JSON bodies, a slow
  answer, a header echo, and CORS for a page on another origin.
- ``harness``: a fixture with that server (modules import ``harness_fixture`` to use it).
- ``open_module_page``: open the blank page, optionally under Playwright's fake clock
  (installed before the page loads and paused, so every timer fires only when a test
  advances the clock with ``page.clock.run_for``).
- ``SPY_WINDOW_JS``: an in-page ``windowRef`` that counts live timers and listeners.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from typing import Any

import pytest

from support.browser import FRONTEND

#: The blank page. Its icon link keeps Chromium from requesting /favicon.ico (a 404 there
#: would be a console error, which the `page` fixture fails on).
HARNESS_HTML = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>module harness</title></head><body></body></html>"""

#: Fake-clock start (ms since the epoch) and the time at which it is paused.
CLOCK_INSTALL_MS = 1_700_000_000_000
CLOCK_START_MS = CLOCK_INSTALL_MS + 60_000

ETAG = '"jobs-v1"'


class _Handler(http.server.SimpleHTTPRequestHandler):
    """frontend/ as static files, ``/`` as a blank page, ``/api/test/*`` as scripted JSON."""

    server: HarnessHTTPServer

    def do_OPTIONS(self) -> None:
        self.server.requests.append({"method": "OPTIONS", "path": self.path, "headers": dict(self.headers)})
        self.send_response(204)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET")
        self.send_header("Access-Control-Allow-Headers", "If-None-Match")
        self.send_header("Access-Control-Max-Age", "0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
            return
        if self.path in ("/", "/harness.html") or self.path.startswith("/?"):
            self._send(200, HARNESS_HTML, "text/html; charset=utf-8")
            return
        if self.path.startswith("/api/test/"):
            self.server.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
            self._api()
            return
        super().do_GET()

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        if origin and origin in self.server.cors_origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Expose-Headers", "ETag, Retry-After")
            self.send_header("Vary", "Origin")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self._cors()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _api(self) -> None:
        route = self.path.split("?", 1)[0].removeprefix("/api/test/")
        if route == "etag":
            if self.headers.get("If-None-Match") == ETAG:
                self._send(304, b"", "application/json", {"ETag": ETAG})
            else:
                self._json(200, {"jobs": [{"id": "a"}], "total": 1}, {"ETag": ETAG})
        elif route == "busy":
            self._json(503, {"error": "the job store is unavailable; try again shortly"}, {"Retry-After": "30"})
        elif route == "busy-date":
            when = formatdate(time.time() + 90, usegmt=True)
            self._json(503, {"error": "maintenance"}, {"Retry-After": when})
        elif route == "bad-request":
            self._json(400, {"error": "status must be one of queued, running; got 'x'"})
        elif route == "html-error":
            self._send(502, b"<html><body>Bad gateway</body></html>", "text/html")
        elif route == "not-json":
            self._send(200, b"<html>not json</html>", "text/html")
        elif route == "echo":
            self._json(200, {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
        elif route == "slow":
            time.sleep(1.0)
            self._json(200, {"slow": True})
        else:
            self._json(404, {"error": f"no such test route: {route}"})

    def log_message(self, format: str, *args: object) -> None:
        pass


class HarnessHTTPServer(http.server.ThreadingHTTPServer):
    """The server, with the requests it saw and its CORS allow-list."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[dict[str, Any]] = []
        self.cors_origins: set[str] = set()

    @property
    def base(self) -> str:
        """The base URL (no trailing slash)."""
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def harness_server() -> Iterator[HarnessHTTPServer]:
    """Run a HarnessHTTPServer on a free loopback port for the duration of the block."""
    handler = functools.partial(_Handler, directory=str(FRONTEND))
    server = HarnessHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session", name="harness")
def harness_fixture() -> Iterator[HarnessHTTPServer]:
    """The `harness` fixture: a HarnessHTTPServer for the session.

    Test modules import it (``from js_harness import harness_fixture``) to use ``harness``.
    """
    with harness_server() as server:
        yield server


def open_module_page(page: Any, base: str, *, clock: bool = False, path: str = "/") -> None:
    """Open the blank harness page; with ``clock``, under a paused fake clock.

    With the clock, ``Date.now()`` is CLOCK_START_MS when the test begins, and timers fire
    only inside ``page.clock.run_for(ms)`` (microtasks run between timers).
    """
    if clock:
        page.clock.install(time=CLOCK_INSTALL_MS / 1000)  # Python's API takes seconds
    page.goto(base + path)
    if clock:
        page.clock.pause_at(CLOCK_START_MS / 1000)


#: Defines window.spyWindow(): a windowRef that delegates to window and counts the live
#: timers (set, not yet fired or cleared) and attached listeners.
SPY_WINDOW_JS = """
() => {
  window.spyWindow = () => {
    const timers = new Set();
    const listeners = new Map();
    return {
      get navigator() { return window.navigator; },
      setTimeout(fn, ms) {
        const id = window.setTimeout(() => { timers.delete(id); fn(); }, ms);
        timers.add(id);
        return id;
      },
      clearTimeout(id) { timers.delete(id); window.clearTimeout(id); },
      addEventListener(type, fn, options) {
        listeners.set(type, (listeners.get(type) ?? 0) + 1);
        window.addEventListener(type, fn, options);
      },
      removeEventListener(type, fn, options) {
        listeners.set(type, (listeners.get(type) ?? 0) - 1);
        window.removeEventListener(type, fn, options);
      },
      liveTimers: () => timers.size,
      liveListeners: () => [...listeners.values()].reduce((a, b) => a + b, 0),
    };
  };
}
"""


#: Defines window.setupPoller(options): a Poller (window.poller) around a scripted task.
#: Each call of the task takes the next step of window.script (default "ok"):
#:   "ok" / "fail"              settle in a microtask ({kind: "fail", retryAfterMs} too)
#:   {kind: "slow", ms, fail}   settle after ms of (fake) time; an abort rejects at once
#:   "hang"                     settle only when aborted (rejects with the signal's reason)
#:   {kind: "deaf", ms}         ignore aborts; resolve after ms
#:   "finish"                   call poller.finish() from inside the task, then resolve
#:   "selfabort"                reject with an AbortError of its own (signal not aborted)
#: A step with `held` (e.g. {kind: "slow", ms: 25000, held: true, status: 304}) resolves to
#: {held, status} (status default 200), as a page's task does with held polls.
#: window.calls records each call {at, end, outcome, aborted, reason, hold} (hold: the
#: run's RunOptions.hold, whether it may ask for a hold);
#: window.changes every onStateChange snapshot (plus `at`), also passed to
#: window.onPollerState when a test defines it; window.maxInFlight the most
#: task calls ever unsettled at once; window.win the spy windowRef.
POLL_HARNESS_JS = (
    SPY_WINDOW_JS.rstrip().removesuffix("}")
    + """
  window.setupPoller = async (options = {}) => {
    const { Poller } = await import("/js/polling.js");
    const { createLogger } = await import("/js/debug_log.js");
    window.calls = [];
    window.changes = [];
    window.script = options.script ? [...options.script] : [];
    window.maxInFlight = 0;
    let inFlight = 0;
    const task = (signal, run) => {
      const call = { at: Date.now(), end: null, outcome: null, aborted: false, reason: null, hold: run?.hold ?? null };
      calls.push(call);
      inFlight += 1;
      window.maxInFlight = Math.max(window.maxInFlight, inFlight);
      const raw = script.length ? script.shift() : "ok";
      const step = typeof raw === "string" ? { kind: raw } : raw;
      return new Promise((resolve, reject) => {
        const settle = (outcome, error) => {
          if (call.end !== null) return;
          call.end = Date.now();
          call.outcome = outcome;
          inFlight -= 1;
          if (error) reject(error);
          else resolve(step.held === undefined ? undefined : { held: step.held, status: step.status ?? 200 });
        };
        const failure = () => {
          const error = new Error("scripted failure");
          if (step.retryAfterMs) error.retryAfterMs = step.retryAfterMs;
          return error;
        };
        signal.addEventListener("abort", () => {
          call.aborted = true;
          call.reason = signal.reason?.name ?? null;
          if (step.kind !== "deaf" && step.kind !== "finish") settle("aborted", signal.reason);
        });
        if (step.kind === "ok") queueMicrotask(() => settle("ok"));
        else if (step.kind === "fail") queueMicrotask(() => settle("fail", failure()));
        else if (step.kind === "slow") {
          setTimeout(() => settle(step.fail ? "fail" : "ok", step.fail ? failure() : null), step.ms);
        } else if (step.kind === "deaf") setTimeout(() => settle("ok"), step.ms);
        else if (step.kind === "finish") { window.poller.finish(); queueMicrotask(() => settle("ok")); }
        else if (step.kind === "selfabort") {
          queueMicrotask(() => settle("selfabort", new DOMException("own abort", "AbortError")));
        }
        // "hang": only an abort settles it
      });
    };
    window.win = window.spyWindow();
    window.poller = new Poller({
      task,
      intervalMs: options.intervalMs ?? 5000,
      enabled: options.enabled ?? true,
      timeoutMs: options.timeoutMs ?? 10000,
      ...(options.holdWaitMs === undefined ? {} : { holdWaitMs: options.holdWaitMs }),
      ...(options.minUpdateGapMs === undefined ? {} : { minUpdateGapMs: options.minUpdateGapMs }),
      name: "test",
      log: createLogger(options.debug ?? false),
      onStateChange: (state) => {
        changes.push({ ...state, at: Date.now() });
        window.onPollerState?.(state);
      },
      windowRef: window.win,
    });
    if (options.start !== false) window.poller.start(options.seed);
  };
  window.setVisibility = (value) => {
    Object.defineProperty(document, "visibilityState", { value, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  };
}
"""
)
