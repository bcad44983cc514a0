"""The event stream over a scripted transport: reconnects, Last-Event-ID, giving up, refresh."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing

import httpx
import pytest

from screengate.client import (
    ConnectionLostError,
    DeviceSession,
    Event,
    InvalidTokenError,
    Reconnect,
    ScreengateClient,
    SignedOutEvent,
    StreamEndedEvent,
    StreamReplacedEvent,
    Tokens,
    UnknownEvent,
)

FAST = Reconnect(first=0.01, most=0.05, attempts=3)
SIGNED_OUT = (
    b'event: signed_out\nid: n-3\ndata: {"reason": "signed_out_remotely", '
    b'"detail": "You were signed out from another device.", "at": "2026-01-02T03:04:05Z"}\n\n'
)
STREAM_ENDED = (
    b'event: stream_ended\nid: n-2\ndata: {"stream_id": "s-1", "reason": "stopped_by_owner"}\n\n'
)


class Chunks(httpx.AsyncByteStream):
    """An answer body that sends these chunks, then drops the connection (or just ends)."""

    def __init__(self, *chunks: bytes, drop: bool = True) -> None:
        self._chunks = chunks
        self._drop = drop

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._drop:
            raise httpx.ReadError("connection reset by peer")


def sse(*chunks: bytes, drop: bool = True) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Chunks(*chunks, drop=drop)
    )


def problem(status: int, code: str, **extra: str) -> httpx.Response:
    body = {"type": f"urn:screengate:problem:{code}", "title": code, "status": status}
    return httpx.Response(
        status,
        headers={"content-type": "application/problem+json"},
        content=json.dumps({**body, "code": code, **extra}).encode(),
    )


Handler = Callable[[httpx.Request], httpx.Response]


def device(handler: Handler) -> DeviceSession:
    client = ScreengateClient("http://screengate.test", transport=httpx.MockTransport(handler))
    tokens = Tokens("access-1", "refresh-1", time.time() + 600, "session-1", "device-1")
    return client.resume(tokens)


async def collect(events: AsyncGenerator[Event, None]) -> list[Event]:
    async with aclosing(events) as stream:
        return [event async for event in stream]


async def test_a_dropped_stream_is_reopened_with_last_event_id_and_nothing_is_missed() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("last-event-id"))
        if len(seen) == 1:
            return sse(b": connected\n\nretry: 10\n", STREAM_ENDED, b"id: n-2b\n\n")
        return sse(b": connected\n\n", SIGNED_OUT)

    events = await collect(device(handler).events(reconnect=FAST))

    assert seen == [None, "n-2b"]
    assert [type(e) for e in events] == [StreamEndedEvent, SignedOutEvent]
    ended, signed_out = events
    assert isinstance(ended, StreamEndedEvent)
    assert (ended.stream_id, ended.reason, ended.id) == ("s-1", "stopped_by_owner", "n-2")
    assert isinstance(signed_out, SignedOutEvent)
    assert signed_out.reason == "signed_out_remotely"
    assert signed_out.detail == "You were signed out from another device."
    assert signed_out.at is not None
    assert signed_out.at.year == 2026


async def test_the_stream_ends_after_signed_out_without_waiting_for_the_server() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return sse(SIGNED_OUT, b"data: never read\n\n")

    events = await collect(device(handler).events(reconnect=FAST))

    assert [type(e) for e in events] == [SignedOutEvent]
    assert calls == 1


async def test_a_stream_replaced_by_newer_ones_of_its_device_ends_and_is_not_reopened() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        replaced = (
            b'event: replaced\ndata: {"reason": "newer_streams", '
            b'"detail": "This device opened newer event streams; this one is closed."}\n\n'
        )
        return sse(b": connected\n\n", STREAM_ENDED, replaced, drop=False)

    events = await collect(device(handler).events(reconnect=FAST))

    assert [type(e) for e in events] == [StreamEndedEvent, StreamReplacedEvent]
    assert isinstance(events[1], StreamReplacedEvent)
    assert events[1].detail == "This device opened newer event streams; this one is closed."
    assert calls == 1


async def test_a_device_signed_out_while_disconnected_learns_why_on_reconnecting() -> None:
    answers = iter(
        [
            sse(b": connected\n\n"),
            problem(
                401,
                "signed_out",
                reason="password_changed",
                detail="You were signed out because the account password was changed.",
                signed_out_at="2026-01-02T03:04:05Z",
            ),
        ]
    )

    events = await collect(device(lambda _: next(answers)).events(reconnect=FAST))

    assert len(events) == 1
    assert isinstance(events[0], SignedOutEvent)
    assert events[0].reason == "password_changed"
    assert events[0].id is None
    assert events[0].at is not None


async def test_the_stream_gives_up_after_the_allowed_failures_in_a_row() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ConnectionLostError) as lost:
        await collect(device(handler).events(reconnect=FAST))

    assert attempts == FAST.attempts + 1
    assert lost.value.code == "connection_lost"
    assert "ConnectError" in lost.value.detail


async def test_server_errors_are_retried_but_a_refused_credential_is_not() -> None:
    answers = iter([problem(503, "unavailable"), problem(401, "invalid_token")])

    with pytest.raises(InvalidTokenError):
        await collect(device(lambda _: next(answers)).events(reconnect=FAST))


async def test_an_expired_access_token_is_refreshed_before_the_stream_opens() -> None:
    bearers: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            assert json.loads(request.content) == {"refresh_token": "refresh-1"}
            pair = {
                "access_token": "access-2",
                "refresh_token": "refresh-2",
                "token_type": "Bearer",
                "expires_in": 900,
                "session_id": "session-1",
                "device_id": "device-1",
            }
            return httpx.Response(200, json=pair)
        bearers.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer access-1":
            return problem(401, "token_expired")
        return sse(SIGNED_OUT)

    tv = device(handler)
    events = await collect(tv.events(reconnect=FAST))

    assert bearers == ["Bearer access-1", "Bearer access-2"]
    assert [type(e) for e in events] == [SignedOutEvent]
    assert tv.tokens.refresh_token == "refresh-2"


async def test_an_event_this_client_does_not_know_is_passed_on() -> None:
    answers = iter([sse(b"event: plan_changed\ndata: {}\n\n", SIGNED_OUT)])

    events = await collect(device(lambda _: next(answers)).events(reconnect=FAST))

    assert events[0] == UnknownEvent("plan_changed", "{}", None)


def test_the_reconnect_delay_doubles_but_stays_within_its_bounds() -> None:
    policy = Reconnect(first=1.0, most=8.0)

    delays = [policy.delay(n, None) for n in range(1, 12)]

    assert all(0.5 <= d <= 8.0 for d in delays)
    assert max(delays[5:]) <= 8.0
    assert min(delays[5:]) >= 4.0
    assert 1.0 <= Reconnect().delay(1, server_ms=2000) <= 2.0
