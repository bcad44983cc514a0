"""/v1/account: the account, its password and its security activity."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import AccountOut, ActivityPageOut, ChangePassword
from screengate.ports import Ports
from screengate.services import accounts
from screengate.services.activity import MAX_CURSOR, MAX_PAGE, security_activity


@get("/", responses=problems(*AUTHED))
async def account(ports: Ports, device: Device) -> AccountOut:
    return AccountOut.of(await accounts.get_account(ports, device))


@post("/password", status_code=204, responses=problems(*AUTHED, 403))
async def change_password(
    data: JSONBody[ChangePassword], ports: Ports, device: Device, ip: str | None
) -> None:
    await accounts.change_password(
        ports,
        device,
        current_password=data.current_password,
        new_password=data.new_password,
        sign_out_all_devices=data.sign_out_all_devices,
        ip=ip,
    )


@get("/activity", responses=problems(*AUTHED))
async def activity(
    ports: Ports,
    device: Device,
    cursor: Annotated[int | None, Parameter(ge=1, le=MAX_CURSOR, required=False)] = None,
    limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = 20,
) -> ActivityPageOut:
    page = await security_activity(ports, device, cursor=cursor, limit=limit)
    return ActivityPageOut.of(page)


router = Router(
    "/v1/account",
    route_handlers=[account, change_password, activity],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["account"],
)
