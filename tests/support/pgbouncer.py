"""Debian's PgBouncer in transaction mode in front of the test PostgreSQL server.

``Bouncer(root, cluster)`` writes a config of its own under ``root`` (log, pid file and
the user list there) and runs ``pgbouncer`` on a free loopback port, as the ``postgres``
user when the tests run as root (PgBouncer refuses root). Every database of the cluster
is reachable through it, pooled per transaction: a server connection serves one
transaction, then the next client's — the mode in which session state (prepared
statements, LISTEN, session locks, SET) cannot be relied on.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from support.postgres import SUPERUSER, free_port

NOT_INSTALLED = (
    "PgBouncer is not installed: install Debian's `pgbouncer` package (./scripts/test does as root) "
    "to test the PostgreSQL store through it"
)
READY_TIMEOUT_S = 20.0

CONFIG = """\
[databases]
* = host=127.0.0.1 port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root}/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


def pgbouncer_binary() -> str | None:
    """Return PgBouncer's path, or None when it is not installed."""
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(path)), None
    )


class Bouncer:
    """One PgBouncer of the test's own; :meth:`close` stops it."""

    def __init__(self, root: Path, cluster: Any) -> None:
        binary = pgbouncer_binary()
        assert binary is not None, NOT_INSTALLED
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        (self.root / "users.txt").write_text(f'"{SUPERUSER}" ""\n')
        (self.root / "pgbouncer.ini").write_text(CONFIG.format(pg_port=cluster.port, port=self.port, root=self.root))
        prefix: list[str] = []
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            prefix = ["runuser", "-u", "postgres", "--"]
        self.process = subprocess.Popen(
            [*prefix, binary, str(self.root / "pgbouncer.ini")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"PgBouncer did not start:\n{self.log()}") from None
                time.sleep(0.05)

    def url(self, database_url: str) -> str:
        """Given a database URL of the cluster, return the same database through PgBouncer."""
        name = database_url.rsplit("/", 1)[1]
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        """Stop PgBouncer. Idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
