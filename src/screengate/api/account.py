"""/v1/account: the account, its password and its security activity."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import AccountOut, ActivityPageOut, ChangeEmail, ChangePassword
from screengate.ports import Ports
from screengate.services import accounts, email_change
from screengate.services.activity import MAX_CURSOR, MAX_PAGE, security_activity


@get("/", responses=problems(*AUTHED))
async def account(ports: Ports, device: Device) -> AccountOut:
    return AccountOut.of(await accounts.get_account(ports, device))


@post("/password", status_code=204, responses=problems(*AUTHED, 403, 429, 503))
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


@post(
    "/email",
    status_code=202,
    responses=problems(*AUTHED, 403, 409, 429, 503),
    description="Mail a confirmation link to the new address; nothing changes until it is "
    "followed (POST /v1/account/email/confirm). The old address is then told, with a link "
    "to undo the change for 7 days.",
)
async def change_email(
    data: JSONBody[ChangeEmail], ports: Ports, device: Device, ip: str | None
) -> None:
    await email_change.request_email_change(
        ports, device, new_email=data.new_email, password=data.password, ip=ip
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
    route_handlers=[account, change_password, change_email, activity],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["account"],
)
