"""The response side of the middleware, message by message: nosniff, and JSON never HTML."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cairn.server.middleware import SafeResponses, escape_json

NOSNIFF = (b"x-content-type-options", b"nosniff")


def run(messages: list[dict[str, Any]], *, head: bool = False) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def replay() -> None:
        outgoing = SafeResponses(send, head=head)
        for message in messages:
            await outgoing(message)

    asyncio.run(replay())
    return sent


def start(content_type: bytes, *extra: tuple[bytes, bytes], status: int = 200) -> dict[str, Any]:
    headers = [(b"content-type", content_type), *extra]
    return {"type": "http.response.start", "status": status, "headers": headers}


def body(data: bytes, *, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


@pytest.mark.parametrize(
    "text", ["<script>alert(1)</script>", "a & b", "\u2028\u2029", "plain", "<&>" * 3]
)
def test_escaped_json_decodes_to_the_same_text(text: str) -> None:
    encoded = json.dumps({"description": text}, ensure_ascii=False).encode()
    escaped = escape_json(encoded)
    assert not any(c in escaped for c in b"<>&")
    assert "\u2028".encode() not in escaped
    assert json.loads(escaped) == {"description": text}


def test_a_json_body_is_escaped_and_its_length_fixed() -> None:
    payload = b'{"d":"<b>"}'
    sent = run([start(b"application/json", (b"content-length", b"11")), body(payload)])
    headers = dict(sent[0]["headers"])
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert sent[1]["body"] == b'{"d":"\\u003cb\\u003e"}'
    assert headers[b"content-length"] == str(len(sent[1]["body"])).encode()


def test_a_streamed_json_body_is_escaped_chunk_by_chunk_without_a_length() -> None:
    chunks = [body(b'["<', more=True), body(b'>"', more=True), body(b"]")]
    sent = run([start(b"application/problem+json", (b"content-length", b"5")), *chunks])
    assert b"content-length" not in dict(sent[0]["headers"])
    assert b"".join(m["body"] for m in sent[1:]) == b'["\\u003c\\u003e"]'


def test_other_responses_only_gain_nosniff() -> None:
    html = b"<html>docs</html>"
    for first in (
        start(b"text/html; charset=utf-8"),
        start(b"application/json", (b"content-encoding", b"gzip")),
    ):
        sent = run([first, body(html)])
        assert sent[1]["body"] == html
        assert sent[0]["headers"].count(NOSNIFF) == 1
    head = run([start(b"application/json", (b"content-length", b"9")), body(b"")], head=True)
    assert dict(head[0]["headers"])[b"content-length"] == b"9"


def test_nosniff_is_not_repeated_and_a_204_gets_no_length() -> None:
    sent = run([start(b"application/json", NOSNIFF, status=204), body(b"")])
    assert sent[0]["headers"].count(NOSNIFF) == 1
    assert b"content-length" not in dict(sent[0]["headers"])
