"""The PostgreSQL store's connection owner (jobdash.store.postgres.database): URL parsing,
availability errors, read snapshots, write retries, and recovery from dropped connections.

Runs against the test session's private PostgreSQL server (skipped, saying why, where
PostgreSQL is not installed); nothing of psycopg is mocked.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg import errors

from jobdash.store.interface import StoreUnavailable
from jobdash.store.postgres import database
from jobdash.store.postgres.database import parse_url, unavailable
from jobdash.store.postgres.store import PostgresStore


@pytest.fixture
def pg_store(database_url: str) -> Iterator[PostgresStore]:
    """A PostgresStore on a new database with the schema."""
    store = PostgresStore(database_url)
    yield store
    store.close()


def closed_port() -> int:
    """Return a loopback port nothing listens on (connecting to it is refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- parse_url ---------------------------------------------------------------------------


def test_pgbouncer_transaction_turns_session_features_off() -> None:
    """pgbouncer=transaction: no prepared statements, no LISTEN; the option is jobdash's
    own, so it never reaches libpq, while libpq's options stay."""
    parsed = parse_url("postgresql://app@db:6432/jobs?sslmode=require&pgbouncer=transaction&application_name=x")
    assert parsed.session_features is False
    assert "pgbouncer" not in parsed.conninfo
    assert "sslmode=require" in parsed.conninfo and "application_name=x" in parsed.conninfo
    psycopg.conninfo.conninfo_to_dict(parsed.conninfo)  # libpq accepts what is left


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@db/jobs",
        "postgres://app@db/jobs",
        "postgresql://app@db/jobs?pgbouncer=session",
        "postgresql://app@db/jobs?pgbouncer=transaction&pgbouncer=session",
    ],
)
def test_session_mode_or_no_pooler_keeps_session_features(url: str) -> None:
    """Without a pooler, or behind PgBouncer in session mode (the last value wins), the
    store listens for notifications and prepares statements."""
    parsed = parse_url(url)
    assert parsed.session_features is True
    assert "pgbouncer" not in parsed.conninfo


@pytest.mark.parametrize("value", ["", "statement", "TRANSACTION", "yes"])
def test_an_unknown_pgbouncer_mode_is_refused_naming_the_allowed_ones(value: str) -> None:
    """A pgbouncer= value other than transaction or session is a ValueError that says
    which values are allowed and which one was given."""
    with pytest.raises(ValueError, match="transaction or session") as raised:
        parse_url(f"postgresql://app@db/jobs?pgbouncer={value}")
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(
    "url", ["mysql://db/jobs", "http://db/jobs", "db/jobs", "postgresql+psycopg://db/jobs", "sqlite:///x.db"]
)
def test_a_url_that_is_not_postgresql_is_refused_naming_the_schemes(url: str) -> None:
    """Only postgresql:// and postgres:// URLs are taken; the message names both."""
    with pytest.raises(ValueError, match=r"postgresql:// or postgres://"):
        parse_url(url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db:5433/jobs", "postgresql://app@db:5433/jobs"),
        ("postgresql://app:s3cret@db/jobs?sslmode=require", "postgresql://app@db/jobs"),
        ("postgresql://app@db/jobs?password=s3cret", "postgresql://app@db/jobs"),
        ("postgresql://app:p%40s3cret@db/jobs", "postgresql://app@db/jobs"),
        ("postgresql://app:s3cret@[::1]:5432/jobs", "postgresql://app@[::1]:5432/jobs"),
        ("postgres://db/jobs", "postgres://db/jobs"),
    ],
)
def test_shown_hides_the_password(url: str, shown: str) -> None:
    """The URL as messages and logs show it: no password (in the user part or the query),
    and still a URL one can read back (an IPv6 host keeps its brackets)."""
    assert parse_url(url).shown == shown
    assert "s3cret" not in parse_url(url).shown


@pytest.mark.parametrize("url", ["postgresql://app:s3cret@db:notaport/jobs", "postgresql://app:s3cret@db:70000/jobs"])
def test_a_malformed_port_is_refused_up_front_without_the_password(url: str) -> None:
    """A port that is not a number is a ValueError at once (not a connection attempt that
    times out), and like every message about the URL it leaves the password out."""
    with pytest.raises(ValueError, match="port") as raised:
        parse_url(url)
    assert "s3cret" not in str(raised.value)


def test_a_refused_scheme_does_not_echo_the_password() -> None:
    """A mistaken scheme (an SQLAlchemy-style URL, say) is reported without its password."""
    with pytest.raises(ValueError, match="postgresql://") as raised:
        parse_url("postgresql+psycopg://app:s3cret@db/jobs")
    assert "s3cret" not in str(raised.value) and "app@db/jobs" in str(raised.value)


def test_libpq_options_pass_through_as_written() -> None:
    """The query's libpq options reach libpq unchanged: a "+" stays a "+" (libpq decodes
    only %XX), and percent-escapes are libpq's to decode."""
    parsed = parse_url("postgresql://db/jobs?application_name=a+b%2Bc&pgbouncer=session&options=-c%20x%3D1")
    assert psycopg.conninfo.conninfo_to_dict(parsed.conninfo) == {
        "host": "db",
        "dbname": "jobs",
        "application_name": "a+b+c",
        "options": "-c x=1",
    }


def test_a_unix_socket_url_without_a_host_connects(pg_cluster: Any, database_url: str) -> None:
    """postgresql:///DB?host=/socket/dir (no host before the path: a Unix socket) is a
    URL libpq still reads as one, and the store opens on it."""
    name = database_url.rsplit("/", 1)[1]
    url = f"postgresql:///{name}?host={quote(str(pg_cluster.sockets), safe='')}&port={pg_cluster.port}&user=jobdash"
    assert parse_url(url).shown == f"postgresql:///{name}"
    store = PostgresStore(url)
    try:
        assert store.create("/a", "scan")["status"] == "queued"
        assert str(store) == f"postgresql:///{name}"
    finally:
        store.close()


# --- availability ------------------------------------------------------------------------


def test_a_refused_port_is_store_unavailable_with_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the store where no server listens is StoreUnavailable (the API's 503), and
    the message says why — the connection was refused — and where, without the password."""
    monkeypatch.setattr(database, "POOL_TIMEOUT_S", 0.5)  # the store waits this long for a starting server
    url = f"postgresql://app:s3cret@127.0.0.1:{closed_port()}/jobs"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        PostgresStore(url)
    message = str(raised.value)
    assert "refused" in message.lower(), message
    assert parse_url(url).shown in message
    assert "s3cret" not in message
    assert time.monotonic() - started < 5


def test_errors_that_are_not_about_availability_are_not_store_unavailable() -> None:
    """unavailable() picks out availability problems only: bad SQL stays bad SQL."""
    url = parse_url("postgresql://app@db/jobs")
    assert unavailable(ValueError("x"), url) is None
    assert unavailable(errors.UndefinedTable("no such table"), url) is None
    found = unavailable(errors.AdminShutdown("terminating connection due to administrator command"), url)
    assert isinstance(found, StoreUnavailable) and "postgresql://app@db/jobs" in str(found)


def test_sql_errors_pass_through_and_reads_are_read_only(pg_store: PostgresStore) -> None:
    """A mistake in SQL surfaces as psycopg's own error, not as a 503; a read snapshot
    refuses to write."""
    with pytest.raises(errors.UndefinedTable):
        pg_store.db.read(lambda conn: conn.execute("SELECT * FROM no_such_table"))
    with pytest.raises(errors.ReadOnlySqlTransaction):
        pg_store.db.read(lambda conn: conn.execute("DELETE FROM jobs"))


def test_a_pool_with_no_free_connection_is_store_unavailable(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every pooled connection stays busy past the pool's timeout, a caller gets
    StoreUnavailable saying so (instead of waiting without end)."""
    monkeypatch.setattr(database, "POOL_TIMEOUT_S", 0.3)
    store = PostgresStore(database_url, pool_size=1)
    try:
        with store.db.pool.connection():
            with pytest.raises(StoreUnavailable, match="no connection"):
                store.version()
        assert store.version() == 0
    finally:
        store.close()


def terminate_sessions(url: str) -> int:
    """Close every other session on the database of ``url`` from the server side, as a
    server restart or a network cut would; return how many there were."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_reads_recover_from_connections_the_server_closed(pg_store: PostgresStore, database_url: str) -> None:
    """A pooled connection the server closed is replaced: the next read simply succeeds."""
    pg_store.create("/a", "scan")
    assert terminate_sessions(database_url) >= 1
    assert pg_store.version() >= 1
    assert len(pg_store.db.read(lambda conn: conn.execute("SELECT id FROM jobs").fetchall())) == 1


def test_writes_recover_from_connections_the_server_closed(pg_store: PostgresStore, database_url: str) -> None:
    """A write on a connection the server closed is at most one StoreUnavailable (not
    repeated: whether it committed is unknown); the store then writes again, no restart."""
    pg_store.create("/a", "scan")
    assert terminate_sessions(database_url) >= 1
    failures = 0
    for _ in range(3):
        try:
            pg_store.create("/b", "scan")
            break
        except StoreUnavailable:
            failures += 1
    assert failures <= 1
    paths = pg_store.db.read(lambda conn: [row["file_path"] for row in conn.execute("SELECT file_path FROM jobs")])
    assert sorted(paths) == ["/a", "/b"]


def test_a_read_is_one_snapshot(pg_store: PostgresStore, database_url: str) -> None:
    """Everything one read() sees comes from one snapshot: a commit made meanwhile by
    another program shows in the next read, never half-way through this one."""
    from jobdash.store.postgres import jobs_sql

    def read_around_a_commit(conn: Any) -> tuple[int, int, int, int]:
        before = jobs_sql.data_version(conn), conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"]
        with psycopg.connect(database_url, autocommit=True) as other:
            other.execute("INSERT INTO jobs (id, file_path, job_type) VALUES (gen_random_uuid()::text, '/o', 'scan')")
        after = jobs_sql.data_version(conn), conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"]
        return (*before, *after)

    version_before, count_before, version_after, count_after = pg_store.db.read(read_around_a_commit)
    assert (version_before, count_before) == (version_after, count_after) == (0, 0)
    assert pg_store.version() > version_before


def test_a_deadlocked_write_runs_again(pg_store: PostgresStore) -> None:
    """Two writes that deadlock each other both succeed: PostgreSQL aborts one, and
    write() runs that transaction again from the start."""
    pg_store.db.write(lambda conn: conn.execute("CREATE TABLE scratch (k integer PRIMARY KEY, v integer)"))
    pg_store.db.write(lambda conn: conn.execute("INSERT INTO scratch VALUES (1, 0), (2, 0)"))
    both_hold_one = threading.Barrier(2, timeout=10)
    calls: list[str] = []
    failures: list[BaseException] = []

    def lock_in_order(first: int, second: int, name: str) -> None:
        def transaction(conn: Any) -> None:
            calls.append(name)
            conn.execute("SET LOCAL deadlock_timeout = '50ms'")
            conn.execute("UPDATE scratch SET v = v + 1 WHERE k = %s", (first,))
            if calls.count(name) == 1:  # only the first attempt meets the other half-way
                both_hold_one.wait()
            conn.execute("UPDATE scratch SET v = v + 1 WHERE k = %s", (second,))

        try:
            pg_store.db.write(transaction)
        except BaseException as error:  # reported to the test thread below
            failures.append(error)

    threads = [
        threading.Thread(target=lock_in_order, args=(1, 2, "a")),
        threading.Thread(target=lock_in_order, args=(2, 1, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not failures, failures
    # At least one of the two ran again (on a loaded machine a retry can deadlock again,
    # and is retried in turn); each ran to its end exactly once, as the rows show.
    assert len(calls) >= 3 and set(calls) == {"a", "b"}, calls
    rows = pg_store.db.read(lambda conn: conn.execute("SELECT k, v FROM scratch ORDER BY k").fetchall())
    assert rows == [{"k": 1, "v": 2}, {"k": 2, "v": 2}]
