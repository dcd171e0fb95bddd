"""Debian's nginx as a round-robin reverse proxy in front of API replicas, for drills.

``NginxProxy(root, upstreams)`` writes a config of its own under ``root`` (error log,
pid file, temp folders and access log all there, so it runs as root or not, next to
any system nginx) and runs ``nginx -p root -c nginx.conf -g 'daemon off;'`` on a free
loopback port. Every path, ``/`` and ``/api/``, goes to the ``upstream`` of the
replicas in turn; a replica that refuses the connection, times out or answers 502/503
is skipped for the next one (``proxy_next_upstream``). The access log records which
upstream(s) answered each request (``$upstream_addr``: "A, B" when A failed first).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from support.live_server import READY_TIMEOUT_S, free_port

NOT_INSTALLED = (
    "nginx is not installed: install Debian's `nginx` package (./scripts/test does as root) "
    "to run the reverse-proxy drill"
)

CONFIG = """\
worker_processes 1;
{user}
error_log {root}/error.log info;
pid {root}/nginx.pid;
events {{ worker_connections {connections}; }}
http {{
    log_format upstreams '$request_method|$request_uri|$status|$upstream_addr|$upstream_status';
    access_log {root}/access.log upstreams;
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    upstream jobdash {{
{servers}
{keepalive}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://jobdash;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
{read_timeout}
            proxy_set_header Host $http_host;
{keepalive_headers}
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    """nginx's path (Debian puts it in /usr/sbin, not always on a user's PATH), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class NginxProxy:
    """nginx on a free loopback port, round-robin over ``upstreams`` (``host:port``)."""

    def __init__(
        self,
        root: Path,
        upstreams: list[str],
        *,
        connections: int = 256,
        keepalive: int = 0,
        read_timeout: str | None = "15s",
    ) -> None:
        """``connections``: nginx's worker_connections (each client and each upstream
        connection counts); ``keepalive``: idle connections kept open to the replicas
        (0: a new one per request); ``read_timeout``: ``proxy_read_timeout`` (None:
        nginx's default, 60 s)."""
        binary = nginx_binary()
        assert binary is not None, NOT_INSTALLED
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.upstreams = upstreams
        for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (root / "temp" / folder).mkdir(parents=True, exist_ok=True)
        # As root, nginx's workers would run as `nobody`, who cannot enter a private temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        servers = "\n".join(f"        server {upstream};" for upstream in upstreams)
        self.config = root / "nginx.conf"
        headers = (
            '            proxy_http_version 1.1;\n            proxy_set_header Connection "";' if keepalive else ""
        )
        self.config.write_text(
            CONFIG.format(
                user=user,
                root=root,
                servers=servers,
                port=self.port,
                connections=connections,
                keepalive=f"        keepalive {keepalive};" if keepalive else "",
                keepalive_headers=headers,
                read_timeout=f"            proxy_read_timeout {read_timeout};" if read_timeout else "",
            )
        )
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "") -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def output(self) -> str:
        parts = []
        for name in ("nginx.out", "error.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- nginx {name}:\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    def access_log(self) -> list[dict[str, Any]]:
        """Every request so far: method, uri, status and the upstreams tried, in order."""
        path = self.root / "access.log"
        entries = []
        for line in path.read_text().splitlines() if path.exists() else []:
            method, uri, status, upstreams, upstream_statuses = line.split("|")
            entries.append(
                {
                    "method": method,
                    "uri": uri,
                    "status": int(status),
                    "upstreams": upstreams.split(", "),
                    "upstream_statuses": upstream_statuses.split(", "),
                }
            )
        return entries

    def start(self) -> NginxProxy:
        """Check the config, start nginx, and return once it answers /healthz."""
        base = [self.binary, "-p", str(self.root), "-e", str(self.root / "error.log"), "-c", str(self.config)]
        checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30, check=False)
        assert checked.returncode == 0, f"nginx -t failed:\n{checked.stdout}{checked.stderr}"
        with open(self.root / "nginx.out", "ab") as out:
            self.process = subprocess.Popen(
                [*base, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url("healthz"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not answer on {self.base} within {READY_TIMEOUT_S} s:\n{self.output()}")

    def close(self) -> None:
        """Stop nginx (SIGQUIT: graceful; SIGKILL if it lingers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # nginx: graceful shutdown
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
