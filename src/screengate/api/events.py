"""GET /v1/events: Server-Sent Events for this device (signed_out, stream_ended,
downloads_revoked), with keep-alive comments and Last-Event-ID replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from screengate.api.deps import current_device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.domain.notices import Notice, NoticeKind
from screengate.domain.sessions import Principal
from screengate.ports import Listener, Ports
from screengate.services.events import close_events, open_events

KEEP_ALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000


@get(
    "/v1/events",
    media_type="text/event-stream",  # what OpenAPI documents; ServerSentEvent sends it anyway
    dependencies={"device": Provide(current_device)},
    security=BEARER,
    responses=problems(*AUTHED),
    tags=["events"],
    description="This device's events as text/event-stream: `signed_out {reason, detail}` "
    "(then the stream ends), `stream_ended {stream_id, reason}`, "
    "`downloads_revoked {download_ids, reason}`. Send `Last-Event-ID` to get what was missed.",
)
async def events(
    ports: Ports,
    device: Principal,
    last_event_id: Annotated[
        str | None, Parameter(header="last-event-id", required=False, max_length=64)
    ] = None,
) -> ServerSentEvent:
    listener = await open_events(ports, device, last_event_id)
    return ServerSentEvent(
        _stream(ports, device, listener),
        retry_duration=RETRY_MILLISECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    ports: Ports, device: Principal, listener: Listener
) -> AsyncIterator[ServerSentEventMessage]:
    try:
        yield ServerSentEventMessage(data=None, comment="connected")
        for missed in listener.replay():
            yield _message(missed)
            if missed.kind is NoticeKind.SIGNED_OUT:
                return
        while True:
            notice = await listener.next(KEEP_ALIVE_SECONDS)
            if notice is None:
                yield ServerSentEventMessage(data=None, comment="keep-alive")
                continue
            yield _message(notice)
            if notice.kind is NoticeKind.SIGNED_OUT:
                return
    finally:
        await close_events(ports, device, listener)


def _message(notice: Notice) -> ServerSentEventMessage:
    body = {"at": notice.at.isoformat().replace("+00:00", "Z"), **notice.data}
    return ServerSentEventMessage(
        data=msgspec.json.encode(body).decode(), event=notice.kind.value, id=notice.id
    )
