"""One watcher per server process that tells held polls when their answer may have changed.

A held poll (``Prefer: wait=N``, see ``held_polls.py``) waits for a change of what its
answer is made of, never by querying per request: it names *keys*, and this watcher
checks each watched key once per tick, however many requests wait on it.

- ``DATA``: the store's data version (every committed write to the jobs, by any process;
  a memory read on PostgreSQL, where LISTEN/NOTIFY keeps it, one single-row read on
  SQLite), read on the event loop every tick.
- ``("log", job_id)``: the job's log grew (``store.log_mark``: a ``stat`` of the file, or
  one head-row read on PostgreSQL), checked every tick in one worker-thread call.
- ``WORKERS``: the workers answer (who is alive, what each runs), which also moves with
  the clock (a heartbeat that ages out), recomputed once a second.

Each key has a sequence number that moves when its mark changes (and, for ``DATA``, once
when the store becomes unreadable). A waiter notes the
numbers before it computes its answer and waits until one moves, so a change between
"computed" and "started waiting" is never missed. :meth:`ChangeSignal.release` (server
shutdown) ends every wait at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio import to_thread

from jobdash.store.interface import JobStore, StoreUnavailable

log = logging.getLogger("jobdash.server")

DATA = "data"
WORKERS = "workers"
#: How often watched keys are checked (s): the added latency of a held poll, at most.
TICK_S = 0.1
#: Every this many ticks (once a second), the slower checks: the workers answer is
#: recomputed (a query), and the data version is read in a full read transaction rather
#: than from the event loop's kept connection, which waits out a busy lock and so fails
#: only for real trouble (a kept connection may even go on reading its cached page of a
#: database file emptied in place). A store that fails it wakes the waiters on DATA once:
#: they answer the 503 with its Retry-After now, not a 304 when their wait ends.
SLOW_EVERY_TICKS = 10

Key = Hashable
#: The mark of a key whose store cannot be read now.
UNREADABLE = object()


def log_key(job_id: str) -> Key:
    """Given a job id, return the key of its log.

    >>> log_key("abc")
    ('log', 'abc')
    """
    return ("log", job_id)


@dataclass
class _Watched:
    """One watched key: how many waiters want it, its last mark and its sequence number."""

    users: int = 0
    mark: Any = None
    seq: int = 0
    # For a log key: the job row its mark is taken from (None: no such job).
    job: dict[str, Any] | None = field(default=None, repr=False)


class ChangeSignal:
    """Watches the keys that held polls wait on; one per application (process).

    ``workers_mark()`` returns the current workers answer (blocking; run in a thread).
    """

    def __init__(
        self,
        store: JobStore,
        workers_mark: Callable[[], Any],
        *,
        tick_s: float = TICK_S,
    ) -> None:
        self._store = store
        self._workers_mark = workers_mark
        self._tick_s = tick_s
        self._watched: dict[Key, _Watched] = {}
        self._changed = anyio.Event()
        self._someone_waits = anyio.Event()
        self._released = False
        self._holding = 0
        self._ticks = 0
        self._down = False

    @property
    def released(self) -> bool:
        """True once :meth:`release` was called (the server is shutting down)."""
        return self._released

    @property
    def holding(self) -> int:
        """How many requests are subscribed now: held, or computing the answer they will
        be held on (``GET /healthz`` reports it)."""
        return self._holding

    @property
    def watched(self) -> int:
        """How many keys are being watched (for tests and benchmarks)."""
        return len(self._watched)

    def release(self) -> None:
        """End every wait now and refuse new ones (server shutdown). Idempotent."""
        self._released = True
        self._fire()

    def _fire(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def subscribe(self, keys: Iterable[Key]) -> None:
        """Start watching ``keys`` for one waiter (a key new to the watcher gets its first
        mark now, so that a change from here on is seen)."""
        self._holding += 1
        fresh = []
        for key in keys:
            watched = self._watched.get(key)
            if watched is None:
                watched = self._watched[key] = _Watched()
                fresh.append(key)
            watched.users += 1
        if fresh:
            marks = await to_thread.run_sync(self._first_marks, fresh)
            for key, (job, mark) in marks.items():
                watched = self._watched.get(key)
                if watched is not None:
                    watched.job, watched.mark = job, mark
        self._someone_waits.set()

    def unsubscribe(self, keys: Iterable[Key]) -> None:
        """Stop watching ``keys`` for one waiter (a key nobody wants is forgotten)."""
        self._holding -= 1
        for key in keys:
            watched = self._watched.get(key)
            if watched is None:
                continue
            watched.users -= 1
            if watched.users <= 0:
                del self._watched[key]

    def seqs(self, keys: Iterable[Key]) -> tuple[int, ...]:
        """Return the keys' sequence numbers now (subscribed keys only)."""
        return tuple(self._watched[key].seq for key in keys)

    async def wait(self, keys: tuple[Key, ...], seen: tuple[int, ...], deadline: float) -> bool:
        """Wait until a key's sequence number differs from ``seen`` (True), or until
        ``deadline`` (``anyio.current_time()`` seconds) or release (False)."""
        while not self._released:
            if self.seqs(keys) != seen:
                return True
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                return False
            with anyio.move_on_after(remaining):
                await self._changed.wait()
        return False

    def _first_marks(self, keys: list[Key]) -> dict[Key, tuple[dict[str, Any] | None, Any]]:
        """Blocking: the first mark of each new key (a log key looks its job up once)."""
        found: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
        for key in keys:
            job = None
            if isinstance(key, tuple) and key[0] == "log":
                try:
                    job = self._store.get(key[1])
                except StoreUnavailable:
                    found[key] = (None, UNREADABLE)
                    continue
            found[key] = (job, self._mark(key, job))
        return found

    def _mark(self, key: Key, job: dict[str, Any] | None, *, full: bool = False) -> Any:
        """The current mark of a key (:data:`UNREADABLE` when the store cannot say now);
        blocking, except for DATA without ``full`` (one read on a kept connection)."""
        try:
            if key == DATA:
                return self._store.version() if full else self._store.version_now()
            if key == WORKERS:
                return self._workers_mark()
            return None if job is None else self._store.log_mark(job)
        except StoreUnavailable:
            return UNREADABLE

    def _blocking_marks(self, wanted: list[tuple[Key, dict[str, Any] | None]]) -> list[Any]:
        return [self._mark(key, job, full=True) for key, job in wanted]

    async def run(self) -> None:
        """Check the watched keys every tick while anyone waits; runs until cancelled."""
        while not self._released:
            if not self._watched:
                self._someone_waits = anyio.Event()
                await self._someone_waits.wait()
                continue
            await anyio.sleep(self._tick_s)
            try:
                await self.check()
            except Exception:  # a watcher that stopped would leave every hold to its end
                log.exception("held polls: checking for changes failed; trying again")

    async def check(self) -> None:
        """One tick: read every watched key's mark, move the sequence of those that
        changed, and wake the waiters if any did."""
        self._ticks += 1
        due = self._ticks % SLOW_EVERY_TICKS == 0
        changed = False
        slow: list[tuple[Key, dict[str, Any] | None]] = []
        for key, watched in list(self._watched.items()):
            if key == DATA and not due:
                changed |= self._update(key, self._mark(key, None))
            elif key not in (DATA, WORKERS) or due:
                slow.append((key, watched.job))
        if slow:
            marks = await to_thread.run_sync(self._blocking_marks, slow)
            for (key, _), mark in zip(slow, marks, strict=True):
                if key == DATA:
                    changed |= self._verified(mark)
                changed |= self._update(key, mark)
        if changed:
            self._fire()

    def _verified(self, mark: Any) -> bool:
        """Given the data version as a full read found it, return True when the store has
        just become unreadable: the waiters on DATA then run again, and answer the 503."""
        down, self._down = self._down, mark is UNREADABLE
        if self._down and not down:
            self._watched[DATA].seq += 1
            return True
        return False

    def _update(self, key: Key, mark: Any) -> bool:
        watched = self._watched.get(key)
        # An unreadable mark (store busy or down) or a missing log is no news: the waiters
        # keep waiting.
        if watched is None or mark is None or mark is UNREADABLE or mark == watched.mark:
            return False
        watched.mark = mark
        watched.seq += 1
        return True
