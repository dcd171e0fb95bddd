"""frontend/js/api_client.js against a real HTTP server (tests/support/js_harness.py)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from support.browser import engine_of, is_load_error
from support.js_harness import (
    ETAG,
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    harness_server,
    open_module_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(harness: HarnessHTTPServer) -> HarnessHTTPServer:
    """The harness server: frontend/ plus scripted /api/test/ routes."""
    return harness


def expect_load_errors(page: Any, *fragments: str) -> None:
    """Chromium logs every failed load (HTTP error, refused connection) as a console
    error, Firefox only a request that got no answer: check that reports of failed loads
    are all there is (and that Chromium made one), then clear them for the `page` fixture."""
    errors = page.console_errors
    for _ in range(100):  # console events arrive asynchronously: pump round trips
        if errors:
            break
        page.evaluate("0")
    if engine_of(page) == "chromium":
        assert errors, "expected Chromium to log the failed load"
        assert all(any(f in e for f in fragments) for e in errors), errors
    assert all(is_load_error(e) for e in errors), errors
    errors.clear()


@pytest.fixture
def api(page: Any, server: HarnessHTTPServer) -> Any:
    """api(script, arg) -> the value of `script(m, arg)` in the page (m: api_client.js)."""
    open_module_page(page, server.base)
    server.requests.clear()

    def run(script: str, arg: Any = None) -> Any:
        return page.evaluate(
            f"""async (arg) => {{
                const m = await import("/js/api_client.js");
                return await ({script})(m, arg);
            }}""",
            arg,
        )

    return run


# Turns a thrown error into a plain object the test can compare.
CATCH = """(promise) => promise.then(
    (value) => ({ ok: true, value }),
    (e) => ({ ok: false, name: e.name, message: e.message, status: e.status,
              retryAfterMs: e.retryAfterMs, isApiError: e.constructor.name === "ApiError",
              isTypeError: e instanceof TypeError, body: e.body ?? null }))"""


# --- apiUrl ------------------------------------------------------------------------------


def test_api_url(api: Any) -> None:
    """Same origin: an absolute path; else resolved against the base; empty params dropped, sorted."""
    table = [
        ("", "api/jobs", {}, "/api/jobs"),
        ("", "/api/jobs", {}, "/api/jobs"),
        ("", "api/jobs", {"status": "running", "limit": 50, "offset": 0}, "/api/jobs?limit=50&offset=0&status=running"),
        (
            "",
            "api/jobs",
            {"type": None, "since": "", "status": None, "sort": "-created_at"},
            "/api/jobs?sort=-created_at",
        ),
        ("", "api/jobs", {"path": "a b&c=d/é"}, "/api/jobs?path=a+b%26c%3Dd%2F%C3%A9"),
        ("", "api/jobs", {"status": ["queued", "", "running"]}, "/api/jobs?status=queued&status=running"),
        ("https://api.example.com/", "api/jobs", {"limit": 10}, "https://api.example.com/api/jobs?limit=10"),
        (
            "https://api.example.com/root/",
            "api/jobs/x/logs",
            {"offset": 5},
            "https://api.example.com/root/api/jobs/x/logs?offset=5",
        ),
        ("https://api.example.com/", "/api/config/polling", {}, "https://api.example.com/api/config/polling"),
    ]
    urls = api("(m, rows) => rows.map((row) => m.apiUrl(...row))", [list(row[:3]) for row in table])
    assert urls == [row[3] for row in table]


def test_api_url_order_does_not_depend_on_object_order(api: Any) -> None:
    """The same parameters give the same URL whatever order the object was built in."""
    urls = api("""(m) => [
        m.apiUrl("", "api/jobs", { status: "failed", type: "scan", offset: 50 }),
        m.apiUrl("", "api/jobs", { offset: 50, type: "scan", status: "failed" }),
    ]""")
    assert urls[0] == urls[1] == "/api/jobs?offset=50&status=failed&type=scan"


def test_api_url_same_origin_ignores_the_page_sub_path(page: Any, server: HarnessHTTPServer) -> None:
    """A page under a sub-path still reaches the API at the origin's root."""
    open_module_page(page, server.base, path="/?x=1")
    resolved = page.evaluate(
        """async () => {
            history.replaceState(null, "", "/deep/sub/path/index.html");
            const { apiUrl } = await import("/js/api_client.js");
            return new URL(apiUrl("", "api/jobs"), document.baseURI).href;
        }"""
    )
    assert resolved == f"{server.base}/api/jobs"


# --- getJson -------------------------------------------------------------------------------


def test_get_json_200_with_etag(api: Any, server: HarnessHTTPServer) -> None:
    """A 200 gives the parsed body and the ETag; no If-None-Match without an etag."""
    result = api('(m) => m.getJson("/api/test/etag")')
    assert result == {"status": 200, "data": {"jobs": [{"id": "a"}], "total": 1}, "etag": ETAG, "held": False}
    headers = server.requests[-1]["headers"]
    assert "If-None-Match" not in headers
    assert headers.get("Accept") == "application/json"


def test_get_json_304_on_matching_etag(api: Any, server: HarnessHTTPServer) -> None:
    """With the ETag held, an unchanged resource is a bodiless 304 (not the browser cache's 200)."""
    result = api("(m, etag) => m.getJson('/api/test/etag', { etag })", ETAG)
    assert result == {"status": 304, "data": None, "etag": ETAG, "held": False}
    assert server.requests[-1]["headers"]["If-None-Match"] == ETAG


def test_get_json_stale_etag_gets_200(api: Any) -> None:
    """An ETag that no longer matches gets the new body."""
    result = api("""(m) => m.getJson('/api/test/etag', { etag: '"old"' })""")
    assert result["status"] == 200
    assert result["etag"] == ETAG


def test_get_json_never_uses_the_http_cache_and_sends_no_cookies(api: Any, server: HarnessHTTPServer) -> None:
    """cache: no-store (the request says so) and credentials: omit (no Cookie header)."""
    echoed = api(
        """async (m) => {
            document.cookie = "session=secret; path=/";
            await m.getJson("/api/test/echo");
            return (await m.getJson("/api/test/echo")).data.headers;
        }"""
    )
    assert "cookie" not in echoed
    assert echoed.get("cache-control") == "no-cache"  # what Chromium sends for no-store
    assert len([r for r in server.requests if r["path"] == "/api/test/echo"]) == 2


def test_get_json_asks_for_a_hold_only_with_a_wait(api: Any) -> None:
    """`wait` (whole seconds >= 1) sends Prefer: wait=N; without it (or a bad one) no Prefer."""
    sent = api(
        """async (m) => {
            const prefer = async (options) => (await m.getJson("/api/test/echo", options)).data.headers.prefer ?? null;
            return [
                await prefer(undefined),
                await prefer({ etag: '"x"' }),
                await prefer({ wait: m.HOLD_WAIT_S }),
                await prefer({ wait: 1, etag: '"x"' }),
                await prefer({ wait: 0 }),
                await prefer({ wait: 2.5 }),
                await prefer({ wait: "25" }),
                await prefer({ wait: null }),
            ];
        }"""
    )
    assert sent == [None, None, "wait=25", "wait=1", None, None, None, None]


# Replaces window.fetch with one that answers `status` with these headers (and a JSON body
# on a 200), and returns getJson's result for a revalidation that asks for a hold.
FAKE_FETCH = """async (m, [status, headers]) => {
    const real = window.fetch;
    window.fetch = async () => new Response(status === 304 ? null : '{"jobs": []}', { status, headers });
    try {
        return await m.getJson("/api/jobs", { etag: '"v1"', wait: m.HOLD_WAIT_S });
    } finally {
        window.fetch = real;
    }
}"""


@pytest.mark.parametrize(
    ("status", "headers", "held"),
    [
        (304, {"ETag": '"v1"', "Preference-Applied": "wait=25"}, True),
        (200, {"ETag": '"v2"', "Preference-Applied": "wait=25"}, True),
        (304, {"ETag": '"v1"', "Preference-Applied": "wait=1"}, True),
        (304, {"ETag": '"v1"', "Preference-Applied": "respond-async, WAIT = 10"}, True),
        (304, {"ETag": '"v1"'}, False),  # an older server, or a proxy that strips the header
        (200, {"ETag": '"v2"'}, False),
        (304, {"ETag": '"v1"', "Preference-Applied": "wait=0"}, False),
        (304, {"ETag": '"v1"', "Preference-Applied": "wait=soon"}, False),
        (304, {"ETag": '"v1"', "Preference-Applied": "respond-async"}, False),
        (304, {"ETag": '"v1"', "Preference-Applied": ""}, False),
    ],
)
def test_held_comes_from_preference_applied(api: Any, status: int, headers: dict[str, str], held: bool) -> None:
    """`held` is true when the answer (200 or 304) says Preference-Applied: wait=N, N >= 1."""
    result = api(FAKE_FETCH, [status, headers])
    assert (result["status"], result["held"]) == (status, held)


def test_applied_wait(api: Any) -> None:
    """Preference-Applied's wait in whole seconds; 0 when there is none or it is not a number."""
    table = [
        ("wait=25", 25),
        (' wait="7" ', 7),
        ("return=minimal, wait=3", 3),
        ("wait=3, wait=9", 3),  # the first counts
        ("wait=25;x=1", 25),
        ("wait=", 0),
        ("wait=-1", 0),
        ("wait=2.5", 0),
        ("waiting=5", 0),
        ("", 0),
        (None, 0),
    ]
    results = api("(m, rows) => rows.map((v) => m.appliedWait(v))", [v for v, _ in table])
    assert results == [expected for _, expected in table]


def test_hold_wait_follows_the_run(api: Any) -> None:
    """holdWait(run): the pages' wait, unless the run may not be held (a retry, a catch-up)."""
    results = api("(m) => [m.holdWait(undefined), m.holdWait({hold: true}), m.holdWait({hold: false}), m.HOLD_WAIT_MS]")
    assert results == [25, 25, None, 25_000]


def test_503_gives_api_error_with_retry_after_seconds(page: Any, api: Any) -> None:
    """503 + Retry-After: 30 -> ApiError(status 503, retryAfterMs 30000, the body's error)."""
    error = api(f'(m) => ({CATCH})(m.getJson("/api/test/busy"))')
    assert error == {
        "ok": False,
        "name": "ApiError",
        "message": "the job store is unavailable; try again shortly",
        "status": 503,
        "retryAfterMs": 30000,
        "isApiError": True,
        "isTypeError": False,
        "body": {"error": "the job store is unavailable; try again shortly"},
    }
    expect_load_errors(page, "503")


def test_retry_after_http_date(page: Any, api: Any) -> None:
    """Retry-After as an HTTP-date (90 s ahead) becomes the ms until then."""
    error = api(f'(m) => ({CATCH})(m.getJson("/api/test/busy-date"))')
    assert error["status"] == 503
    assert 80_000 <= error["retryAfterMs"] <= 91_000
    expect_load_errors(page, "503")


def test_400_message_comes_from_the_error_field(page: Any, api: Any) -> None:
    """The API's error text reaches the caller; retryAfterMs is 0 without the header."""
    error = api(f'(m) => ({CATCH})(m.getJson("/api/test/bad-request"))')
    assert (error["status"], error["retryAfterMs"]) == (400, 0)
    assert error["message"] == "status must be one of queued, running; got 'x'"
    expect_load_errors(page, "400")


def test_non_json_error_body_falls_back_to_the_status_text(page: Any, api: Any) -> None:
    """A proxy's HTML error page does not break error handling."""
    error = api(f'(m) => ({CATCH})(m.getJson("/api/test/html-error"))')
    assert error["isApiError"] is True
    assert error["status"] == 502
    assert error["message"] == "502 Bad Gateway"
    assert error["body"] is None
    expect_load_errors(page, "502")


def test_unknown_route_404(page: Any, api: Any) -> None:
    """A 404 is an ApiError with the status."""
    error = api(f'(m) => ({CATCH})(m.getJson("/api/test/nope"))')
    assert (error["isApiError"], error["status"]) == (True, 404)
    expect_load_errors(page, "404")


def test_200_that_is_not_json_is_an_api_error(api: Any) -> None:
    """A 200 with an HTML body (a misrouted request) is a failure, not a crash."""
    error = api(f'(m) => ({CATCH})(m.getJson("/api/test/not-json"))')
    assert error["isApiError"] is True
    assert error["status"] == 200
    assert "not JSON" in error["message"]


def test_network_failure_is_the_fetch_type_error(page: Any, api: Any) -> None:
    """Nothing listening: the TypeError from fetch, as is."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is closed again: connecting to it is refused.
    error = api(f"(m, url) => ({CATCH})(m.getJson(url))", f"http://127.0.0.1:{port}/api/jobs")
    assert error["ok"] is False
    assert error["isTypeError"] is True
    assert error["isApiError"] is False
    expect_load_errors(page, "ERR_CONNECTION_REFUSED")


def test_abort_propagates_as_abort_error(api: Any) -> None:
    """Aborting an in-flight request rejects with the AbortError (not an ApiError)."""
    error = api(
        f"""(m) => {{
            const controller = new AbortController();
            const pending = m.getJson("/api/test/slow", {{ signal: controller.signal }});
            setTimeout(() => controller.abort(), 50);
            return ({CATCH})(pending);
        }}"""
    )
    assert error["ok"] is False
    assert error["name"] == "AbortError"
    assert error["isApiError"] is False


def test_abort_reason_propagates(api: Any) -> None:
    """A timeout abort (reason: TimeoutError) surfaces as that TimeoutError."""
    error = api(
        f"""(m) => {{
            const controller = new AbortController();
            controller.abort(new DOMException("too slow", "TimeoutError"));
            return ({CATCH})(m.getJson("/api/test/etag", {{ signal: controller.signal }}));
        }}"""
    )
    assert (error["name"], error["message"]) == ("TimeoutError", "too slow")


def test_parse_retry_after(api: Any) -> None:
    """Delta-seconds or an HTTP-date; anything else (or the past) is 0."""
    table = [
        ("30", 30000),
        (" 0 ", 0),
        ("", 0),
        (None, 0),
        ("-5", 0),
        ("1.5", 0),
        ("soon", 0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0),  # in the past
        ("Tue, 14 Nov 2023 22:14:20 GMT", 60_000),  # now = 22:13:20
    ]
    now = 1_700_000_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
    results = api(
        "(m, a) => a.rows.map((v) => m.parseRetryAfter(v, a.now))", {"rows": [v for v, _ in table], "now": now}
    )
    assert results == [expected for _, expected in table]


def test_api_error_class(api: Any) -> None:
    """ApiError is an Error with status, retryAfterMs (default 0) and the message."""
    fields = api(
        """(m) => {
            const e = new m.ApiError("no such job", { status: 404 });
            return [e instanceof Error, e.name, e.message, e.status, e.retryAfterMs];
        }"""
    )
    assert fields == [True, "ApiError", "no such job", 404, 0]


def test_cross_origin_api_with_etag_and_retry_after(page: Any, server: HarnessHTTPServer) -> None:
    """A page on one origin, the API on another (apiBase): ETag, 304 and Retry-After work.

    This needs the API's CORS answer to allow If-None-Match (a preflight) and to expose
    ETag and Retry-After, as the harness server does.
    """
    with harness_server() as api_server:
        api_server.cors_origins.add(server.base)
        open_module_page(page, server.base)
        result = page.evaluate(
            f"""async (base) => {{
                const m = await import("/js/api_client.js");
                const first = await m.getJson(m.apiUrl(base, "api/test/etag"));
                const second = await m.getJson(m.apiUrl(base, "api/test/etag"), {{ etag: first.etag }});
                const busy = await ({CATCH})(m.getJson(m.apiUrl(base, "api/test/busy")));
                return [first.status, first.etag, second.status, busy.status, busy.retryAfterMs];
            }}""",
            api_server.base + "/",
        )
        assert result == [200, ETAG, 304, 503, 30000]
        get_headers = [r["headers"] for r in api_server.requests if r["method"] == "GET"]
        assert all("Cookie" not in h for h in get_headers)
        assert get_headers[0]["Origin"] == server.base
        assert any(r["method"] == "OPTIONS" for r in api_server.requests)  # If-None-Match preflight
        expect_load_errors(page, "503")
