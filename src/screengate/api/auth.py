"""/v1/auth: sign up, sign in, refresh, sign out on this device."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import HeaderParameter, JSONBody

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.passkeys import sign_in_options, sign_in_with_passkey
from screengate.api.schemas import (
    Refresh,
    SessionOut,
    SignedIn,
    SignedUp,
    SignIn,
    SignUp,
    Tokens,
)
from screengate.api.two_step import confirm_identity, second_factor
from screengate.ports import Ports
from screengate.services import accounts, auth, sign_out

UserAgent = Annotated[str | None, HeaderParameter(name="user-agent", required=False)]


@post("/sign-up", status_code=201, responses=problems(409, 429, 503))
async def sign_up(data: JSONBody[SignUp], ports: Ports, ip: str | None) -> SignedUp:
    account = await accounts.sign_up(
        ports, email=data.email, password=data.password, plan=data.plan, ip=ip
    )
    return SignedUp(account_id=account.id, email=account.email, plan=account.plan)


@post("/sign-in", status_code=201, responses=problems(401, 409, 429, 503))
async def sign_in(
    data: JSONBody[SignIn], ports: Ports, ip: str | None, user_agent: UserAgent
) -> SignedIn:
    pair = await auth.sign_in(
        ports,
        email=data.email,
        password=data.password,
        device_type=data.device.type,
        device_name=data.device.name,
        device_id=data.device.device_id,
        device_secret=data.device.device_secret,
        ip=ip,
        user_agent=user_agent,
    )
    return SignedIn.of_sign_in(pair)


@post("/refresh", status_code=200, responses=problems(401))
async def refresh(data: JSONBody[Refresh], ports: Ports, ip: str | None) -> Tokens:
    return Tokens.of(await auth.refresh(ports, data.refresh_token, ip))


@post(
    "/sign-out",
    status_code=204,
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    responses=problems(*AUTHED),
)
async def sign_out_here(ports: Ports, device: Device, ip: str | None) -> None:
    await sign_out.sign_out(ports, device, ip)


@get(
    "/session",
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    responses=problems(*AUTHED),
    description="Is this device still signed in? The revocation check every request makes, "
    "and nothing else.",
    sync_to_thread=False,
)
def session(device: Device) -> SessionOut:
    return SessionOut(
        account_id=device.account_id,
        device_id=device.device_id,
        session_id=device.session_id,
        access_token_expires_at=device.expires_at,
    )


router = Router(
    "/v1/auth",
    route_handlers=[
        sign_up,
        sign_in,
        second_factor,
        sign_in_options,
        sign_in_with_passkey,
        refresh,
        sign_out_here,
        session,
        confirm_identity,
    ],
    tags=["auth"],
)
