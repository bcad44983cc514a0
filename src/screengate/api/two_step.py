"""/v1/account/two-step: the authenticator app and recovery codes; and the sign-in's second
step and "confirm it's you" under /v1/auth."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, delete, get, post
from litestar.params import JSONBody
from msgspec import Meta, Struct

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import Body, Password, SignedIn, Token
from screengate.ports import Ports
from screengate.relying_party import relying_party
from screengate.services import passkeys, reauth, two_step

# Six digits, though spaces ("123 456") are forgiven; recovery codes are xxxxx-xxxxx.
Code = Annotated[str, Meta(min_length=1, max_length=16, examples=["123456"])]
RecoveryCode = Annotated[str, Meta(min_length=1, max_length=32, examples=["7hk2m-q9xwd"])]


class TotpConfirm(Body):
    code: Code
    # Turning two-step on is the moment to end every other device's session too.
    sign_out_other_devices: bool = False


class SecondFactor(Body):
    challenge: Token
    code: Code | None = None
    recovery_code: RecoveryCode | None = None


class ReauthIn(Body):
    password: Password | None = None
    code: Code | None = None
    # A passkey's answer to POST /v1/auth/passkey/options.
    credential: dict[str, Any] | None = None


class TotpEnrolment(Struct):
    secret: str
    otpauth_uri: str


class RecoveryCodes(Struct):
    recovery_codes: list[str]
    # Only when turning two-step on asked for it: how many other devices were signed out.
    signed_out_devices: int | None = None


class TwoStepOut(Struct):
    on: bool
    pending: bool
    recovery_codes_left: int
    passkeys: int


@get("/", responses=problems(*AUTHED))
async def status(ports: Ports, device: Device) -> TwoStepOut:
    found = await two_step.status(ports, device)
    return TwoStepOut(found.on, found.pending, found.recovery_codes_left, found.passkeys)


@post("/totp", status_code=201, responses=problems(*AUTHED, 403, 409))
async def start_totp(ports: Ports, device: Device) -> TotpEnrolment:
    enrolment = await two_step.start_totp(ports, device)
    return TotpEnrolment(enrolment.secret, enrolment.otpauth_uri)


@post("/totp/confirm", status_code=200, responses=problems(*AUTHED, 403, 409, 429))
async def confirm_totp(
    data: JSONBody[TotpConfirm], ports: Ports, device: Device, ip: str | None
) -> RecoveryCodes:
    codes, receipt = await two_step.confirm_totp(
        ports, device, data.code, sign_out_other_devices=data.sign_out_other_devices, ip=ip
    )
    return RecoveryCodes(codes, len(receipt.devices) if receipt is not None else None)


@delete("/totp", status_code=204, responses=problems(*AUTHED, 403))
async def turn_off(ports: Ports, device: Device, ip: str | None) -> None:
    await two_step.turn_off(ports, device, ip=ip)


@post("/recovery-codes", status_code=200, responses=problems(*AUTHED, 403, 409))
async def regenerate(ports: Ports, device: Device, ip: str | None) -> RecoveryCodes:
    return RecoveryCodes(await two_step.regenerate_recovery_codes(ports, device, ip=ip))


@post("/sign-in/second-factor", status_code=201, responses=problems(401, 429))
async def second_factor(data: JSONBody[SecondFactor], ports: Ports, ip: str | None) -> SignedIn:
    pair = await two_step.finish_sign_in(
        ports, data.challenge, code=data.code, recovery_code=data.recovery_code, ip=ip
    )
    return SignedIn.of_sign_in(pair)


@post(
    "/reauth",
    status_code=204,
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    responses=problems(*AUTHED, 403, 429),
    description="Confirm it's you: this session may make sensitive changes for a few minutes.",
)
async def confirm_identity(
    request: Request[Any, Any, Any],
    data: JSONBody[ReauthIn],
    ports: Ports,
    device: Device,
    ip: str | None,
) -> None:
    if data.credential is not None:
        rp = relying_party(request)
        await passkeys.reauthenticate_with_passkey(ports, device, rp, data.credential, ip)
        return
    await reauth.reauthenticate(ports, device, password=data.password, code=data.code, ip=ip)


router = Router(
    "/v1/account/two-step",
    route_handlers=[status, start_totp, confirm_totp, turn_off, regenerate],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["two-step"],
)
