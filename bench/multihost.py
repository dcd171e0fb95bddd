#!/usr/bin/env python3
"""Multi-host drill: jobdash on five "hosts" that share nothing but a network.

    sudo .venv/bin/python bench/multihost.py            # about 10 s
    sudo .venv/bin/python bench/multihost.py --jobs 8 --files 500

Each host is a Linux network namespace of its own (``ip netns``), wired to a private
bridge that lives in a sixth namespace, with an address on a private subnet
(10.231.0.0/24 by default; nothing routes it anywhere: the machine's own network and
its ``lo`` are never touched) and its own host name (a UTS namespace, so the workers
registry shows real host names):

    db       10.231.0.2    a private PostgreSQL cluster (initdb in a temporary folder, run
                           as the ``postgres`` user), TCP on 10.231.0.2 only, trust auth
                           for the subnet in pg_hba.conf
    api      10.231.0.3    jobdash serve --no-worker --database postgresql://jobdash@10.231.0.2/jobdash
    worker1  10.231.0.11   jobdash worker --types scan --database ...
    worker2  10.231.0.12   jobdash worker --types scan --database ...
    client   10.231.0.100  queues scans (half with ``jobdash scan --database``, half with
                           ``POST /api/jobs`` and a bearer token) and checks everything
                           over HTTP from there

Every jobdash process gets an empty ``--data-dir``, HOME and TMPDIR of its own in its
host's folder. What the hosts share is the network, and one folder: the generated media
tree that the jobs scan. Job targets are paths on the worker hosts (think of a NAS
mounted at the same path everywhere); the store, the job logs, the workers registry and
the API share nothing but the network. (jobdash checks that a target exists on the host
that queues it — the client for ``jobdash scan``, the API host for ``POST /api/jobs`` —
so in a real deployment those hosts mount the media at the same path too.) The hosts also
run the same checkout and .venv: that is their installed software, not shared data.

It checks, and fails (exit 1, saying what) otherwise: every job completes with the
expected file count; /api/workers lists both workers, alive, with their own host names;
/api/jobs/{id}/logs returns each job's whole log (its first line names the worker host
that ran it) from the API host, which never saw a file the workers wrote; both workers
ran jobs; nothing listens on a loopback or wildcard address in any namespace; and every
process's data dir is still empty afterwards (no jobdash.db, no logs/). Then it prints a
short report: hosts, addresses, listening sockets, jobs per worker, seconds.

Needs root (network namespaces, ``runuser``), iproute2's ``ip``, util-linux's
``unshare``, PostgreSQL's server programs (Debian's ``postgresql`` package, or
JOBDASH_PG_BINDIR) and jobdash installed in the running Python (./scripts/setup-env):
without them it says why and exits 2. Namespaces, processes, the cluster and the
temporary folder are removed on exit, on failure and on Ctrl-C or SIGTERM.

The private cluster is the test suite's (tests/support/postgres.py), run inside the db
namespace. Not part of the test run itself; tests/test_multihost.py runs this script.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
if str(ROOT / "tests") not in sys.path:  # support.postgres: the test suite's private cluster
    sys.path.insert(0, str(ROOT / "tests"))
API_PORT = 8000
DB_PORT = 5432
DB_NAME = "jobdash"
HOST_OFFSETS = {"db": 2, "api": 3, "worker1": 11, "worker2": 12, "client": 100}
WORKERS = ("worker1", "worker2")
CANNOT_RUN = 2  # exit status: this machine cannot run the drill (not a failure of jobdash)


class CannotRun(Exception):
    """The drill cannot run here (not root, no `ip netns`, no PostgreSQL): exit 2."""


class DrillFailed(Exception):
    """A check failed: exit 1 with the message."""


class Stop(BaseException):
    """SIGTERM or SIGHUP: stop like Ctrl-C, cleaning up on the way out."""


def say(message: str) -> None:
    print(f"multihost: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- hosts


@dataclass
class Host:
    name: str  # also its host name
    netns: str
    address: str
    folder: Path  # everything of this host's own: data/, home/, tmp/, etc/

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def env(self) -> dict[str, str]:
        """A clean environment of this host's own: no JOBDASH_* (or anything else) leaks
        in from the caller's; HOME and TMPDIR in the host's folder."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(self.folder / "home"),
            "TMPDIR": str(self.folder / "tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run on this host: in its network namespace, with its own host name.

        Every step execs the next (ip netns exec, unshare, sh), so the process started
        is the program itself: signals reach it directly.
        """
        return [
            "ip", "netns", "exec", self.netns,
            "unshare", "--uts", "--",
            "sh", "-c", 'hostname "$0" && exec "$@"', self.name,
            *argv,
        ]  # fmt: skip


def ip(*args: str) -> None:
    """Run one `ip` command; DrillFailed (or CannotRun via the caller) with its stderr."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise DrillFailed(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")


def listening(host: Host) -> list[str]:
    """The TCP addresses something listens on in ``host``'s namespace (``ss -Hltn``)."""
    done = subprocess.run(
        ["ip", "netns", "exec", host.netns, "ss", "-Hltn"], capture_output=True, text=True, timeout=30
    )
    return sorted(line.split()[3] for line in done.stdout.splitlines() if line.strip())


# --------------------------------------------------------------------------- cleanup


class Cleanup:
    """Undo steps, run last-registered first, each one whatever happened to the others."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], None]]] = []

    def add(self, what: str, step: Callable[[], None]) -> None:
        self.steps.append((what, step))

    def run(self) -> None:
        while self.steps:
            what, step = self.steps.pop()
            try:
                step()
            except Exception as error:  # noqa: BLE001 — keep cleaning up, and say what was left
                say(f"cleanup: could not {what}: {error}")


# --------------------------------------------------------------------------- processes


@dataclass
class Service:
    name: str
    host: Host
    popen: subprocess.Popen[bytes]
    console: Path
    stopped: bool = field(default=False)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise DrillFailed(f"{self.name} on {self.host.name} exited ({self.popen.returncode}):\n{self.tail()}")

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.console.read_text(errors="replace").splitlines()
        except OSError:
            return "(no output)"
        return "\n".join(f"    {self.name}| {line}" for line in text[-lines:]) or "    (no output)"

    def stop(self) -> None:
        """SIGTERM (a worker releases its job and marks itself stopped), SIGKILL after 15 s."""
        if self.stopped:
            return
        self.stopped = True
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)  # its own session: only what it started
                self.popen.wait(5)


def start_service(name: str, host: Host, argv: list[str], consoles: Path) -> Service:
    console = consoles / f"{name}.log"
    with console.open("wb") as out:
        popen = subprocess.Popen(
            host.command(argv),
            cwd=host.folder,
            env=host.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only this script, which stops them in order
        )
    return Service(name, host, popen, console)


# --------------------------------------------------------------------------- PostgreSQL


def namespaced_cluster_class() -> Any:
    """The tests' PrivateCluster, run in the db host's namespace on its address only."""
    from support.postgres import FAST_SETTINGS, SUPERUSER, PrivateCluster

    class NamespacedCluster(PrivateCluster):  # type: ignore[misc]
        def __init__(self, root: Path, host: Host, subnet: str) -> None:
            # A later -c wins: listen on the host's address instead of the 127.0.0.1 the
            # tests' cluster asks for.
            super().__init__(root, settings=(*FAST_SETTINGS, f"listen_addresses={host.address}"))
            self.host = host
            self.subnet = subnet

        def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
            prefix = ["runuser", "-u", self._user, "--"] if self._user else []
            return subprocess.run(
                self.host.command([*prefix, *argv]), capture_output=True, text=True, check=check, timeout=120
            )

        def start_server(self) -> None:
            hba = self.data / "pg_hba.conf"
            rule = f"host all all {self.subnet} trust\n"
            if rule not in hba.read_text():
                with hba.open("a") as out:
                    out.write(f"# jobdash multihost drill: the drill's private subnet\n{rule}")
            self.port = DB_PORT  # the namespace's own: nothing else listens there
            super().start_server()

        def url(self, database: str = "postgres") -> str:
            return f"postgresql://{SUPERUSER}@{self.host.address}:{self.port}/{database}"

        def create_database(self, name: str) -> str:
            made = self._run(
                str(self.bin / "createdb"), "-h", str(self.sockets), "-p", str(self.port), "-U", SUPERUSER, name,
                check=False,
            )  # fmt: skip
            if made.returncode != 0:
                raise DrillFailed(f"createdb {name} failed: {made.stderr.strip()}")
            return self.url(name)

    return NamespacedCluster


# --------------------------------------------------------------------------- the drill


def preflight() -> None:
    """CannotRun saying why, when this machine cannot run the drill."""
    if os.geteuid() != 0:
        raise CannotRun("needs root (network namespaces, and PostgreSQL run as the `postgres` user)")
    for tool, package in (("ip", "iproute2"), ("unshare", "util-linux"), ("runuser", "util-linux"), ("ss", "iproute2")):
        if shutil.which(tool) is None:
            raise CannotRun(f"`{tool}` not found: install {package}")
    try:
        import psycopg  # noqa: F401

        import jobdash  # noqa: F401
    except ImportError as error:
        raise CannotRun(
            f"jobdash is not installed in {sys.executable} ({error}): run ./scripts/setup-env, "
            "then .venv/bin/python bench/multihost.py"
        ) from None
    from support.postgres import ClusterUnavailable, bin_dir

    try:
        programs = bin_dir()
    except ClusterUnavailable as error:
        raise CannotRun(str(error)) from None
    for program in ("initdb", "pg_ctl", "createdb"):
        if not (programs / program).is_file():
            raise CannotRun(
                f"{programs / program} not found: install Debian's `postgresql` package or fix JOBDASH_PG_BINDIR"
            )


def make_hosts(run: Path, subnet: ipaddress.IPv4Network) -> dict[str, Host]:
    prefix = f"jdmh-{os.getpid()}-"
    hosts = {}
    for name, offset in HOST_OFFSETS.items():
        folder = run / "hosts" / name
        for sub in ("data", "home", "tmp", "etc"):
            (folder / sub).mkdir(parents=True)
        hosts[name] = Host(name, prefix + name, str(subnet.network_address + offset), folder)
    return hosts


def wire(hosts: dict[str, Host], subnet: ipaddress.IPv4Network, cleanup: Cleanup) -> str:
    """Create the namespaces, the bridge (in a namespace of its own) and one veth pair per
    host; return the bridge namespace's name."""
    switch = next(iter(hosts.values())).netns.rsplit("-", 1)[0] + "-switch"
    try:
        ip("netns", "add", switch)
    except DrillFailed as error:
        raise CannotRun(f"cannot create a network namespace: {error}") from None
    cleanup.add(f"delete namespace {switch}", lambda: ip("netns", "del", switch))
    ip("-n", switch, "link", "add", "br0", "type", "bridge")
    ip("-n", switch, "link", "set", "br0", "up")
    for host in hosts.values():
        ip("netns", "add", host.netns)
        cleanup.add(f"delete namespace {host.netns}", lambda ns=host.netns: ip("netns", "del", ns))
        port = f"p-{host.name}"
        ip("-n", switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
        ip("-n", switch, "link", "set", port, "master", "br0", "up")
        ip("-n", host.netns, "link", "set", "lo", "up")
        ip("-n", host.netns, "addr", "add", f"{host.address}/{subnet.prefixlen}", "dev", "eth0")
        ip("-n", host.netns, "link", "set", "eth0", "up")
    return switch


def check_listeners(hosts: dict[str, Host], api_port: int) -> dict[str, list[str]]:
    """What listens where; DrillFailed when anything listens on loopback or a wildcard."""
    found = {name: listening(host) for name, host in hosts.items()}
    expected = {"db": [f"{hosts['db'].address}:{DB_PORT}"], "api": [f"{hosts['api'].address}:{api_port}"]}
    for name, addresses in found.items():
        if addresses != expected.get(name, []):
            raise DrillFailed(
                f"{name} listens on {addresses or 'nothing'}; expected {expected.get(name) or 'nothing'} "
                "(only the host's own address, never loopback or a wildcard)"
            )
    return found


def leftovers(host: Host) -> tuple[list[str], list[str]]:
    """Given a host, return (files in its data dir, job data anywhere in its folder)."""
    in_data = sorted(str(p.relative_to(host.data_dir)) for p in host.data_dir.rglob("*"))
    job_data = sorted(
        str(p.relative_to(host.folder))
        for p in host.folder.rglob("*")
        if p.name.startswith("jobdash.db") or p.name == "logs" or p.suffix == ".log"
    )
    return in_data, job_data


def drill(args: argparse.Namespace, cleanup: Cleanup) -> None:
    started = time.monotonic()
    preflight()
    subnet = ipaddress.ip_network(args.subnet)
    run = Path(tempfile.mkdtemp(prefix="jdmh-"))
    cleanup.add(f"remove {run}", lambda: shutil.rmtree(run))
    # PostgreSQL runs as `postgres`: it must be able to walk down to its cluster folder.
    hosts = make_hosts(run, subnet)
    for folder in (run, run / "hosts", hosts["db"].folder):
        folder.chmod(0o711)
    consoles = run / "console"  # the processes' stdout/stderr: the drill's, not the hosts'
    consoles.mkdir()

    # The one shared folder: the media the jobs scan ("a NAS mounted at the same path").
    from jobdash.jobs.sample_library import make_library

    media = run / "media"
    targets = []
    for index in range(args.jobs):
        target = media / f"library-{index + 1}"
        made = make_library(target, files=args.files, seed=index, max_size=32 * 1024)
        targets.append({"path": str(target), "media_files": made["media_files"]})

    wire(hosts, subnet, cleanup)
    net_ready = time.monotonic()
    say(f"{len(hosts)} hosts wired on {subnet} ({net_ready - started:.1f} s); starting PostgreSQL on db")

    cluster = namespaced_cluster_class()(hosts["db"].folder / "cluster", hosts["db"], str(subnet))
    cleanup.add("stop the PostgreSQL cluster", cluster.stop)
    try:
        cluster.start()
    except Exception as error:  # ClusterUnavailable: initdb or the server failed
        raise DrillFailed(f"PostgreSQL on db: {error}") from None
    database = cluster.create_database(DB_NAME)
    db_ready = time.monotonic()
    say(f"PostgreSQL up at {database} ({db_ready - net_ready:.1f} s); starting api, worker1, worker2")

    python = [sys.executable, "-m", "jobdash"]
    api = hosts["api"]
    token = secrets.token_urlsafe(24)
    token_file = api.folder / "etc" / "api-tokens"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    services: list[Service] = []

    def stop_services() -> None:
        for service in services:  # workers first: they release or finish their jobs
            service.stop()

    cleanup.add("stop the jobdash processes", stop_services)
    for name in WORKERS:
        host = hosts[name]
        argv = [
            *python, "worker", "--database", database, "--types", "scan", "--data-dir", str(host.data_dir),
            "--max-files-per-second", str(args.rate),
        ]  # fmt: skip
        services.append(start_service(name, host, argv, consoles))
    argv = [
        *python, "serve", "--no-worker", "--database", database, "--host", api.address, "--port", str(API_PORT),
        "--data-dir", str(api.data_dir), "--api-token-file", str(token_file),
    ]  # fmt: skip
    services.append(start_service("api", api, argv, consoles))

    # The client side: queue and check from the client host, over the network only.
    client = hosts["client"]
    config = {
        "api": f"http://{api.address}:{API_PORT}",
        "database": database,
        "data_dir": str(client.data_dir),
        "token": token,
        "targets": targets,
        "workers": list(WORKERS),
        "timeout": args.timeout,
        "python": sys.executable,
    }
    client_started = time.monotonic()
    done = subprocess.run(
        client.command([sys.executable, str(SCRIPT), "_client"]),
        input=json.dumps(config),
        stdout=subprocess.PIPE,
        text=True,
        cwd=client.folder,
        env=client.env(),
        timeout=args.timeout + 120,
        start_new_session=True,  # Ctrl-C stops the drill, which stops the client
    )
    for service in services:
        service.check_alive()
    if done.returncode != 0:
        raise DrillFailed("the client's checks failed (above)\n" + "\n".join(service.tail() for service in services))
    result = json.loads(done.stdout)
    client_done = time.monotonic()

    sockets = check_listeners(hosts, API_PORT)
    stop_services()  # before looking at data dirs: a stopping process could still write
    for service in services:
        if service.popen.returncode not in (0, -signal.SIGTERM):
            raise DrillFailed(f"{service.name} stopped with status {service.popen.returncode}:\n{service.tail()}")
    stray = {}
    for name in ("api", *WORKERS, "client"):
        in_data, job_data = leftovers(hosts[name])
        if in_data or job_data:
            raise DrillFailed(
                f"{name} wrote job data to its own disk: data dir {hosts[name].data_dir} holds {in_data}; "
                f"job files {job_data}"
            )
        stray[name] = sorted(
            str(p.relative_to(hosts[name].folder)) for p in hosts[name].folder.rglob("*") if p.is_file()
        )

    report(args, hosts, subnet, media, targets, result, sockets, stray, token_file, {
        "network": net_ready - started,
        "postgres": db_ready - net_ready,
        "services and jobs (client)": client_done - client_started,
        "total": time.monotonic() - started,
    })  # fmt: skip


def report(
    args: argparse.Namespace,
    hosts: dict[str, Host],
    subnet: ipaddress.IPv4Network,
    media: Path,
    targets: list[dict[str, Any]],
    result: dict[str, Any],
    sockets: dict[str, list[str]],
    stray: dict[str, list[str]],
    token_file: Path,
    seconds: dict[str, float],
) -> None:
    roles = {
        "db": "PostgreSQL (private cluster, as `postgres`)",
        "api": "jobdash serve --no-worker",
        "worker1": "jobdash worker --types scan",
        "worker2": "jobdash worker --types scan",
        "client": "jobdash scan + POST /api/jobs; HTTP checks",
    }
    out = [
        f"jobdash multi-host drill: {len(hosts)} hosts (network namespaces {hosts['db'].netns.rsplit('-', 1)[0]}-*) "
        f"on a private bridge, {subnet}",
        f"  {'host':<8} {'address':<14} {'role':<44} listens on",
    ]
    for name, host in hosts.items():
        out.append(f"  {name:<8} {host.address:<14} {roles[name]:<44} {', '.join(sockets[name]) or '-'}")
    out.append(f"  store: {result['database']}")
    out.append(
        f"  shared: the network, and the media tree {media} (job targets are paths on the "
        "worker hosts, like a NAS mount); the checkout and .venv are the hosts' installed software"
    )
    out.append("")
    out.append(f"jobs: {len(result['jobs'])} scans, all completed")
    out.append(f"  {'job':<9} {'queued via':<17} {'ran on':<20} {'files':>5} {'log lines':>9}  seconds")
    per_worker: dict[str, int] = {}
    for job in result["jobs"]:
        ran_on = f"{job['host']} (pid {job['pid']})"
        per_worker[job["host"]] = per_worker.get(job["host"], 0) + 1
        out.append(
            f"  {job['id'][:8]:<9} {job['via']:<17} {ran_on:<20} {job['files']:>5} {job['log_lines']:>9}"
            f"  {job['duration_seconds']}"
        )
    out.append("  by worker: " + ", ".join(f"{host} {n} job{'s' if n != 1 else ''}" for host, n in per_worker.items()))
    out.append(
        "  /api/workers: "
        + "; ".join(f"{w['host']} pid {w['pid']} {w['state']} ({', '.join(w['types'])})" for w in result["workers"])
    )
    out.append(
        f"  logs: all {sum(j['log_lines'] for j in result['jobs']):,} lines of the {len(result['jobs'])} jobs "
        f"read over HTTP from api ({hosts['api'].address}), which never saw a worker's file; "
        "each log's first line names the worker host"
    )
    out.append("")
    out.append("own disks after stopping: every data dir empty (no jobdash.db, no logs/)")
    for name, files in stray.items():
        others = [f for f in files if f != str(token_file.relative_to(hosts["api"].folder))]
        out.append(f"  {name:<8} {hosts[name].folder}: {', '.join(others) if others else 'nothing else written'}")
    out.append("")
    out.append("seconds: " + ", ".join(f"{what} {value:.1f}" for what, value in seconds.items()))
    out.append("OK")
    print("\n".join(out), flush=True)


# --------------------------------------------------------------------------- client host


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One request (no proxies, no redirects); return (status, parsed JSON or None)."""
    without_scheme = url.split("://", 1)[1]
    netloc, _, path = without_scheme.partition("/")
    host, _, port = netloc.partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80), timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, "/" + path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


def wait_until(what: str, check: Callable[[], Any], timeout: float) -> Any:
    """Call ``check`` until it returns something true; DrillFailed after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as error:  # not listening yet, unreachable
            last = f"{type(error).__name__}: {error}"
        else:
            if last and not isinstance(last, str):
                return last
        time.sleep(0.2)
    raise DrillFailed(f"timed out after {timeout:g} s waiting for {what} (last: {last})")


def client_phase(config: dict[str, Any]) -> dict[str, Any]:
    api = config["api"]
    python = [config["python"], "-m", "jobdash"]
    note = lambda message: say(f"client: {message}")  # noqa: E731

    def healthy() -> Any:
        status, body = http_json("GET", f"{api}/healthz")
        return status == 200 or f"{status} {body}"

    wait_until(f"{api}/healthz", healthy, 60)

    def both_workers() -> Any:
        status, body = http_json("GET", f"{api}/api/workers")
        if status != 200:
            return f"{status} {body}"
        alive = {w["host"] for w in body["workers"] if w["state"] == "alive"}
        return body["workers"] if alive >= set(config["workers"]) else f"alive: {sorted(alive)}"

    workers = wait_until("both workers in /api/workers", both_workers, 60)
    note(f"api healthy at {api}; workers alive: " + ", ".join(f"{w['host']} pid {w['pid']}" for w in workers))

    queued = []
    for index, target in enumerate(config["targets"]):
        if index % 2 == 0:
            argv = [*python, "scan", target["path"], "--database", config["database"], "--data-dir", config["data_dir"]]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise DrillFailed(f"`jobdash scan` failed ({done.returncode}): {done.stderr.strip()}")
            job_id, via = done.stdout.strip(), "jobdash scan"
        else:
            status, body = http_json(
                "POST",
                f"{api}/api/jobs",
                {"type": "scan", "target": target["path"]},
                {"Authorization": f"Bearer {config['token']}", "Idempotency-Key": f"multihost-{index}"},
            )
            if status != 201:
                raise DrillFailed(f"POST /api/jobs answered {status}: {body}")
            job_id, via = body["id"], "POST /api/jobs"
        queued.append({"id": job_id, "via": via, "target": target})
    note(f"queued {len(queued)} scans: " + ", ".join(f"{q['id'][:8]} ({q['via']})" for q in queued))

    jobs = []
    for entry in queued:
        job_id = entry["id"]

        def ended(job_id: str = job_id) -> Any:
            status, body = http_json("GET", f"{api}/api/jobs/{job_id}")
            if status != 200:
                return f"{status} {body}"
            return body if body["status"] in ("completed", "failed", "cancelled") else f"{body['status']}"

        job = wait_until(f"job {job_id} to end", ended, config["timeout"])
        expected = entry["target"]["media_files"]
        if job["status"] != "completed":
            raise DrillFailed(f"job {job_id} {job['status']}: {job.get('error_message')}")
        scanned = (job.get("summary_raw") or {}).get("files_scanned")
        if scanned != expected:
            raise DrillFailed(f"job {job_id} scanned {scanned} files; the tree holds {expected}: {job.get('summary')}")
        if not job.get("has_logs"):
            raise DrillFailed(f"job {job_id}: has_logs is false")
        status, log = http_json("GET", f"{api}/api/jobs/{job_id}/logs?offset=0&lines=1000")
        if status != 200:
            raise DrillFailed(f"GET /api/jobs/{job_id}/logs answered {status}: {log}")
        lines = [line if isinstance(line, str) else json.dumps(line) for line in log["lines"]]
        total = log["total_lines"]
        if total != len(lines) or log["has_more"] or total < expected + 2:
            raise DrillFailed(
                f"job {job_id}: log of {total} lines ({len(lines)} returned, has_more {log['has_more']}) "
                f"for {expected} files"
            )
        # "job <id> (scan <path>) started by worker <pid> on <host>"
        first = lines[0]
        if "started by worker" not in first:
            raise DrillFailed(f"job {job_id}: first log line does not say who ran it: {first!r}")
        words = first.split("started by worker", 1)[1].split()
        pid, host = int(words[0]), words[2]
        if host not in config["workers"]:
            raise DrillFailed(f"job {job_id} ran on {host!r}, not on a worker host: {first!r}")
        if not any("job completed" in line for line in lines[-2:]):
            raise DrillFailed(f"job {job_id}: log does not end with its completion: {lines[-2:]}")
        # Polling from an absolute offset: the last three lines, and nothing more.
        status, tail = http_json("GET", f"{api}/api/jobs/{job_id}/logs?offset={total - 3}&lines=100")
        tail_lines = [line if isinstance(line, str) else json.dumps(line) for line in tail["lines"]]
        if status != 200 or tail_lines != lines[-3:] or tail["has_more"]:
            raise DrillFailed(f"job {job_id}: logs?offset={total - 3} gave {status} {tail}")
        jobs.append({
            "id": job_id, "via": entry["via"], "host": host, "pid": pid, "files": scanned,
            "log_lines": total, "duration_seconds": job.get("duration_seconds"),
        })  # fmt: skip
    hosts_used = {job["host"] for job in jobs}
    if hosts_used != set(config["workers"]):
        raise DrillFailed(f"only {sorted(hosts_used)} ran jobs; every worker should have (try more --jobs)")

    status, body = http_json("GET", f"{api}/api/workers")
    workers = [w for w in body["workers"] if w["state"] == "alive"]
    by_host = {w["host"]: w for w in workers}
    if status != 200 or set(by_host) != set(config["workers"]):
        raise DrillFailed(f"/api/workers: {status} {body}")
    for job in jobs:
        if by_host[job["host"]]["pid"] != job["pid"]:
            raise DrillFailed(f"job {job['id']}: pid {job['pid']} is not {job['host']}'s worker: {by_host}")
    shown = subprocess.run(
        [*python, "workers", "--database", config["database"], "--data-dir", config["data_dir"]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    note("`jobdash workers --database ...` on the client:\n" + shown.stdout.rstrip())
    return {"jobs": jobs, "workers": workers, "database": config["database"]}


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="multihost.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 all checks passed; 1 a check failed (the message says which);\n"
        "2 this machine cannot run the drill (not root, no `ip netns`, no PostgreSQL);\n"
        "130 Ctrl-C, 143 SIGTERM (cleaned up either way)",
    )
    parser.add_argument("--jobs", type=int, default=4, metavar="N", help="scans to queue, one tree each (default: 4)")
    parser.add_argument(
        "--files", type=int, default=150, metavar="N", help="media files in each generated tree (default: 150)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=300,
        metavar="FILES/S",
        help="the workers' --max-files-per-second, so that jobs overlap and both workers get some (default: 300)",
    )
    parser.add_argument(
        "--subnet",
        default="10.231.0.0/24",
        help="private IPv4 subnet of the hosts, /25 or larger; it exists only inside the namespaces (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60, metavar="S", help="seconds each job may take (default: 60)"
    )
    args = parser.parse_args(argv)
    try:
        subnet = ipaddress.ip_network(args.subnet)
    except ValueError as error:
        parser.error(f"--subnet: {error}")
    if subnet.version != 4 or subnet.prefixlen > 25:
        parser.error("--subnet must be an IPv4 network of /25 or larger (hosts use .2 to .100)")
    if args.jobs < 2:
        parser.error("--jobs must be at least 2 (one for each worker)")
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["_client"]:  # the client host's half, run by the drill inside its namespace
        try:
            print(json.dumps(client_phase(json.load(sys.stdin))))
        except DrillFailed as error:
            say(f"client: FAILED: {error}")
            return 1
        return 0
    args = parse_args(argv)

    def stop(signum: int, _frame: Any) -> None:
        raise Stop(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    cleanup = Cleanup()
    status = 0
    try:
        drill(args, cleanup)
    except CannotRun as error:
        say(f"cannot run here: {error}")
        status = CANNOT_RUN
    except DrillFailed as error:
        say(f"FAILED: {error}")
        status = 1
    except subprocess.TimeoutExpired as error:
        say(f"FAILED: timed out: {error}")
        status = 1
    except KeyboardInterrupt:
        say("interrupted (Ctrl-C); cleaning up")
        status = 128 + signal.SIGINT
    except Stop as error:
        say(f"stopped ({signal.Signals(error.args[0]).name}); cleaning up")
        status = 128 + error.args[0]
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # cleanup runs to its end
        cleanup.run()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
