"""Drill: held polls through Debian's nginx as a reverse proxy, with nginx's default
timeouts (``proxy_read_timeout`` 60 s, above the longest hold of 30 s) and its default
response buffering.

A held poll must come through a proxy whole: the ``Prefer`` header reaches jobdash, the
hold ends with the change (the 200 and its ``Preference-Applied`` reach the client), an
unchanged poll gets its 304 when the wait runs out, and a client that hangs up makes
nginx close its upstream connection, which releases the hold in jobdash at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobdash.store.sqlite.store import SqliteStore
from support.nginx import NOT_INSTALLED, NginxProxy, nginx_binary
from support.served_app import ServedApp, served_app

SOON_S = 5.0


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[ServedApp, NginxProxy]]:
    if nginx_binary() is None:
        pytest.skip(NOT_INSTALLED)
    (tmp_path / "data").mkdir()
    with served_app(tmp_path / "data") as served:
        proxy = NginxProxy(tmp_path / "nginx", [f"127.0.0.1:{served.server.config.port}"], read_timeout=None)
        proxy.start()
        try:
            yield served, proxy
        finally:
            proxy.close()


def _wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + SOON_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {SOON_S} s: {what}"
        time.sleep(0.01)


def test_a_held_poll_through_nginx_ends_with_the_change(proxied: tuple[ServedApp, NginxProxy], tmp_path: Path) -> None:
    served, proxy = proxied
    writer = SqliteStore(tmp_path / "data")
    try:
        first = httpx.get(proxy.url("/api/jobs"), headers={"Prefer": "wait=25"})
        assert first.headers["preference-applied"] == "wait=25"
        etag = first.headers["etag"]
        started = time.monotonic()
        threading.Timer(0.5, lambda: writer.create("/media/new", "scan")).start()
        held = httpx.get(proxy.url("/api/jobs"), headers={"If-None-Match": etag, "Prefer": "wait=25"}, timeout=40)
        elapsed = time.monotonic() - started
    finally:
        writer.close()
    assert held.status_code == 200 and held.json()["jobs"][0]["file_path"] == "/media/new"
    assert held.headers["preference-applied"] == "wait=25"
    assert 0.5 <= elapsed < 25, elapsed


def test_an_unchanged_held_poll_through_nginx_gets_its_304(proxied: tuple[ServedApp, NginxProxy]) -> None:
    _, proxy = proxied
    etag = httpx.get(proxy.url("/api/jobs")).headers["etag"]
    started = time.monotonic()
    held = httpx.get(proxy.url("/api/jobs"), headers={"If-None-Match": etag, "Prefer": "wait=2"}, timeout=20)
    assert held.status_code == 304 and held.headers["preference-applied"] == "wait=2"
    assert time.monotonic() - started >= 2.0


def test_a_client_hanging_up_on_nginx_releases_the_hold(proxied: tuple[ServedApp, NginxProxy]) -> None:
    served, proxy = proxied
    etag = httpx.get(proxy.url("/api/jobs")).headers["etag"]
    changes = served.app.state.changes
    with socket.create_connection(("127.0.0.1", proxy.port)) as conn:
        conn.sendall(
            b"GET /api/jobs HTTP/1.1\r\nHost: test\r\nPrefer: wait=30\r\nIf-None-Match: " + etag.encode() + b"\r\n\r\n"
        )
        _wait_until(lambda: changes.watched == 1, "the request is held in jobdash")
    _wait_until(lambda: changes.watched == 0, "nginx closed its upstream and jobdash released the hold")
