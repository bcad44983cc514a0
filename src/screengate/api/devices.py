"""/v1/devices: Manage access and devices, and signing devices out."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import FromQuery, JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import DeviceOut, SignedOutDevices, SignedOutEverywhere, SignOutAll
from screengate.domain.ids import DeviceId
from screengate.ports import Ports
from screengate.services import sign_out
from screengate.services.devices import list_devices, signed_out_devices

DevicePath = Annotated[str, Parameter(max_length=64)]


@get("/", responses=problems(*AUTHED))
async def devices(
    ports: Ports, device: Device, include_signed_out: FromQuery[bool] = False
) -> list[DeviceOut]:
    """Signed-in devices, current first then most recently seen; with `include_signed_out`,
    then the devices signed out in the last 30 days with their sign-out receipts."""
    listed = [DeviceOut.of(view) for view in await list_devices(ports, device)]
    if include_signed_out:
        listed += [DeviceOut.ended(view) for view in await signed_out_devices(ports, device)]
    return listed


@post("/sign-out-all", status_code=200, responses=problems(*AUTHED))
async def sign_out_all(
    ports: Ports, device: Device, ip: str | None, data: JSONBody[SignOutAll | None] = None
) -> SignedOutEverywhere:
    keep = data.keep_this_device if data else False
    receipt = await sign_out.sign_out_everywhere(ports, device, keep_this_device=keep, ip=ip)
    return SignedOutEverywhere.of(receipt)


@post("/{device_id:str}/sign-out", status_code=200, responses=problems(*AUTHED, 404))
async def sign_out_one(
    ports: Ports, device: Device, device_id: DevicePath, ip: str | None
) -> SignedOutDevices:
    receipt = await sign_out.sign_out_device(ports, device, DeviceId(device_id), ip)
    return SignedOutDevices.of(receipt)


router = Router(
    "/v1/devices",
    route_handlers=[devices, sign_out_all, sign_out_one],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["devices"],
)
