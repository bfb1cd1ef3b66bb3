"""The listener is a TCP socket by protocol, so accepted connections get TCP_NODELAY."""

from __future__ import annotations

import socket

from cairn.server.serving import config


def test_the_listener_is_created_as_tcp_so_nodelay_applies() -> None:
    listener = config("127.0.0.1", 0, workers=2).bind_socket()
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()
