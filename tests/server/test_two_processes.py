"""Two server processes against one PostgreSQL database behave as one registry.

The servers keep no state of their own (stateless behind a load balancer): numbering,
idempotency and the log's order live in the database, so writes through both interleave
without gaps and each server reads what the other wrote.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cairn.client import HttpRegistry
from cairn.local import LocalRegistry


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not become ready")


@pytest.fixture
def two_servers(pg_url: str, tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    home = tmp_path / "home"
    home.mkdir()
    setup = LocalRegistry(pg_url, actor="user:setup")
    setup.create_team("fraud")
    setup.create_model("fraud/churn")
    token = setup.access_service(home).bootstrap("user:ci").token
    setup.close()
    env = {**os.environ, "CAIRN_HOME": str(home), "CAIRN_REGISTRY": pg_url}
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            command = [str(Path(sys.executable).parent / "cairn"), "serve", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_ready(url, process)
        yield urls, token
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_share_one_registry(two_servers: tuple[list[str], str]) -> None:
    urls, token = two_servers
    clients = [HttpRegistry(url, token=token) for url in urls]

    def register(n: int) -> int:
        client = clients[n % 2]
        version = client.register_version(
            "fraud/churn", f"s3://m/{n}", "sha256:" + f"{n:064x}", idempotency_key=f"job-{n}"
        )
        return version.version

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(register, range(40)))
    assert sorted(numbers) == list(range(1, 41))  # gapless, each number once
    # A retry through the other process finds the version the first one registered.
    again = clients[1].register_version(
        "fraud/churn", "s3://m/0", "sha256:" + f"{0:064x}", idempotency_key="job-0"
    )
    assert again.version == numbers[0]
    a, b = (c.list_versions("fraud/churn", limit=100) for c in clients)
    assert a == b
    assert len(a) == 40
    report = clients[0].check_log()
    assert report.ok
    assert clients[1].log_head() == report.head
    for client in clients:
        client.close()
