"""A device's event stream as typed events: read from SSE, reconnected with Last-Event-ID."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime

import httpx
import msgspec
from msgspec import Struct

from screengate.client.errors import ConnectionLostError, ScreengateError, SignedOutError
from screengate.client.sse import SseMessage, SseParser

log = logging.getLogger("screengate.client")


@dataclass(frozen=True)
class SignedOutEvent:
    """This device was signed out; the stream ends after it. `detail` is for the user."""

    reason: str
    detail: str
    at: datetime | None
    # None when the sign-out was learned from a refused reconnect rather than the stream.
    id: str | None = None


@dataclass(frozen=True)
class StreamEndedEvent:
    stream_id: str
    reason: str
    at: datetime | None
    id: str | None = None


@dataclass(frozen=True)
class DownloadsRevokedEvent:
    download_ids: tuple[str, ...]
    reason: str | None
    at: datetime | None
    id: str | None = None


@dataclass(frozen=True)
class StreamReplacedEvent:
    """Newer event streams of this device took this one's place (a device keeps a few per
    server); the stream ends after it and is not reopened: reopening would replace another."""

    detail: str
    id: str | None = None


@dataclass(frozen=True)
class UnknownEvent:
    """An event this client does not know (a newer server), or one it could not read."""

    event: str
    data: str
    id: str | None = None


Event = (
    SignedOutEvent | StreamEndedEvent | DownloadsRevokedEvent | StreamReplacedEvent | UnknownEvent
)


@dataclass(frozen=True)
class Reconnect:
    """How a dropped stream is reopened: a delay that doubles from `first` up to `most`, with
    jitter (so a fleet of devices does not return at once), and at most `attempts` failures in
    a row before ConnectionLostError."""

    first: float | None = None  # seconds; None: what the server's `retry:` says (2 s)
    most: float = 30.0
    attempts: int = 8

    def delay(self, failures: int, server_ms: int | None) -> float:
        first = self.first if self.first is not None else (server_ms or 2000) / 1000
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not a secret
        return min(self.most, first * 2.0 ** max(0, failures - 1)) * jitter


# Opens GET /v1/events (sending Last-Event-ID when given) and yields the 200 response;
# raises ScreengateError for any other answer.
OpenStream = Callable[[str | None], AbstractAsyncContextManager[httpx.Response]]


async def event_stream(
    open_stream: OpenStream,
    reconnect: Reconnect,
    on_connect: Callable[[], object] | None = None,
) -> AsyncGenerator[Event, None]:
    """Every event, in order, across reconnects; ends after SignedOutEvent or
    StreamReplacedEvent."""
    last_id: str | None = None
    server_retry: int | None = None
    failures = 0
    while True:
        try:
            async with open_stream(last_id) as response:
                failures = 0
                if on_connect is not None:
                    on_connect()
                parser = SseParser()
                parser.last_event_id = last_id
                async for chunk in response.aiter_bytes():
                    for item in parser.feed(chunk):
                        if not isinstance(item, SseMessage):
                            continue  # `: connected`, `: keep-alive`
                        event = parse_event(item)
                        last_id = parser.last_event_id
                        yield event
                        if isinstance(event, SignedOutEvent | StreamReplacedEvent):
                            return
                    last_id = parser.last_event_id
                    server_retry = parser.retry_ms or server_retry
            why = "the server closed the stream"
        except SignedOutError as error:
            yield signed_out_from(error)
            return
        except httpx.TransportError as error:
            failures += 1
            why = type(error).__name__
        except ScreengateError as error:
            if error.status < 500 and error.status != 429:
                raise
            failures += 1
            why = f"{error.status} {error.code}"
        if failures > reconnect.attempts:
            raise ConnectionLostError(f"{failures} attempts failed in a row; the last: {why}")
        delay = reconnect.delay(failures, server_retry)
        log.info("event_stream_reconnecting", extra={"why": why, "in_seconds": round(delay, 2)})
        await asyncio.sleep(delay)


def signed_out_from(error: SignedOutError) -> SignedOutEvent:
    """The sign-out a refused request reveals, as the event the stream would have sent."""
    at = error.body.get("signed_out_at")
    return SignedOutEvent(
        reason=error.reason or "signed_out",
        detail=error.detail,
        at=_datetime(at) if isinstance(at, str) else None,
    )


class _SignedOut(Struct):
    reason: str
    detail: str = ""
    at: datetime | None = None


class _StreamEnded(Struct):
    stream_id: str
    reason: str
    at: datetime | None = None


class _Replaced(Struct):
    detail: str = ""


class _DownloadsRevoked(Struct):
    download_ids: list[str]
    reason: str | None = None
    at: datetime | None = None


def parse_event(message: SseMessage) -> Event:
    """The typed event for one SSE message; UnknownEvent for anything else."""
    try:
        if message.event == "signed_out":
            s = msgspec.json.decode(message.data, type=_SignedOut)
            return SignedOutEvent(s.reason, s.detail, s.at, message.id)
        if message.event == "stream_ended":
            e = msgspec.json.decode(message.data, type=_StreamEnded)
            return StreamEndedEvent(e.stream_id, e.reason, e.at, message.id)
        if message.event == "downloads_revoked":
            d = msgspec.json.decode(message.data, type=_DownloadsRevoked)
            return DownloadsRevokedEvent(tuple(d.download_ids), d.reason, d.at, message.id)
        if message.event == "replaced":
            r = msgspec.json.decode(message.data, type=_Replaced)
            return StreamReplacedEvent(r.detail, message.id)
    except (msgspec.DecodeError, msgspec.ValidationError):
        log.warning("event_unreadable", extra={"event": message.event})
    return UnknownEvent(message.event, message.data, message.id)


def _datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
