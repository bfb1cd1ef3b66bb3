"""Running the app under uvicorn, with the listening sockets set up right.

One worker: uvicorn binds and serves. Several: each worker process binds its own listener on
the same port with ``SO_REUSEPORT``, and the kernel spreads new connections over them. With
uvicorn's own workers all processes share one listener and whichever wakes first accepts every
pending connection: measured here, 8 keep-alive clients landed on one of two workers (one at
100 % CPU, the other idle), so two workers served no more than one.

Listeners are created as ``IPPROTO_TCP`` sockets: created with protocol 0, asyncio skips
``TCP_NODELAY`` on accepted connections (it checks for ``IPPROTO_TCP``), so every request after
the first on a kept-alive connection waits ~40 ms for a delayed ACK (uvicorn issue #3149).
"""

from __future__ import annotations

import gc
import importlib
import logging
import multiprocessing
import signal
import socket
from multiprocessing.connection import wait
from types import FrameType

import uvicorn

from cairn.core.errors import ValidationFailed

APP = "cairn.server.app:from_environment"
_RESTART_PAUSE_S = 1.0
_GC_THRESHOLDS = (20_000, 50, 100)  # see import_for_serving
logger = logging.getLogger("cairn.server")


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


def shared_port_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A TCP socket on ``host:port`` that other such sockets of this user may share."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
        if listen:
            sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def serve_worker(host: str, port: int, inherited: socket.socket) -> None:
    """One worker process: its own listener, uvicorn serving the app on it."""
    # Forked: the supervisor's signal handlers and its reserved socket came along.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    inherited.close()
    listener = shared_port_socket(host, port)
    uvicorn.Server(config(host, port, 1)).run(sockets=[listener])


def import_for_serving() -> None:
    """Import the application and set the garbage collector for serving it.

    What the import made lives as long as the process: frozen, the collector no longer walks
    it (nor writes to its pages, which forked workers then keep sharing). A request allocates a
    few thousand containers, nearly all freed by reference counting, so the youngest generation
    is collected every 20,000 allocations instead of 700. Both together took 4-7 % off the CPU
    of a page of versions in process (``bench/app_cpu.py --serving-gc`` against
    ``--no-serving-gc``, docs/benchmarks.md); a version read and a page of models moved less.
    """
    importlib.import_module(APP.partition(":")[0])
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


def run(host: str, port: int, workers: int) -> None:
    """Serve until interrupted; the app reads its settings from ``CAIRN_*`` variables."""
    if workers <= 1:
        import_for_serving()
        uvicorn.Server(config(host, port, 1)).run()
        return
    _supervise(host, port, workers)


def _supervise(host: str, port: int, workers: int) -> None:
    """Start ``workers`` processes, restart any that dies, stop them all on SIGINT or SIGTERM."""
    # Bound (not listening, so it takes no connections) for as long as the server runs: the
    # port is checked before any worker starts and no other program can take it meanwhile.
    try:
        reserved = shared_port_socket(host, port, listen=False)
    except OSError as exc:
        raise ValidationFailed(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            field="port",
            hint="choose another --port, or stop the program using this one",
        ) from None
    # Workers are forked from this process once it has imported the application: each starts
    # serving at once and shares the imported code's pages, instead of importing it all again
    # (spawned, two workers took 3.2-4.3 s to answer on a 2-core machine; forked, 1.9-2.3 s).
    # Forking is safe because this process has no threads and no database connection: it only
    # imports, binds the reserved socket and waits on its children.
    import_for_serving()
    context = multiprocessing.get_context("fork")
    stopping = False

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = []
    try:
        for _ in range(workers):
            process = context.Process(
                target=serve_worker, args=(host, port, reserved), daemon=False
            )
            process.start()
            processes.append(process)
        while not stopping:
            wait([p.sentinel for p in processes], timeout=_RESTART_PAUSE_S)
            for i, process in enumerate(processes):
                if not stopping and not process.is_alive():
                    logger.warning(
                        "worker %s exited with %s; restarting", process.pid, process.exitcode
                    )
                    processes[i] = context.Process(
                        target=serve_worker, args=(host, port, reserved), daemon=False
                    )
                    processes[i].start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests under way
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()
