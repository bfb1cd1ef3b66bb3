"""Listeners are TCP sockets by protocol (so accepted connections get TCP_NODELAY), and several
workers each listen on the shared port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cairn.server.serving import config


def test_the_listener_is_created_as_tcp_so_nodelay_applies() -> None:
    listener = config("127.0.0.1", 0, workers=2).bind_socket()
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()


def _cairn() -> str:
    found = shutil.which("cairn", path=str(Path(sys.executable).parent))
    assert found, "the cairn command is installed with the package"
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_several_workers_share_one_port_and_stop_together(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CAIRN_HOME": str(tmp_path / "registry")}
    command = [_cairn(), "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "no answer"
            time.sleep(0.05)
        # Every new connection is answered, whichever worker the kernel gives it to.
        for _ in range(20):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        workers = _workers_of(server.pid)
        assert len(workers) == 2, workers
        # A worker that dies is replaced, and the port keeps answering meanwhile.
        os.kill(workers[0], signal.SIGKILL)
        while set(_workers_of(server.pid)) in (set(workers), set(workers[1:])):
            assert time.monotonic() < deadline + 60, "the dead worker was not replaced"
            time.sleep(0.1)
        assert len(_workers_of(server.pid)) == 2
        for _ in range(20):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _session_alive(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _session_alive(server.pid), "a worker outlived the server"


def _workers_of(server: int) -> list[int]:
    found = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return sorted(
        pid for pid in found if _parent_of(pid) == server and " serve " in _command_of(pid)
    )


def _parent_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1])


def _command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_port_in_use_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "CAIRN_HOME": str(tmp_path / "registry")}
        command = [_cairn(), "serve", "--port", str(port), "--workers", "2"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "cannot listen" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
