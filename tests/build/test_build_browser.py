"""A built page runs in the system Chromium under its own CSP <meta>, on a plain static
host (python's http.server: no CSP header, no server help), with assets on the same
origin or on another one (a CDN)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jobdash.build import build, config_from_values
from support.frontend_tree import make_frontend

pytestmark = pytest.mark.browser

# Installed before any page script runs: records every CSP violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    cors = False

    def end_headers(self) -> None:
        if self.cors:
            # Module scripts from another origin are fetched in CORS mode.
            self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _CorsHandler(_QuietHandler):
    cors = True


@contextmanager
def static_host(directory: Path, handler: type[_QuietHandler] = _QuietHandler) -> Iterator[str]:
    """Serve ``directory`` on a free loopback port; yield its base URL (ending in "/")."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def open_page(page: Any, url: str) -> dict[str, Any]:
    """Open ``url``, wait for its entry module to finish, and return what it reported."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(url)
    page.wait_for_selector("body[data-ready]", state="attached", timeout=10_000)
    report = page.evaluate(
        """() => ({
            ready: document.body.dataset.ready,
            result: document.body.dataset.result,
            color: document.body.dataset.color,
            violations: window.__cspViolations,
            csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
            preloads: [...document.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.href),
        })"""
    )
    report["requests"] = requests
    return report


def test_the_page_runs_under_its_csp_on_a_plain_static_host(page: Any, tmp_path: Path) -> None:
    out = build(make_frontend(tmp_path / "frontend"), tmp_path / "dist").out
    with static_host(out) as base:
        report = open_page(page, base + "index.html")
        assert report["ready"] == "index"
        # Static imports (through the import map, one level nested), the dynamic import,
        # and the stylesheet all worked.
        assert report["result"] == "hello jobs 42 lazy"
        assert report["color"] == "rgb(1, 2, 3)"
        assert report["violations"] == []
        assert "script-src 'self' 'sha256-" in report["csp"]
        assert len(report["preloads"]) == 4
        # Only hashed files were fetched: no unhashed module URL ever reached the server.
        fetched = [url.removeprefix(base) for url in report["requests"]]
        modules = [url for url in fetched if url.endswith(".js")]
        assert len(modules) == 5 and all(url.count(".") == 2 for url in modules), fetched
        assert "assets/js/unused." not in " ".join(fetched)


def test_a_page_with_a_query_string_runs(page: Any, tmp_path: Path) -> None:
    out = build(make_frontend(tmp_path / "frontend"), tmp_path / "dist").out
    with static_host(out) as base:
        report = open_page(page, base + "job.html?id=3f2a9c1e-0000-4000-8000-000000000000")
        assert report["ready"] == "job"
        assert report["result"] == "hello 3f2a9c1e-0000-4000-8000-000000000000"
        assert report["violations"] == []


def test_assets_on_another_origin_are_allowed_by_the_csp(page: Any, tmp_path: Path) -> None:
    frontend = make_frontend(tmp_path / "frontend")
    with static_host(tmp_path / "dist", _CorsHandler) as cdn:
        config, _ = config_from_values({"asset_base_url": cdn + "jobdash"})
        out = build(frontend, tmp_path / "dist" / "jobdash", config).out
        with static_host(out) as site:
            report = open_page(page, site + "index.html")
    assert report["ready"] == "index" and report["result"] == "hello jobs 42 lazy"
    assert report["color"] == "rgb(1, 2, 3)"
    assert report["violations"] == []
    assert cdn.rstrip("/") in report["csp"]
    assert all(url.startswith(cdn + "jobdash/assets/js/") for url in report["preloads"])


def test_a_module_without_the_csp_hash_would_be_blocked(page: Any, tmp_path: Path) -> None:
    # The check the other tests rely on: a violation is seen and reported as a console error.
    out = build(make_frontend(tmp_path / "frontend"), tmp_path / "dist").out
    index = out / "index.html"
    index.write_text(index.read_text().replace("'sha256-", "'sha256-AAAA"))
    with static_host(out) as base:
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(base + "index.html")
        page.wait_for_function("window.__cspViolations.length > 0", timeout=10_000)
        assert "script-src" in page.evaluate("window.__cspViolations[0]")
        # Leave the page while the host still answers: what it still loads (a favicon's
        # 404, say) is reported before the errors are cleared, not after.
        page.goto("about:blank")
    assert page.console_errors, "the page fixture sees CSP violations as console errors"
    page.console_errors.clear()
