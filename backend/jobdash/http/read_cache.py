"""Answers of the read endpoints, kept until the jobs data changes.

Every write to the jobs table, by any process, moves the store's change counter (a
trigger). An entry records the counter value of the snapshot it was computed from, so
"has anything changed?" is one single-row read, and an unchanged poll — the common case
when many tabs poll every few seconds — is answered without running its query:
a 304 when the client's ETag matches, the kept body otherwise. Identical requests
between two changes are computed once, however many clients ask, and concurrent misses
for one request share a single computation.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import anyio
from anyio import to_thread

from jobdash.http.responses import JsonBody, json_body
from jobdash.store.interface import StoreUnavailable

MAX_ENTRIES = 1024


@dataclass(frozen=True)
class CachedRead:
    """One computed answer: the data version it reflects, until when it may be reused,
    and its prepared body (None when the thing asked for does not exist)."""

    version: int
    expires_at: float
    answer: JsonBody | None


class _Pending:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: CachedRead | None = None
        self.error: BaseException | None = None


class ReadCache:
    """Keeps the most recently used answers, each valid while the data version holds.

    ``current_version`` must be cheap and must not wait (it runs on the event loop);
    when it cannot answer (the store is busy) the cache recomputes rather than guess.
    """

    def __init__(
        self,
        current_version: Callable[[], int],
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current_version = current_version
        self._entries: OrderedDict[Hashable, CachedRead] = OrderedDict()
        self._aliases: OrderedDict[Hashable, Hashable] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self._max = max_entries
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def _version(self) -> int | None:
        try:
            return self._current_version()
        except StoreUnavailable:
            return None

    def _current(self, entry: CachedRead | None) -> bool:
        if entry is None or self._clock() >= entry.expires_at:
            return False
        version = self._version()
        return version is not None and entry.version == version

    def alias(self, raw: Hashable, key: Hashable) -> None:
        """Remember that the raw request ``raw`` (path and query bytes) asks for ``key``."""
        self._aliases[raw] = key
        self._aliases.move_to_end(raw)
        while len(self._aliases) > self._max:
            self._aliases.popitem(last=False)

    def peek(self, raw: Hashable) -> CachedRead | None:
        """Given a raw request seen before, return its kept answer if still current.

        Never computes: this is the revalidation fast path's lookup.
        """
        key = self._aliases.get(raw)
        entry = self._entries.get(key) if key is not None else None
        if not self._current(entry):
            return None
        self.hits += 1
        return entry

    async def get(
        self,
        key: Hashable,
        compute: Callable[[], tuple[int, Any]],
        ttl: Callable[[Any], float | None] = lambda data: None,
    ) -> CachedRead:
        """Return the answer for ``key``: kept if its version is current, else computed.

        ``compute()`` runs in a worker thread and returns ``(version, data)`` read in one
        snapshot (data None: not found). ``ttl(data)`` may bound an answer's life in
        seconds, for answers that also depend on the clock or on files.
        """
        entry = self._entries.get(key)
        if self._current(entry):
            assert entry is not None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        pending = self._pending.get(key)
        if pending is not None:  # someone is computing this very answer: share it
            await pending.done.wait()
            if pending.error is not None:
                raise pending.error
            assert pending.result is not None
            return pending.result
        self.misses += 1
        pending = self._pending[key] = _Pending()
        try:
            pending.result = await to_thread.run_sync(self._compute, compute, ttl)
            self._keep(key, pending.result)
            return pending.result
        except BaseException as error:
            pending.error = error
            raise
        finally:
            del self._pending[key]
            pending.done.set()

    def _compute(self, compute: Callable[[], tuple[int, Any]], ttl: Callable[[Any], float | None]) -> CachedRead:
        started = self._clock()
        version, data = compute()
        seconds = ttl(data)
        expires_at = math.inf if seconds is None else started + seconds
        return CachedRead(version, expires_at, None if data is None else json_body(data))

    def _keep(self, key: Hashable, entry: CachedRead) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
