"""Held polls: a revalidation whose answer has not changed waits for a change.

A poll that sends ``If-None-Match`` with ``Prefer: wait=N`` (RFC 7240) to a holdable
endpoint is answered as usual, except that a ``304 Not Modified`` is held back: the
request waits on the process's :class:`~jobdash.http.change_signal.ChangeSignal` for a
change of what its answer is made of, then runs again, and is answered as soon as the
answer differs (200) — or with the 304 when the wait runs out, the client goes away, or
the server shuts down. A waiting request is a parked coroutine: no thread, no query.

Every 200 or 304 of a holdable endpoint to a request with the preference carries
``Preference-Applied: wait=N`` (the wait applied, capped by the server's maximum), which
tells the client that it may ask again at once after a 304. Without the header, or with
holds turned off (a maximum of 0), nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobdash.http.change_signal import DATA, WORKERS, ChangeSignal, Key, log_key
from jobdash.model.prefer import applied_header, wait_seconds

_JOB = r"/api/jobs/([^/]+)"
_HOLDABLE: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[Key, ...]]]] = [
    (re.compile(r"/api/jobs"), lambda match: (DATA,)),
    (re.compile(_JOB), lambda match: (DATA,)),
    (re.compile(_JOB + r"/logs"), lambda match: (log_key(match.group(1)),)),
    (re.compile(r"/api/workers"), lambda match: (WORKERS,)),
]


def held_keys(path: str) -> tuple[Key, ...] | None:
    """Given a request path, return the change keys a held poll of it waits on, or None
    when the endpoint does not hold.

    >>> held_keys("/api/jobs"), held_keys("/api/job-types")
    (('data',), None)
    """
    for pattern, keys in _HOLDABLE:
        match = pattern.fullmatch(path)
        if match is not None:
            return keys(match)
    return None


def _header(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


class HeldPolls:
    """ASGI middleware: holds unchanged revalidations that ask for it (see module doc).

    ``max_wait_s`` caps the wait a client may ask for; 0 turns holding off.
    """

    def __init__(self, app: ASGIApp, signal: ChangeSignal, max_wait_s: int) -> None:
        self.app = app
        self.signal = signal
        self.max_wait_s = max_wait_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.max_wait_s <= 0:
            await self.app(scope, receive, send)
            return
        keys = held_keys(scope["path"])
        wait = wait_seconds(_header(scope, b"prefer"), cap=self.max_wait_s) if keys is not None else None
        if keys is None or wait is None or self.signal.released:
            await self.app(scope, receive, send)
            return
        applied = (b"preference-applied", applied_header(wait).encode())
        if not _header(scope, b"if-none-match"):
            await self.app(scope, receive, _adding(send, applied))
            return
        await self._hold(scope, receive, send, keys, wait, applied)

    async def _hold(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        keys: tuple[Key, ...],
        wait: int,
        applied: tuple[bytes, bytes],
    ) -> None:
        deadline = anyio.current_time() + wait
        gone = anyio.Event()
        inner_receive = _request_then(gone)
        await self.signal.subscribe(keys)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_watch_disconnect, receive, gone, tasks.cancel_scope)
                while True:
                    seen = self.signal.seqs(keys)
                    held = _HeldResponse(_adding(send, applied))
                    await self.app(scope, inner_receive, held.send)
                    if held.passed:  # changed (or an error): answered already
                        break
                    if not await self.signal.wait(keys, seen, deadline):
                        await held.release()  # time is up, or the server is stopping
                        break
                tasks.cancel_scope.cancel()
        finally:
            self.signal.unsubscribe(keys)


def _adding(send: Send, header: tuple[bytes, bytes]) -> Send:
    """Return a ``send`` that adds ``header`` to a 200 or 304 response start."""

    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] in (200, 304):
            message = {**message, "headers": [*message.get("headers", []), header]}
        await send(message)

    return adding


def _request_then(gone: anyio.Event) -> Receive:
    """Return the ``receive`` an inner run gets: its (empty) GET body once, then waits
    until the client is gone, as a server's own ``receive`` would."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive


async def _watch_disconnect(receive: Receive, gone: anyio.Event, hold: anyio.CancelScope) -> None:
    """Read the connection's messages until the client goes away, then end the hold."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            hold.cancel()
            return


class _HeldResponse:
    """Sends an inner run's response through unless it is a 304, which it keeps back."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self.passed = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 304:
            self._start = message
            return
        if self._start is not None:  # the 304's (empty) body
            return
        self.passed = True
        await self._send(message)

    async def release(self) -> None:
        """Send the kept 304."""
        assert self._start is not None, "release() is for a kept 304"
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": b""})
