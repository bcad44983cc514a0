"""The body deadline counts the client's slowness, not the server's: it starts at the first read."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from litestar.types import Message, Receive, ReceiveMessage, Scope, Send

from screengate.gate import BodyDeadline, BodyTimeout

DEADLINE = 0.05


def _scope() -> Scope:
    app = SimpleNamespace(
        state=SimpleNamespace(settings=SimpleNamespace(body_timeout_seconds=DEADLINE))
    )
    scope: Scope = cast("Any", {"type": "http", "method": "POST", "litestar_app": app})
    return scope


async def _reader(
    scope: Scope, receive: Receive, send: Send, *, busy_first: float, into: list[bytes]
) -> None:
    await asyncio.sleep(busy_first)  # the server is busy before it gets to the body
    while True:
        message = await receive()
        body = message.get("body", b"")
        assert isinstance(body, bytes)
        into.append(body)
        if not message.get("more_body"):
            return


async def test_a_body_that_was_there_all_along_is_read_however_late_the_server_gets_to_it() -> None:
    read: list[bytes] = []

    async def client() -> ReceiveMessage:
        await asyncio.sleep(0)  # a server's receive gives the loop a turn, even with data ready
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _reader(scope, receive, send, busy_first=DEADLINE * 4, into=read)

    await BodyDeadline(app)(_scope(), client, _no_send)
    assert read == [b"{}"]


async def test_a_body_held_back_past_the_deadline_from_the_first_read_is_refused() -> None:
    reads = 0

    async def client() -> ReceiveMessage:
        nonlocal reads
        reads += 1
        if reads > 1:
            await asyncio.sleep(60)  # the rest never comes
        return {"type": "http.request", "body": b"{", "more_body": True}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _reader(scope, receive, send, busy_first=0, into=[])

    with pytest.raises(BodyTimeout):
        async with asyncio.timeout(5):
            await BodyDeadline(app)(_scope(), client, _no_send)


async def _no_send(message: Message) -> None:
    raise AssertionError("nothing is sent here")
