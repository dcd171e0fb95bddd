"""The one owner of PostgreSQL connections: a pool, one write path, read-only snapshots.

Reads run in a ``REPEATABLE READ READ ONLY`` transaction, so a data version and the rows
read beside it come from one snapshot. Writes run in a read-write transaction, retried
when PostgreSQL aborts it for a deadlock or a serialization conflict (the statement is
then simply run again). Connection trouble — the server restarting, the network gone, the
pool exhausted — becomes :class:`StoreUnavailable`, which the API answers with 503 and the
worker waits out; the pool replaces broken connections on its own, so jobdash recovers
without a restart.

Nothing here keeps session state between transactions (no ``SET``, no session advisory
locks, no temporary tables), so the pool may sit behind PgBouncer in transaction mode;
prepared statements are the one exception, switched off by ``pgbouncer=transaction`` in
the URL (see :func:`parse_url`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from jobdash.store.interface import StoreUnavailable

T = TypeVar("T")
log = logging.getLogger("jobdash.store.postgres")
# The pool logs every failed reconnection attempt; the store reports the outage once, as
# StoreUnavailable, to whoever asked.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

POOL_MIN, POOL_MAX = 1, 8
# How long a caller waits for a free connection (or a new one) before the store counts
# as unavailable: longer than a busy moment, shorter than a client's request timeout.
POOL_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5
WRITE_ATTEMPTS = 5
# The SQLSTATE classes that mean "PostgreSQL cannot serve now", not "bad SQL".
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator intervention, system


@dataclass(frozen=True)
class DatabaseUrl:
    """A ``postgresql://`` URL split into what libpq takes and jobdash's own options."""

    conninfo: str
    #: False behind PgBouncer in transaction mode: no prepared statements, no LISTEN.
    session_features: bool

    @property
    def shown(self) -> str:
        """The URL without its password, for messages and logs."""
        return _without_password(self.conninfo)


def _without_password(url: str) -> str:
    """Given a URL, return it without its password and query (which may hold one too).

    The host part is kept as written (an IPv6 address keeps its brackets, a malformed port
    stays visible rather than raising).

    >>> _without_password("postgresql://app:p@ss@[::1]:5432/jobs?password=x")
    'postgresql://app@[::1]:5432/jobs'
    >>> _without_password("postgresql:///jobs?host=/run/postgresql")
    'postgresql:///jobs'
    """
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}@{hostport}" if at and user else hostport
    if parts.scheme and url[len(parts.scheme) :].startswith("://"):
        return f"{parts.scheme}://{netloc}{parts.path}"  # urlunsplit drops an empty host's "//"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def parse_url(url: str) -> DatabaseUrl:
    """Given a ``postgresql://`` URL, return it checked, with jobdash's options taken out.

    ``pgbouncer=transaction`` says the URL reaches PostgreSQL through PgBouncer in
    transaction mode: prepared statements are then off, and workers poll instead of
    listening for notifications (LISTEN needs a session of its own).

    >>> parse_url("postgresql://app@db/jobs?pgbouncer=transaction").session_features
    False
    >>> parse_url("postgresql://app:secret@db:5433/jobs").shown
    'postgresql://app@db:5433/jobs'
    >>> parse_url("mysql://app:secret@db/jobs")
    Traceback (most recent call last):
    ValueError: database URL must start with postgresql:// or postgres://; got 'mysql://app@db/jobs'
    """
    parts = urlsplit(url)
    # Messages show the URL without its password: they end up on terminals and in logs.
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(
            f"database URL must start with postgresql:// or postgres://; got {_without_password(url)[:80]!r}"
        )
    try:
        parts.port  # noqa: B018 -- parsing it is the check
    except ValueError:
        raise ValueError(
            f"the port in the database URL must be a number from 0 to 65535; got {_without_password(url)[:80]!r}"
        ) from None
    # libpq's options pass through as written: libpq decodes %XX only (a "+" stays a "+").
    options = [option for option in parts.query.split("&") if option]
    pooler = [unquote(value) for key, _, value in (o.partition("=") for o in options) if unquote(key) == "pgbouncer"]
    if pooler and pooler[-1] not in ("transaction", "session"):
        raise ValueError(f"pgbouncer= in the database URL must be transaction or session; got {pooler[-1]!r}")
    rest = "&".join(option for option in options if unquote(option.partition("=")[0]) != "pgbouncer")
    # Not urlunsplit: it drops the "//" of an empty host (postgresql:///jobs, a Unix
    # socket), and libpq then no longer reads the string as a URL.
    conninfo = f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{rest}" if rest else "")
    return DatabaseUrl(conninfo, session_features=not pooler or pooler[-1] == "session")


def unavailable(error: BaseException, url: DatabaseUrl) -> StoreUnavailable | None:
    """Given an error from psycopg or the pool, return StoreUnavailable if it is an
    availability problem (server down, restarting, unreachable, pool exhausted)."""
    if isinstance(error, PoolTimeout):
        return StoreUnavailable(f"job store unavailable: no connection to {url.shown} within {POOL_TIMEOUT_S:g} s")
    if isinstance(error, psycopg.OperationalError):
        state = getattr(error, "sqlstate", None)
        if state is None or state[:2] in _UNAVAILABLE_CLASSES:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return StoreUnavailable(f"job store unavailable: PostgreSQL at {url.shown}: {first}")
    if isinstance(error, psycopg.InterfaceError):  # a connection closed under us
        return StoreUnavailable(f"job store unavailable: PostgreSQL at {url.shown}: {error}")
    return None


class Database:
    """Owns a pool of connections to one PostgreSQL database.

    ``Database(url)`` opens the pool and applies pending migrations (waiting for the
    server up to ``POOL_TIMEOUT_S``). Use :meth:`read` and :meth:`write` with plain
    ``fn(conn, *args)`` functions; rows come back as dicts.
    """

    def __init__(self, url: str, *, migrate: Callable[[psycopg.Connection[Any]], int], max_size: int = POOL_MAX):
        self.url = parse_url(url)
        self._closed = False
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {"row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S}
        if not self.url.session_features:
            kwargs["prepare_threshold"] = None
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.url.conninfo,
            min_size=POOL_MIN,
            max_size=max_size,
            kwargs=kwargs,
            timeout=POOL_TIMEOUT_S,
            name="jobdash",
            open=False,
        )
        try:
            try:
                self.pool.open(wait=True, timeout=POOL_TIMEOUT_S)
            except PoolTimeout:
                # The pool only says it gave up: one direct attempt says why (refused,
                # unknown host, bad password, no such database).
                psycopg.connect(self.url.conninfo, connect_timeout=CONNECT_TIMEOUT_S).close()
                raise
            with self.pool.connection() as conn:
                migrate(conn)
        except BaseException as error:
            self.pool.close()
            found = unavailable(error, self.url)
            if found is not None:
                raise found from error
            raise

    def close(self) -> None:
        """Close every connection. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.pool.close()

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """Return a new connection outside the pool (for a listener), or StoreUnavailable."""
        try:
            return psycopg.connect(self.url.conninfo, connect_timeout=CONNECT_TIMEOUT_S, **kwargs)
        except psycopg.Error as error:
            raise (unavailable(error, self.url) or error) from error

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one read-only snapshot and return its result."""
        return self._run(fn, args, read_only=True)

    def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one read-write transaction, committed on return.

        Deadlocks and serialization failures roll back and run ``fn`` again (it must not
        have effects outside the transaction).
        """
        return self._write(fn, args, single=False)

    def write_one(self, fn: Callable[..., T], *args: Any) -> T:
        """Like :meth:`write`, for an ``fn`` that runs exactly one statement: it runs on
        its own (the statement is its transaction), one round trip instead of three
        (BEGIN, the statement, COMMIT) — the hot path of claims, progress and outcomes."""
        return self._write(fn, args, single=True)

    def _write(self, fn: Callable[..., T], args: tuple[Any, ...], *, single: bool) -> T:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return self._run(fn, args, read_only=False, single=single)
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.info("write conflict (attempt %d); running the transaction again", attempt)
        raise AssertionError("unreachable")

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], *, read_only: bool, single: bool = False) -> T:
        # A pooled connection may have died since its last use (the server restarted):
        # the pool drops it when it comes back broken, and a read simply runs again on
        # a fresh one. A write is not repeated: whether it committed is unknown. Nor is
        # a read that found no connection within the pool's timeout: waiting again would
        # double the wait (to a client's own timeout) for the same 503.
        attempts = 2 if read_only else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._run_once(fn, args, read_only=read_only, single=single)
            except StoreUnavailable as error:
                if attempt == attempts or isinstance(error.__cause__, PoolTimeout):
                    raise
        raise AssertionError("unreachable")

    def _run_once(self, fn: Callable[..., T], args: tuple[Any, ...], *, read_only: bool, single: bool) -> T:
        if self._closed:
            raise StoreUnavailable("job store unavailable: the store is closed")
        try:
            with self.pool.connection() as conn:
                if single:
                    conn.autocommit = True
                    try:
                        return fn(conn, *args)
                    finally:
                        conn.autocommit = False
                if read_only:
                    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                    conn.read_only = True
                else:
                    conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
                    conn.read_only = False
                with conn.transaction():
                    return fn(conn, *args)
        except (psycopg.Error, PoolTimeout) as error:
            found = unavailable(error, self.url)
            if found is not None:
                raise found from error
            raise
