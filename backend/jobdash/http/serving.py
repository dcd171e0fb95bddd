"""Running the application under uvicorn, with a shutdown that does not wait out holds."""

from __future__ import annotations

import socket

import uvicorn


class ReleasingServer(uvicorn.Server):
    """A uvicorn server that answers every held poll (see ``held_polls.py``) before it
    waits for open connections to close: otherwise each hold would delay the shutdown by
    up to its whole wait."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        changes = getattr(getattr(self.config.app, "state", None), "changes", None)
        if changes is not None:
            changes.release()
        await super().shutdown(sockets)


def run_server(config: uvicorn.Config) -> None:
    """Serve ``config.app`` until SIGTERM/SIGINT (see :class:`ReleasingServer`)."""
    ReleasingServer(config).run()
