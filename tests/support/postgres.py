"""A private PostgreSQL cluster for the tests: ``initdb`` into a temporary directory, a
server on a free loopback port, stopped (and its files removed) at the end.

PostgreSQL refuses to run as root, so under root the server runs as the ``postgres``
system user (Debian's package creates it) and owns its directory. Each test gets a
database of its own, copied from a template that already has the schema, so tests
never see each other's rows.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

# Durability is not what these tests check: skip the fsyncs so the suite stays fast.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
SUPERUSER = "jobdash"


class ClusterUnavailable(Exception):
    """PostgreSQL's server programs are not installed here (the message says what to do)."""


def bin_dir() -> Path:
    """Return the folder of PostgreSQL's server programs (initdb, pg_ctl).

    ``JOBDASH_PG_BINDIR`` wins; else the newest ``/usr/lib/postgresql/<version>/bin``
    (Debian's layout), else wherever ``initdb`` is on the PATH.
    """
    override = os.environ.get("JOBDASH_PG_BINDIR")
    if override:
        return Path(override)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ClusterUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: install Debian's "
        "`postgresql` package (./scripts/test does as root) or set JOBDASH_PG_BINDIR"
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateCluster:
    """One PostgreSQL server of the test session's own.

    >>> cluster = PrivateCluster(tmp_dir).start()          # doctest: +SKIP
    >>> url = cluster.new_database()                       # doctest: +SKIP
    """

    def __init__(self, root: Path, *, settings: tuple[str, ...] = FAST_SETTINGS) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.logfile = self.root / "server.log"
        self.port = 0
        self.settings = settings
        self.bin = bin_dir()
        self._user: str | None = "postgres" if os.geteuid() == 0 else None
        self.template: str | None = None

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self._user, "--"] if self._user else []
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> PrivateCluster:
        """Create the cluster and start its server; return self."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self._user:
            try:
                entry = pwd.getpwnam(self._user)
            except KeyError:
                raise ClusterUnavailable(
                    "running as root, and there is no `postgres` user to run the test server as "
                    "(Debian's postgresql package creates it)"
                ) from None
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        initdb = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-instructions",
            check=False,
        )
        if initdb.returncode != 0:
            raise ClusterUnavailable(f"initdb failed: {initdb.stderr.strip()}")
        self.port = free_port()
        self.start_server()
        return self

    def start_server(self) -> None:
        """Start (or restart after :meth:`stop_server`) the server on the cluster's port."""
        options = [f"-p {self.port}", f"-k {self.sockets}", "-c listen_addresses=127.0.0.1"]
        options += [f"-c {setting}" for setting in self.settings]
        started = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if started.returncode != 0:
            log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            raise ClusterUnavailable(f"the test PostgreSQL server did not start: {started.stderr.strip()}\n{log}")

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect clients; ``immediate``: like a crash)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def stop(self) -> None:
        """Stop the server and remove the cluster's files. Idempotent."""
        if self.data.exists():
            self.stop_server()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """Return the connection URL of ``database`` on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE) as the superuser."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """Create an empty database with jobdash's schema; return its URL.

        The first call migrates a template database; every later one copies it, which
        costs a file copy instead of running every migration again.
        """
        if self.template is None:
            from jobdash.store.postgres.store import PostgresStore

            self.admin("CREATE DATABASE jobdash_template")
            PostgresStore(self.url("jobdash_template")).close()
            self.template = "jobdash_template"
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {self.template} STRATEGY FILE_COPY")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` (made by :meth:`new_database`), closing its sessions."""
        name = url.rsplit("/", 1)[1]
        assert name.startswith("t_"), name
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
