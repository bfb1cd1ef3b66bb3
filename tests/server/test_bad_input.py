"""Bad input against a real server: each gets a 4xx problem body and changes nothing.

Requests go out through httpcore, httpx's own transport, so that exactly these bytes are sent:
httpx itself would remove the dot segments from ``/models/fraud/..`` before sending it.
The server runs once on SQLite and once on PostgreSQL, where text may not hold NUL.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest
from sqlalchemy import text

from cairn.store.engine import resolve_url
from tests.conftest import _pg_admin, _pg_url
from tests.server.conftest import API, DIGEST, PROBLEM, Server, started

LIMIT = 4096  # the server's max_body_bytes
JSON = {"content-type": "application/json"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("bad-input")
    if request.param == "sqlite":
        with started(resolve_url(home / "registry"), home, max_body_bytes=LIMIT) as running:
            yield running
        return
    template = request.getfixturevalue("pg_template")
    name = f"cairn_bad_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        with started(_pg_url(name), home, max_body_bytes=LIMIT) as running:
            yield running
    finally:
        with admin.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def pool() -> Iterator[httpcore.ConnectionPool]:
    with httpcore.ConnectionPool() as opened:
        yield opened


def send(
    pool: httpcore.ConnectionPool,
    server: Server,
    method: str,
    target: bytes,
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    *,
    token: bytes | None = None,
) -> Reply:
    """``target`` and ``body`` exactly as given; the admin's token unless another is named."""
    host, port = server.url.removeprefix("http://").split(":")
    url = httpcore.URL(scheme=b"http", host=host.encode(), port=int(port), target=target)
    auth = token if token is not None else f"Bearer {server.tokens['admin']}".encode()
    sent = [(b"authorization", auth)] + [
        (k.encode(), v.encode()) for k, v in (headers or {}).items()
    ]
    response = pool.request(method, url, headers=sent, content=body)
    received = {k.decode().lower(): v.decode("latin-1") for k, v in response.headers}
    return Reply(response.status, received, response.content)


def log_head(pool: httpcore.ConnectionPool, server: Server) -> Any:
    reply = send(pool, server, "GET", f"{API}/log/head".encode())
    assert reply.status == 200
    return reply.json()


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body[:300]
    assert reply.headers["content-type"] == PROBLEM
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert b"Traceback" not in reply.body
    assert not any(c in reply.body for c in b"<>&")  # echoed input comes back escaped
    problem = reply.json()
    assert problem["status"] == status
    for key in ("type", "title", "detail"):
        assert isinstance(problem[key], str) and problem[key], (key, problem)
    return dict(problem)


@dataclass(frozen=True)
class Bad:
    method: str
    target: str  # sent as is (dot segments, percent escapes and all)
    body: bytes | None = None
    status: int = 422
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))


def j(value: Any) -> bytes:
    return json.dumps(value).encode()


VERSION = {"model": "fraud/churn", "artifact_uri": "s3://models/churn/2", "digest": DIGEST}
HUGE = "9" * 30

CASES: dict[str, Bad] = {
    # not JSON, or not what the route takes
    "malformed json": Bad("POST", f"{API}/models", b'{"ref": '),
    "trailing garbage": Bad("POST", f"{API}/models", b'{"ref": "fraud/x"} {'),
    "invalid utf-8 in a name": Bad("POST", f"{API}/models", b'{"ref": "fraud/\xff\xfe"}', 400),
    "invalid utf-8 in a description": Bad(
        "POST", f"{API}/models", b'{"ref": "fraud/utf", "description": "\xc3\x28"}', 400
    ),
    "lone surrogate": Bad(
        "POST", f"{API}/models", b'{"ref": "fraud/sur", "description": "\\ud800"}'
    ),
    "nested too deep": Bad("PATCH", f"{API}/models/fraud/churn", b"[" * 2000 + b"]" * 2000, 400),
    "null body": Bad("POST", f"{API}/models", b"null"),
    "empty body": Bad("POST", f"{API}/models", b""),
    "not json at all": Bad(
        "POST", f"{API}/models", b"ref=fraud/x", headers={"content-type": "text/plain"}
    ),
    "wrong type": Bad("POST", f"{API}/models", j({"ref": 5})),
    "object for a list": Bad("POST", f"{API}/versions/batch", j(VERSION)),
    "list for an object": Bad("POST", f"{API}/versions", j([VERSION])),
    "string for a number": Bad(
        "POST", f"{API}/evaluations", j({"version": "fraud/churn@1", "metrics": {"auc": "high"}})
    ),
    "NaN": Bad(
        "POST", f"{API}/evaluations", b'{"version": "fraud/churn@1", "metrics": {"auc": NaN}}'
    ),
    "Infinity": Bad(
        "POST", f"{API}/evaluations", b'{"version": "fraud/churn@1", "metrics": {"auc": -Infinity}}'
    ),
    "1e400": Bad(
        "POST", f"{API}/evaluations", b'{"version": "fraud/churn@1", "metrics": {"auc": 1e400}}'
    ),
    "unknown field": Bad("POST", f"{API}/models", j({"ref": "fraud/x", "colour": "red"})),
    "unknown field in a patch": Bad("PATCH", f"{API}/models/fraud/churn", j({"owner": "me"})),
    # too large: declared, and streamed without a length
    "oversized with content-length": Bad(
        "POST", f"{API}/models", j({"ref": "fraud/big", "description": "a" * LIMIT}), 413
    ),
    # names and path segments that try to climb or hide
    "dot-dot name": Bad("POST", f"{API}/models", j({"ref": "fraud/.."})),
    "dot-dot team": Bad("POST", f"{API}/models", j({"ref": "../churn"})),
    "dot-dot team name": Bad("POST", f"{API}/teams", j({"name": ".."})),
    "climbing ref": Bad("POST", f"{API}/versions", j({**VERSION, "model": "fraud/../churn"})),
    "encoded dot-dot name": Bad("POST", f"{API}/models", j({"ref": "fraud/%2e%2e"})),
    "double-encoded dot-dot name": Bad("POST", f"{API}/models", j({"ref": "fraud/%252e%252e"})),
    "backslash name": Bad("POST", f"{API}/models", j({"ref": "fraud/a\\b"})),
    "NUL name": Bad("POST", f"{API}/models", j({"ref": "fraud/a\u0000b"})),
    "script name": Bad("POST", f"{API}/models", j({"ref": "fraud/<script>"})),
    "dot-dot path": Bad("PATCH", f"{API}/models/fraud/..", j({"task": "x"})),
    "dot-dot team path": Bad("PATCH", f"{API}/models/../churn", j({"task": "x"})),
    "encoded dot-dot path": Bad("PATCH", f"{API}/models/fraud/%2e%2e", j({"task": "x"})),
    "double-encoded dot-dot path": Bad("PATCH", f"{API}/models/fraud/%252e%252e", j({"task": "x"})),
    "encoded slashes in a path": Bad("PATCH", f"{API}/models/fraud/..%2f..%2fetc", j({}), 404),
    "backslash path": Bad("PATCH", f"{API}/models/fraud/a\\b", j({"task": "x"})),
    "encoded backslash path": Bad("PATCH", f"{API}/models/fraud/a%5cb", j({"task": "x"})),
    "NUL path": Bad("PATCH", f"{API}/models/fraud/a%00b", j({"task": "x"})),
    "dot-dot principal path": Bad("POST", f"{API}/principals/user:../disable"),
    "encoded dot-dot principal path": Bad("POST", f"{API}/principals/user:%2e%2e/disable"),
    "script principal": Bad("POST", f"{API}/principals", j({"name": "user:<script>"})),
    "NUL display name": Bad(
        "POST", f"{API}/principals", j({"name": "user:nul", "display_name": "a\u0000"})
    ),
    "NUL query": Bad("GET", f"{API}/teams?after=%00"),
    "dot-dot query": Bad("GET", f"{API}/history?ref=model:fraud/../churn"),
    # NUL in free text: PostgreSQL cannot store it, so nobody may
    "NUL description": Bad(
        "POST", f"{API}/models", j({"ref": "fraud/nul", "description": "a\u0000"})
    ),
    "NUL label": Bad("POST", f"{API}/versions", j({**VERSION, "labels": {"k\u0000": "v"}})),
    "NUL idempotency key": Bad(
        "POST", f"{API}/versions", j({**VERSION, "idempotency_key": "\u0000"})
    ),
    # numbers no database column holds
    "huge version in a path": Bad("GET", f"{API}/models/fraud/churn/versions/{HUGE}"),
    "huge version in a ref": Bad(
        "POST", f"{API}/evaluations", j({"version": f"fraud/churn@{HUGE}", "metrics": {"a": 1}})
    ),
    "huge input version": Bad(
        "POST", f"{API}/versions", j({**VERSION, "inputs": [f"dataset:fraud/customers@{HUGE}"]})
    ),
    "huge facet version": Bad(
        "PATCH", f"{API}/models/fraud/churn", j({"facets": {f"acme.x/{HUGE}": {}}})
    ),
    "huge schema version": Bad("GET", f"{API}/schemas/cairn.dependencies/{HUGE}"),
    "huge cursor": Bad("GET", f"{API}/models/fraud/churn/versions?after={HUGE}"),
    "huge dataset cursor": Bad("GET", f"{API}/datasets/fraud/customers/versions?after={HUGE}"),
    "huge history cursor": Bad("GET", f"{API}/history?ref=model:fraud/churn&after={HUGE}"),
    "huge audit cursor": Bad("GET", f"{API}/audit?after={HUGE}"),
    "version zero": Bad("GET", f"{API}/models/fraud/churn/versions/0"),
    "negative version": Bad("GET", f"{API}/models/fraud/churn/versions/-1"),
    "naive time": Bad("GET", f"{API}/environments/prod/serving?at=2030-01-01T00:00:00"),
    "not a time": Bad("GET", f"{API}/environments/prod/serving?at=soon"),
    # artifact URIs: stored as text, but they must at least be URIs that name a place
    "empty file URI": Bad("POST", f"{API}/versions", j({**VERSION, "artifact_uri": "file://"})),
    "hostless URI": Bad("POST", f"{API}/versions", j({**VERSION, "artifact_uri": "http:///#/../"})),
    "no scheme": Bad("POST", f"{API}/versions", j({**VERSION, "artifact_uri": "/etc/passwd"})),
    "space in URI": Bad("POST", f"{API}/versions", j({**VERSION, "artifact_uri": "s3://b/a b"})),
    "hostless dataset URI": Bad(
        "POST", f"{API}/dataset-versions", j({"dataset": "fraud/customers", "uri": "s3:///x"})
    ),
    "bad digest": Bad("POST", f"{API}/versions", j({**VERSION, "digest": "sha256:../../etc"})),
    # methods, paths and headers
    "wrong method": Bad("DELETE", f"{API}/models/fraud/churn", status=405),
    "wrong method on a list": Bad("PUT", f"{API}/teams", j({"name": "x"}), 405),
    "unknown API path": Bad("GET", f"{API}/nope", status=404),
    "unknown path": Bad("POST", "/nope", j({}), 404),
    "stale If-Match": Bad(
        "PATCH", f"{API}/models/fraud/churn", j({"task": "x"}), 412, {**JSON, "if-match": '"999"'}
    ),
    "malformed If-Match": Bad(
        "PATCH", f"{API}/models/fraud/churn", j({"task": "x"}), 412, {**JSON, "if-match": "<b>"}
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_and_changes_nothing(
    case: str, server: Server, pool: httpcore.ConnectionPool
) -> None:
    bad = CASES[case]
    before = log_head(pool, server)
    reply = send(pool, server, bad.method, bad.target.encode(), bad.body, bad.headers)
    assert_problem(reply, bad.status)
    if bad.status == 405:
        assert reply.headers["allow"]
    assert log_head(pool, server) == before


def test_an_oversized_stream_without_a_length_is_refused(
    server: Server, pool: httpcore.ConnectionPool
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"ref": "fraud/streamed", "description": "'
        for _ in range(2 * LIMIT // 512):
            yield b"a" * 512
        yield b'"}'

    before = log_head(pool, server)
    reply = send(pool, server, "POST", f"{API}/models".encode(), chunks(), JSON)
    assert_problem(reply, 413)
    assert log_head(pool, server) == before


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer \xff\xfe",
        b"Bearer",
        b"Basic dXNlcjpwYXNz",
        b"Bearer cairn_short",
        b"bearer" + b" x" * 100,
    ],
)
def test_bad_credentials_are_refused(
    authorization: bytes, server: Server, pool: httpcore.ConnectionPool
) -> None:
    before = log_head(pool, server)
    reply = send(
        pool, server, "POST", f"{API}/teams".encode(), j({"name": "x"}), JSON, token=authorization
    )
    assert_problem(reply, 401)
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert log_head(pool, server) == before


# -- what comes back can never be read as HTML ----------------------------------------------------
def test_a_script_in_a_description_is_kept_but_never_served_as_html(
    server: Server, pool: httpcore.ConnectionPool
) -> None:
    description = "<script>alert(1)</script> & <img src=x onerror=alert(2)>\u2028"
    made = send(
        pool,
        server,
        "POST",
        f"{API}/models".encode(),
        j({"ref": "fraud/scripted", "description": description}),
        JSON,
    )
    assert made.status == 201, made.body
    for reply in (
        made,
        send(pool, server, "GET", f"{API}/models/fraud/scripted".encode()),
        send(pool, server, "GET", f"{API}/models?team=fraud".encode()),
    ):
        assert reply.headers["content-type"] == "application/json"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert not any(c in reply.body for c in b"<>&")
        assert b"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026" in reply.body
        assert b"\\u2028" in reply.body
        assert int(reply.headers["content-length"]) == len(reply.body)
        found = reply.json()
        found = (
            found if isinstance(found, dict) else next(m for m in found if m["name"] == "scripted")
        )
        assert found["description"] == description


@pytest.mark.parametrize(
    "target",
    [
        "/healthz",
        "/readyz",
        "/metrics",
        f"{API}/openapi.json",
        f"{API}/docs",
        f"{API}/teams",
    ],
)
def test_every_response_says_nosniff(
    target: str, server: Server, pool: httpcore.ConnectionPool
) -> None:
    reply = send(pool, server, "GET", target.encode())
    assert reply.status == 200
    assert reply.headers["x-content-type-options"] == "nosniff"
    if reply.headers["content-type"].startswith("application/json"):
        json.loads(reply.body)  # escaping kept it JSON


# -- the server never opens what an artifact URI names --------------------------------------------
def test_artifact_uris_are_only_text(
    server: Server, pool: httpcore.ConnectionPool, tmp_path: Path
) -> None:
    # A reader opening a FIFO blocks until a writer comes: a server that opened this URI
    # could not answer, and a writer could open it without blocking.
    fifo = tmp_path / "artifact.bin"
    os.mkfifo(fifo)
    for uri in ("file:///etc/passwd", f"file://{fifo}"):
        spec = {**VERSION, "artifact_uri": uri}
        made = send(pool, server, "POST", f"{API}/versions".encode(), j(spec), JSON)
        assert made.status == 201, made.body
        version = made.json()
        assert (version["artifact_uri"], version["digest"]) == (uri, DIGEST)
        dataset = {"dataset": "fraud/customers", "uri": uri}
        assert (
            send(pool, server, "POST", f"{API}/dataset-versions".encode(), j(dataset), JSON).status
            == 201
        )
    with pytest.raises(OSError) as nobody:
        os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    assert nobody.value.errno == errno.ENXIO  # no reader has it open


def test_lookalikes_of_refused_input_are_accepted(
    server: Server, pool: httpcore.ConnectionPool
) -> None:
    # A backslash followed by "u0000" is text, not NUL; a body on a route that takes none is
    # ignored, however deeply it nests (the gate reads it to find a team, and must not fail).
    spelled = b'{"ref": "fraud/spelled", "description": "\\\\u0000 and \\\\\\\\"}'
    made = send(pool, server, "POST", f"{API}/models".encode(), spelled, JSON)
    assert made.status == 201, made.body
    assert made.json()["description"] == "\\u0000 and \\\\"
    deep = b"[" * 2000 + b"]" * 2000
    target = f"{API}/models/fraud/churn/upgrade-facets".encode()
    assert send(pool, server, "POST", target, deep, JSON).status == 200
