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


@contextmanager
def watched_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    """A fresh page in its own context that fails on any console or page error.

    ``page.console_errors`` lists what was logged; tests that expect errors (a failed
    request shows as one) inspect and clear it.
    """
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"console errors in the page: {errors}"
