"""/v1/streams: Play within the plan's screens, heartbeats, stop (here or from another device)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, delete, get, post
from litestar.di import Provide
from litestar.params import JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device, current_device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import ActiveStream, Lease, Play, StreamStarted
from screengate.domain.errors import SignedOut, StreamEnded
from screengate.domain.ids import ProfileId, StreamId
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services import streams

StreamPath = Annotated[str, Parameter(max_length=64)]


@post("/", status_code=201, responses=problems(*AUTHED, 403, 404, 409, 429))
async def start(data: JSONBody[Play], ports: Ports, device: Device) -> StreamStarted:
    stream = await streams.start_stream(
        ports, device, profile_id=ProfileId(data.profile_id), title_id=data.title_id, pin=data.pin
    )
    return StreamStarted(
        stream_id=stream.id,
        heartbeat_interval=int(ports.streaming.heartbeat_interval.total_seconds()),
        expires_at=stream.expires_at,
        title_id=stream.title_id,
        profile_id=stream.profile_id,
    )


@get("/", responses=problems(*AUTHED))
async def active(ports: Ports, device: Device) -> list[ActiveStream]:
    """Who holds the account's screens right now."""
    return [
        ActiveStream(
            stream_id=h.stream_id,
            device_id=h.device_id,
            device_name=h.device_name,
            device_type=h.device_type,
            profile_name=h.profile_name,
            title_id=h.title_id,
            started_at=h.started_at,
            current=h.device_id == device.device_id,
        )
        for h in await streams.active_streams(ports, device)
    ]


def streaming_device() -> Principal:
    """A signed-out device's heartbeat learns that its stream ended, and why."""
    try:
        return current_device()
    except SignedOut as signed_out:
        raise StreamEnded(signed_out.reason) from None


@post(
    "/{stream_id:str}/heartbeat",
    status_code=200,
    dependencies={"device": Provide(streaming_device, sync_to_thread=False)},
    responses=problems(*AUTHED, 404, 410),
)
async def heartbeat(stream_id: StreamPath, ports: Ports, device: Device) -> Lease:
    return Lease(expires_at=await streams.heartbeat(ports, device, StreamId(stream_id)))


@delete("/{stream_id:str}", status_code=204, responses=problems(*AUTHED, 404))
async def stop(stream_id: StreamPath, ports: Ports, device: Device) -> None:
    await streams.stop_stream(ports, device, StreamId(stream_id))


router = Router(
    "/v1/streams",
    route_handlers=[start, active, heartbeat, stop],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["streams"],
)
