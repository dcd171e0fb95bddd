"""Browser test support: the system Chromium, and a static server for module tests.

Playwright's own browser download is not available everywhere, so tests drive the
system Chromium (Debian's ``chromium``), found on PATH or named by JOBDASH_CHROMIUM.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"

# Flags for a headless Chromium on a machine with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """Return the system Chromium's path, or raise with what to install."""
    named = os.environ.get("JOBDASH_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "no Chromium found for the browser tests: install the chromium package "
        "(./scripts/test does this on Debian as root) or set JOBDASH_CHROMIUM"
    )


FIREFOX_CANDIDATES = ("firefox-esr", "firefox")


def firefox_path() -> str | None:
    """Return the system Firefox's path (Debian's firefox-esr), or None."""
    named = os.environ.get("JOBDASH_FIREFOX")
    if named:
        return named
    return next((found for name in FIREFOX_CANDIDATES if (found := shutil.which(name))), None)


def launch(playwright: Any, engine: str) -> Any:
    """Launch the system browser of ``engine`` headless through Playwright; pytest.skip,
    naming the package to install, where it is missing. Playwright's own browser
    downloads are never used (they are not available everywhere)."""
    import pytest

    if engine == "chromium":
        return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    assert engine == "firefox", engine
    firefox = firefox_path()
    if firefox is None:
        pytest.skip("Firefox is not installed: install Debian's firefox-esr (./scripts/test does as root)")
    # WebDriver BiDi through the moz-firefox channel: Playwright 1.64 (pinned for it).
    return playwright.firefox.launch(channel="moz-firefox", executable_path=firefox, headless=True)


HARNESS_HTML = b"""<!doctype html><html><head><meta charset="utf-8"><title>module harness</title>
<link rel="icon" href="data:,">
</head><body></body></html>"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves frontend/ as-is (ES modules load natively), plus a blank page at /."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path in ("/", "/harness.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(HARNESS_HTML)))
            self.end_headers()
            self.wfile.write(HARNESS_HTML)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def module_server() -> Iterator[str]:
    """Serve frontend/ on a free loopback port; yield its base URL (no trailing slash).

    Module unit tests open ``<base>/`` and ``import("/js/<module>.js")`` in the page.
    """
    handler = functools.partial(_Handler, directory=str(FRONTEND))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# A Playwright screenshot in Firefox injects one <style> (hiding the caret) that the
# pages' strict CSP rightly blocks; Firefox reports that as a console error. Only that
# report, matched by its text and the hash of that very style, is not the page's fault.
SCREENSHOT_STYLE_BLOCKED = (
    "blocked an inline style (style-src-elem)",
    "sha256-YjaKGiklmzC6wjXA513HAMmzus8VE61XCOT+SmwNZWA=",
)

# How each engine reports a request that failed (an HTTP error, a refused connection,
# a blocked cross-origin read): Chromium logs every failed load; Firefox logs only
# requests that got no answer at all.
LOAD_ERROR_MARKERS = ("Failed to load resource", "CORS request did not succeed", "NetworkError when attempting")


# What each engine writes to the console for a request that fails on purpose in a drill
# (None: that engine writes nothing for it).
FAILED_REQUEST_TEXT: dict[str, dict[str, str | None]] = {
    "chromium": {
        "refused": "Failed to load resource: net::ERR_CONNECTION_REFUSED",
        "cors_blocked": "has been blocked by CORS policy",
        "cors_failed": "Failed to load resource: net::ERR_FAILED",
    },
    "firefox": {
        "refused": None,
        "cors_blocked": "(Reason: CORS header ‘Access-Control-Allow-Origin’ missing)",
        "cors_failed": None,
    },
}


def failed_request_text(page: Any, kind: str) -> str | None:
    """Given a page and a kind of failed request (refused, cors_blocked, cors_failed),
    return what its engine logs for it, or None if it logs nothing."""
    return FAILED_REQUEST_TEXT[engine_of(page)][kind]


def is_load_error(text: str) -> bool:
    """Given a console error's text, return True if it reports a failed request."""
    return any(marker in text for marker in LOAD_ERROR_MARKERS)


def engine_of(page: Any) -> str:
    """Given a Playwright page, return its engine's name: chromium or firefox."""
    return str(page.context.browser.browser_type.name)


def track_console_errors(page: Any) -> list[str]:
    """Record the page's console errors and page errors in ``page.console_errors``
    (leaving out only the screenshot style report above)."""
    errors: list[str] = []

    def note(text: str) -> None:
        if not all(part in text for part in SCREENSHOT_STYLE_BLOCKED):
            errors.append(text)

    page.on("console", lambda msg: note(msg.text) if msg.type == "error" else None)
    # Firefox reports a CSP violation as an error of the page, not of the console.
    page.on("pageerror", lambda exc: note(str(exc)))
    page.console_errors = errors
    return errors


def drop_load_errors(page: Any) -> None:
    """Drop the console errors an engine logs for requests a test made fail on purpose."""
    page.console_errors[:] = [text for text in page.console_errors if not is_load_error(text)]


_DARK_FIREFOX: dict[int, Any] = {}


def _for_options(browser: Any, context_options: dict[str, Any]) -> Any:
    """Given a browser and the options of a new context, return the browser to open it
    in. Firefox through WebDriver BiDi ignores a context's ``color_scheme``; its
    preference does the same for a whole browser, so dark pages open in a second Firefox
    launched with it (one per session, closed with Playwright)."""
    if context_options.get("color_scheme") != "dark" or browser.browser_type.name != "firefox":
        return browser
    dark = _DARK_FIREFOX.get(id(browser))
    if dark is None or not dark.is_connected():
        dark = _DARK_FIREFOX[id(browser)] = browser.browser_type.launch(
            channel="moz-firefox",
            executable_path=firefox_path(),
            headless=True,
            firefox_user_prefs={"layout.css.prefers-color-scheme.content-override": 0},
        )
    return dark


@contextmanager
def watched_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    """A fresh page in its own context that fails on any console or page error.

    ``page.console_errors`` lists what was logged; tests that expect errors (a failed
    request shows as one) inspect and clear it.
    """
    context = _for_options(browser, context_options).new_context(**context_options)
    page = context.new_page()
    errors = track_console_errors(page)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"console errors in the page: {errors}"
