"""GET /v1/events: Server-Sent Events for this device (signed_out, stream_ended,
downloads_revoked), with keep-alive comments and Last-Event-ID replay.

Every signed-in device may hold one of these for hours, so an open stream is kept small: the
events are encoded here, and one small task watches for the device going away, instead of
Litestar's ServerSentEvent (a task group of two tasks, and two thread-pool hops per stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.params import HeaderParameter
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Receive, Send

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.budget import REPLACED_DATA, EventStreamBudget
from screengate.domain.notices import Notice, NoticeKind
from screengate.domain.sessions import Principal
from screengate.ports import Listener, Ports
from screengate.services.events import close_events, open_events

KEEP_ALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000


@get(
    "/v1/events",
    media_type="text/event-stream",
    dependencies=DEVICE,
    middleware=[EventStreamBudget, BearerCheck],
    security=BEARER,
    responses=problems(*AUTHED, 429),
    tags=["events"],
    description="This device's events as text/event-stream: `signed_out {reason, detail}` "
    "(then the stream ends), `stream_ended {stream_id, reason}`, "
    "`downloads_revoked {download_ids, reason}`. Send `Last-Event-ID` to get what was missed. "
    "A device keeps a few streams open on an instance (SCREENGATE_EVENT_STREAMS_PER_DEVICE, "
    "3): when another opens, the oldest gets `replaced {reason, detail}` and ends (do not "
    "reopen it). Past SCREENGATE_EVENT_STREAMS_PER_ADDRESS open from one address: 429 "
    "`too_many_event_streams` with Retry-After.",
)
async def events(
    ports: Ports,
    device: Device,
    last_event_id: Annotated[
        str | None, HeaderParameter(name="last-event-id", required=False, max_length=64)
    ] = None,
) -> Stream:
    listener = await open_events(ports, device, last_event_id)
    return EventStream(
        _chunks(ports, device, listener),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _chunks(ports: Ports, device: Principal, listener: Listener) -> AsyncIterator[bytes]:
    try:
        yield CONNECTED
        for missed in listener.replay():
            yield _message(missed)
            if missed.kind is NoticeKind.SIGNED_OUT:
                return
        while True:
            notice = await listener.next(KEEP_ALIVE_SECONDS)
            if notice is None:
                if listener.replaced:
                    yield REPLACED
                    return
                yield KEEP_ALIVE
                continue
            yield _message(notice)
            if notice.kind is NoticeKind.SIGNED_OUT:
                return
    finally:
        await close_events(ports, device, listener)


CONNECTED = f"retry: {RETRY_MILLISECONDS}\r\n: connected\r\n\r\n".encode()
KEEP_ALIVE = b": keep-alive\r\n\r\n"
# No id: a reconnect's Last-Event-ID stays the last notice's.
REPLACED = b"event: replaced\r\ndata: " + msgspec.json.encode(REPLACED_DATA) + b"\r\n\r\n"


def _message(notice: Notice) -> bytes:
    # JSON escapes line breaks, so the data is one line; ids and kinds are ours.
    body = msgspec.json.encode({"at": notice.at.isoformat().replace("+00:00", "Z"), **notice.data})
    head = f"id: {notice.id}\r\nevent: {notice.kind.value}\r\ndata: ".encode()
    return head + body + b"\r\n\r\n"


class EventStream(Stream):
    """A Stream whose connection is watched by _EventStreamResponse."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        streaming = super().to_asgi_response(*args, **kwargs)
        assert isinstance(streaming, ASGIStreamingResponse)
        return _EventStreamResponse.like(streaming)


class _EventStreamResponse(ASGIStreamingResponse):
    __slots__ = ()

    @classmethod
    def like(cls, streaming: ASGIStreamingResponse) -> _EventStreamResponse:
        lean = cls.__new__(cls)
        for name in (*ASGIResponse.__slots__, *ASGIStreamingResponse.__slots__):
            setattr(lean, name, getattr(streaming, name))
        return lean

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Stream until the events end or the device goes away, whichever comes first."""
        streaming = asyncio.current_task()
        assert streaming is not None
        watch = _Watch(streaming)
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        watcher.add_done_callback(watch.done)
        try:
            await self._stream(send)
        except asyncio.CancelledError:
            # Gone: a normal end, unless someone else cancelled too (a shutdown).
            if not watch.disconnected or streaming.uncancel() > 0:
                raise
        finally:
            watch.streaming = None
            watcher.cancel()
            # Cancelled while sending, the events generator is left suspended: close it now
            # (so the hub and presence let go of the device), not whenever it is collected.
            close = getattr(self.iterator, "aclose", None)
            if close is not None:
                await close()


class _Watch:
    """Cancels the stream when its device disconnects; nothing once the stream is over."""

    __slots__ = ("disconnected", "streaming")

    def __init__(self, streaming: asyncio.Task[Any]) -> None:
        self.streaming: asyncio.Task[Any] | None = streaming
        self.disconnected = False

    def done(self, watcher: asyncio.Future[None]) -> None:
        if watcher.cancelled():
            return
        watcher.exception()  # a failed receive also means the device is gone
        if self.streaming is not None:
            self.disconnected = True
            self.streaming.cancel()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
