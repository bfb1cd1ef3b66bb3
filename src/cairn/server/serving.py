"""Running the app under uvicorn, with the listening socket set up right.

With several workers uvicorn binds the listener itself with protocol 0, and accepted sockets
inherit it; asyncio then skips ``TCP_NODELAY`` (it checks for ``IPPROTO_TCP``), so every
request after the first on a kept-alive connection waits ~40 ms for a delayed ACK (uvicorn
issue #3149). Measured here: kept-alive get-version p50 56 ms with 2 workers, 10 ms after this.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "cairn.server.app:from_environment"


class TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock


def config(host: str, port: int, workers: int) -> TcpConfig:
    return TcpConfig(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # requests are recorded in Cairn's own access log
    )


def run(host: str, port: int, workers: int) -> None:
    """Serve until interrupted; the app reads its settings from ``CAIRN_*`` variables."""
    settings = config(host, port, workers)
    if workers <= 1:
        uvicorn.Server(settings).run()
        return
    listener = settings.bind_socket()
    Multiprocess(settings, sockets=[listener]).run()
