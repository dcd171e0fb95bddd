"""One listening connection per process: hears every commit that changes the jobs.

The store's triggers send ``NOTIFY jobdash_changes`` with every statement that changes
what readers see, and ``NOTIFY jobdash_queued`` when a job becomes claimable; both are
delivered at commit, by whichever host made the change. The watcher keeps the latest
data version (re-read after each burst of notifications), so the API's "has anything
changed?" is a memory read, and it wakes idle workers at once when a job is queued.

When the connection drops, :attr:`version` is unknown (callers then read the database
themselves, as the read cache does on StoreUnavailable) and the watcher reconnects with
a growing pause; workers fall back to polling every second meanwhile.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from jobdash.store.interface import StoreUnavailable

log = logging.getLogger("jobdash.store.postgres")

CHANGES, QUEUED = "jobdash_changes", "jobdash_queued"
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.2, 5.0
# While listening, the version is also re-read this often: a safety net that costs one
# tiny query a second, should a notification ever be missed.
REREAD_EVERY_S = 1.0
FORGOTTEN_REREAD_S = 0.02


class ChangeWatcher:
    """Listens for jobdash's notifications on a connection of its own, in a daemon thread.

    ``connect()`` returns a new autocommit connection; ``read_version(conn)`` reads the
    data version on it.
    """

    def __init__(
        self, connect: Callable[[], psycopg.Connection[Any]], read_version: Callable[[psycopg.Connection[Any]], int]
    ) -> None:
        self._connect = connect
        self._read_version = read_version
        self._version: int | None = None
        # Moved by forget(): a version read that began before it is not kept.
        self._generation = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listeners: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self.connected = threading.Event()
        # Wakes the thread from its wait at once: forget() wants a fresh version now,
        # stop() wants the thread gone (a notification wait cannot be interrupted).
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def start(self) -> None:
        """Start listening (idempotent)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="jobdash-listen", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection. Idempotent."""
        self._stop.set()
        self._wake()
        conn = self._conn
        if conn is not None:
            try:
                conn.cancel_safe(timeout=1.0)
            except (psycopg.Error, AttributeError):
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        if thread is None or not thread.is_alive():
            self._wake_r.close()
            self._wake_w.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # full (a wake-up is pending anyway) or closed (stopped)
            pass

    @property
    def version(self) -> int:
        """The latest data version heard of; StoreUnavailable while not listening."""
        version = self._version
        if version is None:
            raise StoreUnavailable("job store change watcher is not connected")
        return version

    def forget(self) -> None:
        """Drop the known version: this process just committed a change, and readers here
        must see it at once rather than after its notification arrives."""
        with self._lock:
            self._generation += 1
            self._version = None
        self._wake()

    def _reread(self, conn: psycopg.Connection[Any]) -> None:
        generation = self._generation
        version = self._read_version(conn)
        with self._lock:
            if generation == self._generation:
                self._version = version

    def on_queued(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from the watcher's thread) whenever a job is queued."""
        with self._lock:
            self._listeners.append(callback)

    def _run(self) -> None:
        pause = RECONNECT_MIN_S
        while not self._stop.is_set():
            try:
                self._listen()
                pause = RECONNECT_MIN_S
            except (psycopg.Error, StoreUnavailable, OSError) as error:
                if self._stop.is_set():
                    break
                if self.connected.is_set():
                    log.warning("change watcher lost its connection (%s); reconnecting", error)
            finally:
                self._version = None
                self.connected.clear()
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()
            self._notify_queued()  # a worker may have missed a wake-up while we were away
            self._stop.wait(pause)
            pause = min(RECONNECT_MAX_S, pause * 2)

    def _listen(self) -> None:
        conn = self._conn = self._connect()
        conn.execute(f"LISTEN {CHANGES}")
        conn.execute(f"LISTEN {QUEUED}")
        self._reread(conn)
        self.connected.set()
        self._notify_queued()
        next_reread = time.monotonic() + REREAD_EVERY_S
        with selectors.DefaultSelector() as waiting:
            waiting.register(conn.fileno(), selectors.EVENT_READ)
            waiting.register(self._wake_r, selectors.EVENT_READ)
            changed = queued = False
            while not self._stop.is_set():
                if not (changed or queued):
                    # Forgotten by a local write: look again soon, whatever woke us.
                    waiting.select(FORGOTTEN_REREAD_S if self._version is None else REREAD_EVERY_S)
                    self._drain_wake()
                    # The whole burst (a busy farm sends many) before one re-read.
                    changed, queued = self._heard(conn)
                if changed or self._version is None or time.monotonic() >= next_reread:
                    self._reread(conn)
                    next_reread = time.monotonic() + REREAD_EVERY_S
                if queued:
                    self._notify_queued()
                # Heard during the re-read (kept aside by psycopg): handled now, not after a wait.
                changed, queued = self._heard(conn)

    @staticmethod
    def _heard(conn: psycopg.Connection[Any]) -> tuple[bool, bool]:
        """Return (a change was notified, a job was queued) from what has arrived."""
        changed = queued = False
        for note in conn.notifies(timeout=0.0):
            changed |= note.channel == CHANGES
            queued |= note.channel == QUEUED
        return changed, queued

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(512):
                pass
        except OSError:  # nothing more to read (BlockingIOError), or closed
            pass

    def _notify_queued(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            callback()
