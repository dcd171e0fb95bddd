"""An app served by uvicorn on a free port in a thread of the test process, over real HTTP.

For what ``httpx.ASGITransport`` cannot show: held requests (lifespan tasks running, a
client that goes away, a server that shuts down) answered on real sockets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from jobdash.http.serving import ReleasingServer
from support.apiclient import make_app
from support.live_server import free_port

START_TIMEOUT_S = 10.0


@dataclass
class ServedApp:
    """A running app: itself, its base URL and its uvicorn server."""

    app: Any
    base: str
    server: ReleasingServer
    thread: threading.Thread

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def stop(self) -> None:
        """Ask the server to shut down (as SIGTERM does) and wait until it has."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the server did not stop within 15 s"


@contextmanager
def serving(app: Any) -> Iterator[ServedApp]:
    """Serve ``app`` (as `jobdash serve` does: a releasing uvicorn server) on a free
    loopback port in a thread; yield the :class:`ServedApp`, stopped afterwards."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = ReleasingServer(config)
    thread = threading.Thread(target=server.run, name="served-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.01)
    served = ServedApp(app, f"http://127.0.0.1:{port}", server, thread)
    try:
        yield served
    finally:
        if thread.is_alive():
            served.stop()


@contextmanager
def served_app(data_dir: Path, **settings: Any) -> Iterator[ServedApp]:
    """Yield a :class:`ServedApp` for a fresh app on ``data_dir`` (no worker)."""
    with serving(make_app(data_dir, **settings)) as served:
        yield served
