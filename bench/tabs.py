"""Simulated browser tabs polling the API: the load generator of bench/scale.py.

    python bench/tabs.py --port P --plan PLAN.json [--tabs 1000] [--interval 5] [--duration 60]

Each tab is one keep-alive connection (one browser each) that polls its page every
``--interval`` seconds on a fixed schedule from a random phase, so ``tabs / interval``
requests per second are offered (1,000 tabs every 5 s: 200 req/s). Like the pages:

- never two requests in flight per tab (a late answer delays that tab's next poll);
- ``If-None-Match`` with the ETag last received for the same URL (a page's first load
  has none), ``Accept-Encoding: gzip`` as browsers send it;
- a request times out after 10 s (an error); when the server closed an idle keep-alive
  connection just as the tab reused it (no byte of an answer received), the request is
  retried once on a new connection, as browsers do for idempotent requests (counted as a
  retry, not an error).

The plan (JSON) gives the pages: ``lists``: [[path, weight], ...] for dashboard tabs,
``watch``: [[job id, weight], ...] for job-detail tabs, and ``dashboard_share`` (0.7).
A dashboard tab polls its one list URL. A detail tab polls its job twice, then its log
(``offset`` = the line after the last it holds; the tail on its first log poll) once, in
turn: with 70% dashboard tabs that is ~70% list, ~20% detail and ~10% log polls.

Prints one JSON object: per kind (list, detail, log) requests, statuses, p50/p99/max
latency, bytes; errors; connections opened; retries; how late the generator itself
started requests (its own health); its CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST, percentile  # noqa: E402 (after the path set-up)

TIMEOUT_S = 10.0
KINDS = ("list", "detail", "log")


class NoAnswer(Exception):
    """The connection closed before any byte of an answer arrived."""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    wire_bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    errors: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    retries: int = 0
    lags: list[float] = field(default_factory=list)  # ms between a tick and its request start

    def summary(self, seconds: float, offered_rps: float, tabs: int) -> dict[str, Any]:
        """Given the polling window's length, return the figures as JSON-able data."""
        kinds: dict[str, Any] = {}
        every: list[float] = []
        for kind in KINDS:
            values = sorted(self.latencies[kind])
            every.extend(values)
            kinds[kind] = {
                "requests": len(values),
                "statuses": dict(self.statuses[kind]),
                "p50_ms": percentile(values, 0.50),
                "p99_ms": percentile(values, 0.99),
                "max_ms": values[-1] if values else 0.0,
                "bytes_per_response": self.wire_bytes[kind] / max(len(values), 1),
            }
        every.sort()
        lags = sorted(self.lags)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "tabs": tabs,
            "seconds": seconds,
            "offered_rps": offered_rps,
            "requests": len(every),
            "rps": len(every) / seconds if seconds else 0.0,
            "p50_ms": percentile(every, 0.50),
            "p99_ms": percentile(every, 0.99),
            "max_ms": every[-1] if every else 0.0,
            "bytes_per_response": sum(self.wire_bytes.values()) / max(len(every), 1),
            "not_modified": sum(self.statuses[k][304] for k in KINDS),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors.most_common(5)),
            "connects": self.connects,
            "retries": self.retries,
            "start_lag_p99_ms": percentile(lags, 0.99),
            "start_lag_max_ms": lags[-1] if lags else 0.0,
            "generator_cpu_s": usage.ru_utime + usage.ru_stime,
            "kinds": kinds,
        }


class Connection:
    """One keep-alive HTTP/1.1 connection, as one browser holds to the API's origin."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port = port
        self.stats = stats
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.stats.connects += 1

    async def _exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes, int]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        await self.writer.drain()
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise NoAnswer from None
            raise
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if status == 304 or status == 204 or status < 200:
            body = b""
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body, len(head) + len(body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def get(self, path: str, etag: str | None) -> tuple[int, dict[str, str], bytes, int]:
        """GET ``path``: (status, headers, body, bytes received)."""
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nUser-Agent: jobdash-bench-tab\r\n"
            "Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\n"
            + (f"If-None-Match: {etag}\r\n" if etag else "")
            + "\r\n"
        ).encode()
        for attempt in (0, 1):
            reused = self.writer is not None and self.reader is not None and not self.reader.at_eof()
            if not reused:
                await self._open()
            try:
                return await self._exchange(request)
            except (NoAnswer, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 0:
                    self.stats.retries += 1
                    continue
                raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")


def _json(headers: dict[str, str], body: bytes) -> Any:
    if headers.get("content-encoding") == "gzip":
        body = zlib.decompress(body, wbits=31)
    return json.loads(body)


class Tab:
    """One open page: a dashboard view or a job's detail page (status + log)."""

    def __init__(self, port: int, stats: Stats, *, list_path: str | None, job_id: str | None) -> None:
        self.conn = Connection(port, stats)
        self.stats = stats
        self.list_path = list_path
        self.job_id = job_id
        self.etags: dict[str, tuple[str, str]] = {}  # kind -> (URL, its last ETag), as the pages keep
        self.log_offset: int | None = None  # None: the first log poll asks for the tail

    def _next(self, tick: int) -> tuple[str, str]:
        if self.list_path is not None:
            return "list", self.list_path
        if tick % 3 == 2:
            suffix = "" if self.log_offset is None else f"?offset={self.log_offset}"
            return "log", f"/api/jobs/{self.job_id}/logs{suffix}"
        return "detail", f"/api/jobs/{self.job_id}"

    async def poll(self, tick: int) -> None:
        kind, path = self._next(tick)
        began = time.perf_counter()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                url, etag = self.etags.get(kind, ("", ""))
                status, headers, body, size = await self.conn.get(path, etag if url == path else None)
        except TimeoutError:
            self.conn.close()
            self.stats.errors[f"{kind}: timeout after {TIMEOUT_S:g} s"] += 1
            return
        except Exception as error:  # noqa: BLE001 (every failure is an error to count)
            self.stats.errors[f"{kind}: {type(error).__name__}"] += 1
            return
        self.stats.latencies[kind].append((time.perf_counter() - began) * 1000)
        self.stats.statuses[kind][status] += 1
        self.stats.wire_bytes[kind] += size
        if status >= 400:
            self.stats.errors[f"{kind}: HTTP {status}"] += 1
            return
        if "etag" in headers:
            self.etags[kind] = (path, headers["etag"])
        if kind == "log" and status == 200:
            page = _json(headers, body)
            self.log_offset = page["offset"] + len(page["lines"])

    async def run(self, first_tick: float, interval: float, stop_at: float) -> None:
        loop = asyncio.get_running_loop()
        tick, due = 0, first_tick
        try:
            while due < stop_at:
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.stats.lags.append(max(0.0, loop.time() - due) * 1000)
                await self.poll(tick)
                tick += 1
                # Fixed schedule; after a late answer the next poll goes out at once.
                due += interval
        finally:
            self.conn.close()


def _weighted(pairs: list[list[Any]], count: int, rng: random.Random) -> list[Any]:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights, k=count)


async def run(
    port: int, plan: dict[str, Any], tabs: int, interval: float, duration: float, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    stats = Stats()
    dashboards = round(tabs * plan.get("dashboard_share", 0.7))
    pages: list[Tab] = [
        Tab(port, stats, list_path=path, job_id=None) for path in _weighted(plan["lists"], dashboards, rng)
    ]
    pages += [
        Tab(port, stats, list_path=None, job_id=job_id) for job_id in _weighted(plan["watch"], tabs - dashboards, rng)
    ]
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    stop_at = start + duration
    await asyncio.gather(*(tab.run(start + rng.uniform(0, interval), interval, stop_at) for tab in pages))
    return stats.summary(duration, tabs / interval, tabs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="JSON: lists, watch, dashboard_share")
    parser.add_argument("--tabs", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a tab's polls")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of polling")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text())
    print(json.dumps(asyncio.run(run(args.port, plan, args.tabs, args.interval, args.duration, args.seed))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
