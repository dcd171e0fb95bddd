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
from collections.abc import Callable, Hashable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobdash.http.change_signal import DATA, WORKERS, ChangeSignal, Key, log_key
from jobdash.model.prefer import applied_header, wait_seconds

_JOB = r"/api/jobs/([^/]+)"
_HOLDABLE: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[Key, ...]]]] = [
    (re.compile(r"/api/jobs"), lambda match: (DATA,)),
    (re.compile(_JOB), lambda match: (DATA,)),
    # The log's own growth, and the data: a store gone away is news to every poll.
    (re.compile(_JOB + r"/logs"), lambda match: (DATA, log_key(match.group(1)))),
    (re.compile(r"/api/workers"), lambda match: (WORKERS,)),
    # Which types exist and how many live workers run each: the jobs and the workers.
    (re.compile(r"/api/job-types"), lambda match: (DATA, WORKERS)),
]


def held_keys(path: str) -> tuple[Key, ...] | None:
    """Given a request path, return the change keys a held poll of it waits on, or None
    when the endpoint does not hold.

    >>> held_keys("/api/jobs"), held_keys("/api/config/polling")
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
        # Re-runs in progress, by request and the change they follow: when one change
        # wakes a thousand identical polls, one runs the application and the rest share
        # its answer.
        self._reruns: dict[Hashable, _Rerun] = {}

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
        await self._hold(scope, receive, _adding(send, applied), keys, wait)

    async def _hold(self, scope: Scope, receive: Receive, send: Send, keys: tuple[Key, ...], wait: int) -> None:
        deadline = anyio.current_time() + wait
        gone = anyio.Event()
        inner_receive = _request_then(gone)
        try:
            # Inside the try: subscribe counts the request before its first await, so a
            # cancellation there is undone too.
            await self.signal.subscribe(keys)
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_watch_disconnect, receive, gone, tasks.cancel_scope)
                seen = self.signal.seqs(keys)
                answer = await _capture(self.app, scope, inner_receive)
                # A 304 waits for a change, runs again, and waits again while unchanged.
                while answer[0]["status"] == 304:
                    if not await self.signal.wait(keys, seen, deadline):
                        break  # time is up, or the server is stopping: the 304 it is
                    seen = self.signal.seqs(keys)
                    answer = await self._rerun(scope, inner_receive, keys, seen)
                for message in answer:
                    await send(message)
                tasks.cancel_scope.cancel()
        finally:
            self.signal.unsubscribe(keys)

    async def _rerun(self, scope: Scope, receive: Receive, keys: tuple[Key, ...], seen: tuple[int, ...]) -> Answer:
        """Run the application again for a woken poll, sharing the run of an identical
        request woken by the same change."""
        key = (_identity(scope), keys, seen)
        rerun = self._reruns.get(key)
        if rerun is not None:
            await rerun.done.wait()
            if rerun.answer is not None:
                return rerun.answer
            return await _capture(self.app, scope, receive)  # its client left mid-run
        rerun = self._reruns[key] = _Rerun()
        try:
            rerun.answer = await _capture(self.app, scope, receive)
            return rerun.answer
        finally:
            del self._reruns[key]
            rerun.done.set()


Answer = list[Message]


class _Rerun:
    """One re-run in progress: done when its answer (or its failure: None) is known."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.answer: Answer | None = None


# What a response may depend on besides the path and the data: the validator, the
# encoding negotiated, and the origin (CORS headers).
_VARIES = (b"if-none-match", b"accept-encoding", b"origin")


def _identity(scope: Scope) -> Hashable:
    """Given a request, return what makes two requests get the same answer."""
    headers = tuple(sorted((name, value) for name, value in scope["headers"] if name in _VARIES))
    return scope["path"], scope["query_string"], headers


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> Answer:
    """Run ``app`` and return the messages of its response instead of sending them."""
    messages: Answer = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    assert messages and messages[0]["type"] == "http.response.start", "the app sent no response"
    return messages


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
