"""/v1/devices: Manage access and devices, and signing devices out."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromQuery, JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import DeviceOut, SignedOutDevices, SignedOutEverywhere, SignOutAll
from screengate.domain.ids import DeviceId
from screengate.ports import Ports
from screengate.services import sign_out
from screengate.services.devices import MAX_DEVICE_PAGE, device_page

# Offsets into one account's device list: far past anything it holds, far below an overflow.
MAX_CURSOR = 1_000_000

DevicePath = Annotated[str, Parameter(max_length=64)]


@get(
    "/",
    responses=problems(*AUTHED),
    response_headers=[
        ResponseHeader(
            name="Link",
            description='The next page, if there is one: `<...>; rel="next"` (RFC 8288)',
            documentation_only=True,
            required=False,
        )
    ],
)
async def devices(
    request: Request[Any, Any, Any],
    ports: Ports,
    device: Device,
    include_signed_out: FromQuery[bool] = False,
    limit: Annotated[int, Parameter(ge=1, le=MAX_DEVICE_PAGE)] = MAX_DEVICE_PAGE,
    cursor: Annotated[int, Parameter(ge=0, le=MAX_CURSOR)] = 0,
) -> Response[list[DeviceOut]]:
    """Signed-in devices, current first then most recently seen; with `include_signed_out`,
    then the devices signed out in the last 30 days with their sign-out receipts. At most
    `limit` a page: a `Link` header with `rel="next"` gives the next page's address."""
    page = await device_page(
        ports, device, cursor=cursor, limit=limit, include_signed_out=include_signed_out
    )
    listed = [DeviceOut.of(view) for view in page.devices]
    listed += [DeviceOut.ended(view) for view in page.signed_out]
    headers = {}
    if page.next_cursor is not None:
        query: dict[str, object] = {"limit": limit, "cursor": page.next_cursor}
        if include_signed_out:
            query["include_signed_out"] = "true"
        headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return Response(listed, headers=headers)


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
